"""A shipment's status from its packages', and what makes two tracking events the same."""

from __future__ import annotations

import datetime as dt

from oms.fulfillment import tracking
from oms.fulfillment.models import TrackingStatus as S
from oms.fulfillment.tracking_formats import TrackingEventData
from oms.fulfillment.tracking_formats import TrackingStatus as Normalized

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)


def event(**changes: object) -> TrackingEventData:
    values: dict[str, object] = {
        "status": Normalized.IN_TRANSIT,
        "raw_status": "in_transit",
        "description": "Departed facility",
        "location": "MEMPHIS, TN",
        "occurred_at": AT,
        **changes,
    }
    return TrackingEventData(**values)  # type: ignore[arg-type]


def test_a_shipment_is_delivered_only_when_every_package_is() -> None:
    assert tracking.shipment_status([S.DELIVERED, S.DELIVERED]) == S.DELIVERED
    assert tracking.shipment_status([S.DELIVERED, S.OUT_FOR_DELIVERY]) == S.OUT_FOR_DELIVERY
    assert tracking.shipment_status([S.IN_TRANSIT, S.PRE_TRANSIT]) == S.PRE_TRANSIT


def test_a_package_in_trouble_shows_on_its_shipment() -> None:
    assert tracking.shipment_status([S.DELIVERED, S.EXCEPTION]) == S.EXCEPTION
    assert tracking.shipment_status([S.EXCEPTION, S.RETURNED_TO_SENDER]) == S.RETURNED_TO_SENDER
    assert tracking.shipment_status([]) == S.PRE_TRANSIT


def test_the_same_event_sent_again_has_the_same_fingerprint_whatever_its_offset() -> None:
    again = event(occurred_at=AT.astimezone(dt.timezone(dt.timedelta(hours=-6))))

    assert tracking.fingerprint(event()) == tracking.fingerprint(again)
    assert tracking.fingerprint(event()) != tracking.fingerprint(event(location="DALLAS, TX"))
    assert tracking.fingerprint(event()) != tracking.fingerprint(event(status=Normalized.DELIVERED))
    assert len(tracking.fingerprint(event())) == 64
