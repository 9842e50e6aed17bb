"""A package's way from the warehouse to the door, and the EasyPost webhooks that tell it.

Pure: the scans of a journey (label created at the warehouse, origin scan, a hub on the
way, the destination facility, out for delivery, delivered, and now and then an
exception before delivery) come from a `random.Random` seeded by the run's seed and the
tracking number, so one package travels the same way whenever it is taken. The webhook
body is an EasyPost `tracker.updated` Event whose Tracker carries every scan so far, as
EasyPost sends it; times are ISO 8601 in UTC with a `Z`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Scan(StrEnum):
    """EasyPost's status words the simulated carrier sends."""

    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILURE = "failure"
    """An exception: Item OMS reads EasyPost's `failure` as one."""


RANK = {
    Scan.PRE_TRANSIT: 0.0,
    Scan.IN_TRANSIT: 1.0,
    Scan.FAILURE: 1.5,
    Scan.OUT_FOR_DELIVERY: 2.0,
    Scan.DELIVERED: 3.0,
}
"""How far along a status is; a journey taken up again resumes after its package's status."""

RESUMABLE = {
    "pre_transit": Scan.PRE_TRANSIT,
    "in_transit": Scan.IN_TRANSIT,
    "exception": Scan.FAILURE,
    "out_for_delivery": Scan.OUT_FOR_DELIVERY,
}
"""Item OMS's package statuses the carrier still has work for, as its own scan words."""


@dataclass(frozen=True)
class Place:
    """Where a scan happened, as EasyPost's TrackingLocation has it (city in capitals)."""

    city: str
    state: str | None
    zip: str | None
    country: str = "US"
    at: tuple[float, float] | None = None
    """Latitude and longitude, to find the hub on the way; None: unknown."""

    def as_json(self) -> dict[str, Any]:
        return {
            "object": "TrackingLocation",
            "city": self.city.upper(),
            "state": self.state,
            "country": self.country,
            "zip": self.zip,
        }

    @property
    def line(self) -> str:
        """`DALLAS TX, 75207`, as EasyPost writes origin and destination."""
        head = " ".join(p for p in (self.city.upper(), self.state) if p)
        return f"{head}, {self.zip}" if self.zip else head


def place_of(address: Mapping[str, Any] | None) -> Place | None:
    """The place of an Item OMS address (`city`, `region`, `postal_code`, `country`, and a
    warehouse's `latitude`/`longitude` beside it); None without a city."""
    if not address or not isinstance(address.get("city"), str) or not address["city"].strip():
        return None
    region = address.get("region")
    latitude, longitude = address.get("latitude"), address.get("longitude")
    at = (
        (float(latitude), float(longitude))
        if isinstance(latitude, int | float) and isinstance(longitude, int | float)
        else _STATE_CENTRES.get(str(region or "").upper())
    )
    return Place(
        city=address["city"].strip(),
        state=str(region) if region else None,
        zip=str(address["postal_code"]) if address.get("postal_code") else None,
        country=str(address.get("country") or "US"),
        at=at,
    )


HUBS: tuple[Place, ...] = (
    Place("Louisville", "KY", "40209", at=(38.17, -85.74)),
    Place("Hodgkins", "IL", "60525", at=(41.77, -87.86)),
    Place("Ontario", "CA", "91761", at=(34.06, -117.60)),
    Place("Atlanta", "GA", "30336", at=(33.74, -84.55)),
    Place("Mesquite", "TX", "75149", at=(32.77, -96.60)),
    Place("Secaucus", "NJ", "07094", at=(40.79, -74.06)),
    Place("Sparks", "NV", "89431", at=(39.53, -119.75)),
    Place("Salt Lake City", "UT", "84104", at=(40.75, -111.95)),
    Place("Denver", "CO", "80239", at=(39.78, -104.83)),
    Place("Memphis", "TN", "38118", at=(35.06, -89.93)),
    Place("Indianapolis", "IN", "46241", at=(39.72, -86.29)),
    Place("Columbus", "OH", "43228", at=(39.96, -83.12)),
    Place("Lenexa", "KS", "66219", at=(38.95, -94.76)),
    Place("Phoenix", "AZ", "85043", at=(33.42, -112.17)),
    Place("Portland", "OR", "97218", at=(45.58, -122.59)),
    Place("Philadelphia", "PA", "19153", at=(39.88, -75.24)),
)
"""Sorting hubs a package passes through: the one off its way by the fewest kilometres."""

_STATE_CENTRES: Mapping[str, tuple[float, float]] = {
    "AL": (32.8, -86.8), "AK": (61.4, -152.3), "AZ": (34.2, -111.7), "AR": (34.9, -92.4),
    "CA": (37.2, -119.4), "CO": (39.0, -105.5), "CT": (41.6, -72.7), "DE": (39.0, -75.5),
    "DC": (38.9, -77.0), "FL": (28.6, -82.4), "GA": (32.7, -83.4), "HI": (20.8, -156.3),
    "ID": (44.4, -114.6), "IL": (40.0, -89.2), "IN": (39.9, -86.3), "IA": (42.1, -93.5),
    "KS": (38.5, -98.4), "KY": (37.5, -85.3), "LA": (31.1, -92.0), "ME": (45.4, -69.2),
    "MD": (39.0, -76.8), "MA": (42.3, -71.8), "MI": (44.3, -85.4), "MN": (46.3, -94.3),
    "MS": (32.7, -89.7), "MO": (38.4, -92.5), "MT": (47.0, -109.6), "NE": (41.5, -99.8),
    "NV": (39.3, -116.6), "NH": (43.7, -71.6), "NJ": (40.2, -74.7), "NM": (34.4, -106.1),
    "NY": (42.9, -75.5), "NC": (35.6, -79.4), "ND": (47.5, -100.5), "OH": (40.3, -82.8),
    "OK": (35.6, -97.5), "OR": (43.9, -120.6), "PA": (40.9, -77.8), "RI": (41.7, -71.5),
    "SC": (33.9, -80.9), "SD": (44.4, -100.2), "TN": (35.9, -86.4), "TX": (31.5, -99.3),
    "UT": (39.3, -111.7), "VT": (44.1, -72.7), "VA": (37.5, -78.9), "WA": (47.4, -120.5),
    "WV": (38.6, -80.6), "WI": (44.6, -89.9), "WY": (43.0, -107.6),
}  # fmt: skip
"""Rough centres of the US states, to place a ship-to known only by its state."""


@dataclass(frozen=True)
class Delays:
    """Seconds between a package's scans."""

    in_transit: float = 5.0
    """From the label to the origin scan."""
    hub: float = 5.0
    """From one facility to the next (origin → hub → destination)."""
    out_for_delivery: float = 5.0
    """From the destination facility to the truck."""
    delivered: float = 5.0
    """From the truck to the door."""
    exception: float = 10.0
    """From an exception to the next scan (the second attempt, the weather clearing)."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"the {name} delay may not be negative")

    def scaled(self, speed: float) -> Delays:
        """The same journey `speed` times faster."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        return Delays(**{name: value / speed for name, value in vars(self).items()})


@dataclass(frozen=True)
class Step:
    """One scan still to come: after `wait` seconds, at `place`."""

    wait: float
    status: Scan
    detail: str
    message: str
    place: Place | None


@dataclass(frozen=True)
class Journey:
    """A package's scans from where it stands to the door, decided when it is taken."""

    tracking_code: str
    carrier: str
    service: str | None
    origin: Place | None
    destination: Place | None
    steps: tuple[Step, ...]

    @property
    def has_exception(self) -> bool:
        return any(step.status is Scan.FAILURE for step in self.steps)

    @property
    def tracker_id(self) -> str:
        """EasyPost's id of this package's tracker, stable per tracking number."""
        return "trk_" + hashlib.sha256(self.tracking_code.encode()).hexdigest()[:32]


def nearest_hub(origin: Place | None, destination: Place | None, rng: random.Random) -> Place:
    """The hub that lengthens the way from origin to destination the least; a random one
    when either end has no coordinates."""
    start = origin.at if origin else None
    end = destination.at if destination else None
    if start is None or end is None:
        return rng.choice(HUBS)

    def detour(hub: Place) -> float:
        assert hub.at is not None  # every hub has its coordinates
        return _km(start, hub.at) + _km(hub.at, end)

    return min(HUBS, key=detour)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def plan_journey(
    tracking_code: str,
    *,
    carrier: str,
    service: str | None = None,
    origin: Place | None,
    destination: Place | None,
    delays: Delays,
    exception_rate: float,
    seed: int,
    status: str = "pre_transit",
) -> Journey:
    """The scans left for a package whose Item OMS status is `status`: all of them for a
    new one (pre_transit), else those past where it stands."""
    if not 0.0 <= exception_rate <= 1.0:
        raise ValueError("exception_rate is a probability, between 0 and 1")
    rng = random.Random(f"{seed}:{tracking_code}")
    hub = nearest_hub(origin, destination, rng)
    exception = rng.random() < exception_rate
    at_the_door = rng.random() < 0.5
    steps = [
        Step(0.0, Scan.PRE_TRANSIT, "label_created",
             "Shipper created a label, the carrier has not received the package yet", origin),
        Step(delays.in_transit, Scan.IN_TRANSIT, "arrived_at_facility", "Origin Scan", origin),
        Step(delays.hub, Scan.IN_TRANSIT, "arrived_at_facility", "Arrived at Facility", hub),
    ]  # fmt: skip
    if exception and not at_the_door:
        steps.append(
            Step(delays.hub / 2, Scan.FAILURE, "weather_delay",
                 "A severe weather condition has delayed delivery", hub)
        )  # fmt: skip
    after = delays.exception if exception and not at_the_door else delays.hub
    steps += [
        Step(after, Scan.IN_TRANSIT, "arrived_at_destination", "Destination Scan", destination),
        Step(delays.out_for_delivery, Scan.OUT_FOR_DELIVERY, "out_for_delivery",
             "Out For Delivery Today", destination),
    ]  # fmt: skip
    if exception and at_the_door:
        steps += [
            Step(delays.delivered, Scan.FAILURE, "delivery_exception",
                 "The receiver was not available for delivery, a second attempt will be made",
                 destination),
            Step(delays.exception, Scan.OUT_FOR_DELIVERY, "out_for_delivery",
                 "Out For Delivery Today", destination),
        ]  # fmt: skip
    steps.append(
        Step(delays.delivered, Scan.DELIVERED, "arrived_at_destination",
             "Delivered: Front Door", destination)
    )  # fmt: skip
    return Journey(
        tracking_code=tracking_code,
        carrier=carrier,
        service=service,
        origin=origin,
        destination=destination,
        steps=tuple(_from(steps, status)),
    )


def _from(steps: Sequence[Step], status: str) -> Sequence[Step]:
    """The steps left for a package at `status`: a pre_transit one starts at the label, a
    later one at the first step further along than it is, with no exception left to
    come (it had its trouble, if any, before the carrier was restarted)."""
    here = RESUMABLE.get(status)
    if here is None:
        raise ValueError(f"a package at {status!r} has no journey left")
    if here is Scan.PRE_TRANSIT:
        return steps
    left: list[Step] = []
    for step in steps:
        further = RANK[step.status] > RANK[here] and step.status is not Scan.FAILURE
        if further and (not left or left[-1].status is not step.status):
            left.append(step)
    return left


@dataclass(frozen=True)
class Scanned:
    """A step as it happened: when."""

    step: Step
    at: dt.datetime


def iso_z(at: dt.datetime) -> str:
    """`2026-11-27T12:00:00Z`: UTC, whole seconds, as EasyPost writes times."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan_time(now: dt.datetime, previous: dt.datetime | None) -> dt.datetime:
    """The time of the next scan: now to the second, and a second after the one before at
    least, so scans keep their order when read back by time."""
    at = now.astimezone(dt.UTC).replace(microsecond=0)
    if previous is not None and at <= previous:
        return previous + dt.timedelta(seconds=1)
    return at


def estimated_delivery(journey: Journey, start: dt.datetime) -> dt.datetime:
    """When the package should arrive if nothing goes wrong: its steps' waits from `start`,
    an exception's detour left out (the carrier does not plan one)."""
    seconds = sum(step.wait for step in journey.steps if step.status is not Scan.FAILURE)
    return start + dt.timedelta(seconds=math.ceil(seconds))


def tracker_event(
    journey: Journey,
    scanned: Sequence[Scanned],
    *,
    created_at: dt.datetime,
    estimated: dt.datetime,
    previous_status: str | None,
) -> dict[str, Any]:
    """The EasyPost `tracker.updated` Event after the scans so far (oldest first)."""
    if not scanned:
        raise ValueError("a tracker update needs one scan at least")
    last = scanned[-1]
    tracker = {
        "id": journey.tracker_id,
        "object": "Tracker",
        "mode": "test",
        "tracking_code": journey.tracking_code,
        "status": last.step.status.value,
        "status_detail": last.step.detail,
        "created_at": iso_z(created_at),
        "updated_at": iso_z(last.at),
        "signed_by": None,
        "weight": None,
        "est_delivery_date": iso_z(estimated),
        "shipment_id": None,
        "carrier": journey.carrier,
        "tracking_details": [_detail(journey, s) for s in scanned],
        "carrier_detail": {
            "object": "CarrierDetail",
            "service": journey.service,
            "origin_location": journey.origin.line if journey.origin else None,
            "destination_location": journey.destination.line if journey.destination else None,
        },
        "fees": [],
        "public_url": None,
    }
    return {
        "object": "Event",
        "id": event_id(journey.tracking_code, len(scanned)),
        "mode": "test",
        "description": "tracker.updated",
        "previous_attributes": {"status": previous_status} if previous_status else {},
        "created_at": iso_z(last.at),
        "updated_at": iso_z(last.at),
        "status": "pending",
        "pending_urls": [],
        "completed_urls": [],
        "result": tracker,
    }


def _detail(journey: Journey, scanned: Scanned) -> dict[str, Any]:
    step = scanned.step
    where = step.place.as_json() if step.place else _nowhere()
    return {
        "object": "TrackingDetail",
        "message": step.message,
        "description": None,
        "status": step.status.value,
        "status_detail": step.detail,
        "datetime": iso_z(scanned.at),
        "source": journey.carrier,
        "carrier_code": None,
        "tracking_location": where,
    }


def _nowhere() -> dict[str, Any]:
    return {"object": "TrackingLocation", "city": None, "state": None, "country": None, "zip": None}


def event_id(tracking_code: str, scans: int) -> str:
    """The Event's id: the same for the same scan of the same package, so a webhook sent
    again after a lost answer is the same event."""
    digest = hashlib.sha256(f"{tracking_code}:{scans}".encode()).hexdigest()
    return f"evt_{digest[:32]}"
