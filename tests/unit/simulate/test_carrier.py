"""The simulated carrier's pure parts: a package's journey, the EasyPost webhooks that tell
it (read back by Item OMS's own parser), and the packages it takes from a shipments list."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.fulfillment import tracking_formats
from oms.fulfillment.tracking_formats import TrackingStatus, TrackingUpdate
from oms.simulate import journey
from oms.simulate.carrier import Parcel, parcels_of
from oms.simulate.journey import Delays, Journey, Place, Scan, Scanned

DALLAS = journey.place_of(
    {"city": "Dallas", "region": "TX", "postal_code": "75207", "country": "US",
     "latitude": 32.7767, "longitude": -96.7970}
)  # fmt: skip
NEW_YORK = journey.place_of(
    {"city": "New York", "region": "NY", "postal_code": "10118", "country": "US"}
)
AS_ITEM_OMS_READS_IT = {
    Scan.PRE_TRANSIT: TrackingStatus.PRE_TRANSIT,
    Scan.IN_TRANSIT: TrackingStatus.IN_TRANSIT,
    Scan.OUT_FOR_DELIVERY: TrackingStatus.OUT_FOR_DELIVERY,
    Scan.DELIVERED: TrackingStatus.DELIVERED,
    Scan.FAILURE: TrackingStatus.EXCEPTION,
}
START = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
TRACKING = "1Z999AA10123456784"


def a_journey(
    *, exception_rate: float = 0.0, status: str = "pre_transit", code: str = TRACKING
) -> Journey:
    return journey.plan_journey(
        code,
        carrier="UPS",
        service="GROUND",
        origin=DALLAS,
        destination=NEW_YORK,
        delays=Delays(),
        exception_rate=exception_rate,
        seed=7,
        status=status,
    )


def walk(trip: Journey) -> list[dict[str, Any]]:
    """Every webhook of the journey, as if each scan happened a minute after the last."""
    scanned: list[Scanned] = []
    events = []
    previous: str | None = None
    estimated = journey.estimated_delivery(trip, START)
    for n, step in enumerate(trip.steps):
        at = journey.scan_time(START + dt.timedelta(minutes=n), scanned[-1].at if scanned else None)
        scanned.append(Scanned(step, at))
        events.append(
            journey.tracker_event(
                trip, scanned, created_at=START, estimated=estimated, previous_status=previous
            )
        )
        previous = step.status.value
    return events


def parsed(event: dict[str, Any]) -> TrackingUpdate:
    return tracking_formats.parse("easypost", json.dumps(event).encode())


def test_a_new_package_goes_from_label_to_door_in_the_order_a_carrier_scans_it() -> None:
    trip = a_journey()

    assert [step.status for step in trip.steps] == [
        Scan.PRE_TRANSIT,
        Scan.IN_TRANSIT,
        Scan.IN_TRANSIT,
        Scan.IN_TRANSIT,
        Scan.OUT_FOR_DELIVERY,
        Scan.DELIVERED,
    ]
    assert not trip.has_exception


def test_the_last_webhook_reads_back_as_delivered_with_every_scan_oldest_first() -> None:
    update = parsed(walk(a_journey())[-1])

    assert update.tracking_number == TRACKING
    assert update.carrier.code == "UPS"
    assert update.status is TrackingStatus.DELIVERED
    assert [e.status for e in update.events] == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    assert [e.occurred_at for e in update.events] == [
        START + dt.timedelta(minutes=n) for n in range(6)
    ]


def test_each_webhook_carries_the_scans_so_far_and_the_newest_as_its_status() -> None:
    events = walk(a_journey())

    assert [len(e["result"]["tracking_details"]) for e in events] == [1, 2, 3, 4, 5, 6]
    assert [parsed(e).status for e in events] == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    assert events[0]["previous_attributes"] == {}
    assert events[1]["previous_attributes"] == {"status": "pre_transit"}


def test_the_package_leaves_from_the_warehouse_and_arrives_at_the_ship_to() -> None:
    update = parsed(walk(a_journey())[-1])

    assert update.events[0].location == "DALLAS, TX 75207, US"
    assert update.events[-1].location == "NEW YORK, NY 10118, US"
    hub = update.events[2].location
    assert hub is not None
    assert hub not in (update.events[0].location, update.events[-1].location)


def test_the_hub_on_the_way_is_the_one_that_lengthens_it_least() -> None:
    reno = journey.place_of(
        {"city": "Reno", "region": "NV", "latitude": 39.53, "longitude": -119.81}
    )
    san_francisco = journey.place_of({"city": "San Francisco", "region": "CA"})

    hub = journey.nearest_hub(reno, san_francisco, random.Random(0))

    assert hub.city == "Sparks"


def test_the_webhook_has_easypost_s_event_shape_with_times_in_utc_z() -> None:
    event = walk(a_journey())[1]
    tracker = event["result"]

    assert event["object"] == "Event"
    assert event["description"] == "tracker.updated"
    assert event["id"].startswith("evt_")
    assert tracker["object"] == "Tracker"
    assert tracker["id"].startswith("trk_")
    assert tracker["tracking_code"] == TRACKING
    assert tracker["carrier"] == "UPS"
    assert tracker["updated_at"] == "2026-11-27T12:01:00Z"
    for detail in tracker["tracking_details"]:
        assert detail["object"] == "TrackingDetail"
        assert detail["datetime"].endswith("Z")
        assert detail["tracking_location"]["object"] == "TrackingLocation"
    assert tracker["carrier_detail"]["origin_location"] == "DALLAS TX, 75207"


def test_the_same_scan_of_the_same_package_is_the_same_event() -> None:
    first, again = walk(a_journey())[2], walk(a_journey())[2]

    assert first["id"] == again["id"]
    assert first["id"] != walk(a_journey())[3]["id"]


def test_estimated_delivery_is_the_day_the_planned_waits_end() -> None:
    trip = a_journey()
    update = parsed(walk(trip)[0])

    expected = START + dt.timedelta(seconds=sum(step.wait for step in trip.steps))
    assert update.estimated_delivery == expected.date()


def test_a_package_meeting_an_exception_is_delivered_after_it() -> None:
    trip = a_journey(exception_rate=1.0)
    statuses = [parsed(e).status for e in walk(trip)]

    assert trip.has_exception
    assert TrackingStatus.EXCEPTION in statuses
    assert statuses.index(TrackingStatus.EXCEPTION) < len(statuses) - 1
    assert statuses[-1] is TrackingStatus.DELIVERED


def test_exceptions_happen_both_on_the_way_and_at_the_door() -> None:
    details = {
        step.detail
        for n in range(40)
        for step in a_journey(exception_rate=1.0, code=f"1Z{n:016d}").steps
        if step.status is Scan.FAILURE
    }

    assert details == {"weather_delay", "delivery_exception"}


def test_the_same_seed_walks_the_same_package_the_same_way() -> None:
    assert a_journey(exception_rate=0.5) == a_journey(exception_rate=0.5)


def test_a_package_already_in_transit_resumes_at_out_for_delivery() -> None:
    trip = a_journey(status="in_transit", exception_rate=1.0)

    assert [step.status for step in trip.steps] == [Scan.OUT_FOR_DELIVERY, Scan.DELIVERED]


def test_a_package_in_exception_resumes_once_out_for_delivery_then_delivered() -> None:
    trip = a_journey(status="exception", exception_rate=1.0)

    assert [step.status for step in trip.steps] == [Scan.OUT_FOR_DELIVERY, Scan.DELIVERED]


def test_a_delivered_package_has_no_journey_left() -> None:
    with pytest.raises(ValueError, match="no journey left"):
        a_journey(status="delivered")


def test_scan_times_only_go_forward_even_when_the_clock_does_not() -> None:
    first = journey.scan_time(START, None)
    second = journey.scan_time(START, first)
    third = journey.scan_time(START - dt.timedelta(seconds=5), second)

    assert first < second < third
    assert journey.iso_z(third) == "2026-11-27T12:00:02Z"


def test_delays_scaled_by_speed_two_are_half_as_long() -> None:
    assert Delays(in_transit=4, hub=2, out_for_delivery=6, delivered=8, exception=10).scaled(
        2
    ) == Delays(in_transit=2, hub=1, out_for_delivery=3, delivered=4, exception=5)


def test_a_ship_to_known_only_by_its_state_is_placed_at_the_state_s_centre() -> None:
    place = journey.place_of({"city": "Austin", "region": "TX", "postal_code": "78701"})

    assert place == Place("Austin", "TX", "78701", "US", at=(31.5, -99.3))
    assert journey.place_of({"city": " ", "region": "TX"}) is None


@given(
    code=st.from_regex(r"1Z[0-9A-Z]{16}", fullmatch=True),
    seed=st.integers(min_value=0, max_value=2**32),
    exception_rate=st.floats(min_value=0, max_value=1),
)
def test_every_journey_from_the_label_ends_delivered_and_every_webhook_parses_back(
    code: str, seed: int, exception_rate: float
) -> None:
    trip = journey.plan_journey(
        code,
        carrier="UPS",
        origin=DALLAS,
        destination=NEW_YORK,
        delays=Delays(),
        exception_rate=exception_rate,
        seed=seed,
    )
    events = walk(trip)

    assert trip.steps[0].status is Scan.PRE_TRANSIT
    assert trip.steps[-1].status is Scan.DELIVERED
    for event, step in zip(events, trip.steps, strict=True):
        update = parsed(event)
        assert update.status is AS_ITEM_OMS_READS_IT[step.status]
        assert update.events[-1].description == step.message


def a_shipment(**changes: Any) -> dict[str, Any]:
    shipment = {
        "id": 3,
        "number": "SH-000003",
        "order_id": 41,
        "warehouse": "DAL",
        "carrier": "UPS",
        "service": "GROUND",
        "status": "pre_transit",
        "packages": [
            {"tracking_number": "1ZAAA", "carrier": "UPS", "status": "pre_transit"},
            {"tracking_number": "1ZBBB", "carrier": "UPS", "status": "delivered"},
            {"tracking_number": "1ZCCC", "carrier": "UPS", "status": "in_transit"},
        ],
    }
    return {**shipment, **changes}


def test_the_carrier_takes_the_packages_of_a_shipment_still_on_their_way() -> None:
    parcels = parcels_of(a_shipment())

    assert parcels == [
        Parcel("1ZAAA", "UPS", "GROUND", "pre_transit", "DAL", 41, "SH-000003"),
        Parcel("1ZCCC", "UPS", "GROUND", "in_transit", "DAL", 41, "SH-000003"),
    ]


def test_a_package_without_its_own_status_or_carrier_takes_the_shipment_s() -> None:
    parcels = parcels_of(a_shipment(packages=[{"tracking_number": "1ZDDD"}], carrier="FEDEX"))

    assert [(p.carrier, p.status) for p in parcels] == [("FEDEX", "pre_transit")]
