"""Tracking webhooks as the providers send them, read into one `TrackingUpdate`.

Two shapes are understood:

- EasyPost: an Event (`{"object": "Event", "description": "tracker.updated",
  "result": <Tracker>}`) or a bare Tracker (`tracking_code`, `status`, `carrier`,
  `est_delivery_date`, `tracking_details[]` with `datetime`, `status`, `message`,
  `tracking_location`). Signed with `X-Hmac-Signature: hmac-sha256-hex=<hex>`,
  keyed by the secret in Unicode NFKD form.
- AfterShip: `{"event": "tracking_update", "msg": {tracking_number, slug, tag,
  subtag, expected_delivery, checkpoints[]}}`. Signed with
  `aftership-hmac-sha256: <base64>`.

Statuses become DOMAIN.md's tracking statuses (`TrackingStatus`); the provider's
own word is kept beside them (`raw_status`, `raw_detail`). A payload that is
not of its provider's shape is refused whole, with one problem per bad field at
its JSON path (`msg.checkpoints[2].checkpoint_time`), so nothing half-read is
recorded. A provider status this module does not know is refused the same way
rather than guessed at.

Times are aware UTC; a time without an offset is taken to be UTC (AfterShip
sometimes sends the checkpoint's local time without one). Estimated delivery is
a date, as the carrier stated it.

Pure: no database, no clock, no network.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from oms.errors import NotFound, Problem, ValidationFailed
from oms.fulfillment.carriers import Carrier, carrier_or_other, normalize_tracking_number
from oms.kit.clock import as_utc

INVALID_PAYLOAD = "tracking.invalid_payload"


class TrackingStatus(StrEnum):
    """A package's tracking status, the same whatever the provider (DOMAIN.md)."""

    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class TrackingProvider(StrEnum):
    EASYPOST = "easypost"
    AFTERSHIP = "aftership"


@dataclass(frozen=True)
class TrackingEventData:
    """One scan or status change of a package, oldest first in `TrackingUpdate.events`."""

    status: TrackingStatus
    raw_status: str
    """The provider's status word (EasyPost `status`, AfterShip `tag`)."""
    description: str | None
    location: str | None
    """City, state and postcode, country, as one line ("HOUSTON, TX 77063")."""
    occurred_at: dt.datetime
    raw_detail: str | None = None
    """The provider's finer status (EasyPost `status_detail`, AfterShip `subtag`)."""


@dataclass(frozen=True)
class TrackingUpdate:
    """What a tracking webhook says of one package: where it stands now, and its history."""

    provider: TrackingProvider
    tracking_number: str
    carrier: Carrier
    status: TrackingStatus
    raw_status: str
    estimated_delivery: dt.date | None
    events: list[TrackingEventData]
    raw_detail: str | None = None


class UnknownTrackingProvider(NotFound):
    def __init__(self, provider: str) -> None:
        super().__init__("tracking provider", provider, code="tracking.unknown_provider")


class NotATrackingEvent(ValidationFailed):
    """A well-formed webhook about something else (an EasyPost `batch.created`, …).

    Providers send every event to one address; the caller may answer it as received
    and ignore it.
    """

    code = "tracking.not_a_tracking_event"

    def __init__(self, path: str, value: object) -> None:
        super().__init__(
            [Problem(path, f"{value!r} is not a tracking event", self.code)],
            message="the webhook is not a tracking event",
        )
        self.value = value


# -- statuses --------------------------------------------------------------------------------

EASYPOST_STATUSES: Mapping[str, TrackingStatus] = {
    "unknown": TrackingStatus.PRE_TRANSIT,
    "pre_transit": TrackingStatus.PRE_TRANSIT,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "available_for_pickup": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "return_to_sender": TrackingStatus.RETURNED_TO_SENDER,
    "failure": TrackingStatus.EXCEPTION,
    "cancelled": TrackingStatus.EXCEPTION,
    "error": TrackingStatus.EXCEPTION,
}
"""EasyPost tracker statuses → tracking statuses."""

AFTERSHIP_TAGS: Mapping[str, TrackingStatus] = {
    "Pending": TrackingStatus.PRE_TRANSIT,
    "InfoReceived": TrackingStatus.PRE_TRANSIT,
    "InTransit": TrackingStatus.IN_TRANSIT,
    "OutForDelivery": TrackingStatus.OUT_FOR_DELIVERY,
    "AttemptFail": TrackingStatus.EXCEPTION,
    "Delivered": TrackingStatus.DELIVERED,
    "AvailableForPickup": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "Exception": TrackingStatus.EXCEPTION,
    "Expired": TrackingStatus.EXCEPTION,
}
"""AfterShip tags → tracking statuses."""

AFTERSHIP_SUBTAGS: Mapping[str, TrackingStatus] = {
    "Exception_010": TrackingStatus.RETURNED_TO_SENDER,  # returning to sender
    "Exception_011": TrackingStatus.RETURNED_TO_SENDER,  # returned to sender
}
"""AfterShip subtags that say more than their tag: a return is an `Exception` there."""


_TAGS_FOLDED = {name.lower(): status for name, status in AFTERSHIP_TAGS.items()}
_SUBTAGS_FOLDED = {name.lower(): status for name, status in AFTERSHIP_SUBTAGS.items()}


def easypost_status(raw: str) -> TrackingStatus | None:
    """The tracking status of an EasyPost status word (any case), if it is one."""
    return EASYPOST_STATUSES.get(raw.strip().lower())


def aftership_status(tag: str, subtag: str | None = None) -> TrackingStatus | None:
    """The tracking status of an AfterShip tag (any case) and subtag, if the tag is one."""
    status = _TAGS_FOLDED.get(tag.strip().lower())
    if status is not None and subtag is not None:
        return _SUBTAGS_FOLDED.get(subtag.strip().lower(), status)
    return status


# -- reading a payload -----------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _at(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


class _Reader:
    """Reads fields at JSON paths, noting every problem instead of stopping at the first.

    A missing or bad required field reads as a placeholder ("", the epoch) and a
    problem; `finish()` raises them all together.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def refuse(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, INVALID_PAYLOAD))

    def finish(self) -> None:
        if self.problems:
            raise ValidationFailed(
                self.problems, message="The tracking webhook is not valid", code=INVALID_PAYLOAD
            )

    def mapping(self, value: object, path: str) -> Mapping[str, object]:
        if isinstance(value, Mapping):
            return value
        self.refuse(path, "is required" if value is None else "must be an object")
        return {}

    def optional_mapping(self, value: object, path: str) -> Mapping[str, object]:
        return {} if value is None else self.mapping(value, path)

    def text(self, obj: Mapping[str, object], key: str, base: str) -> str:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        missing = value is None or isinstance(value, str)
        self.refuse(_at(base, key), "is required" if missing else "must be a string")
        return ""

    def optional_text(self, obj: Mapping[str, object], key: str, base: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        self.refuse(_at(base, key), "must be a string or null")
        return None

    def time(self, obj: Mapping[str, object], key: str, base: str) -> dt.datetime:
        text = self.text(obj, key, base)
        if not text:
            return _EPOCH
        try:
            return as_utc(dt.datetime.fromisoformat(text))
        except ValueError:
            self.refuse(_at(base, key), f"{text!r} is not an ISO 8601 date and time")
            return _EPOCH

    def date(self, obj: Mapping[str, object], key: str, base: str) -> dt.date | None:
        text = self.optional_text(obj, key, base)
        if text is None:
            return None
        try:
            # the day as the carrier states it, in its own offset: not moved to UTC
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            self.refuse(_at(base, key), f"{text!r} is not an ISO 8601 date")
            return None

    def items(
        self, obj: Mapping[str, object], key: str, base: str
    ) -> list[tuple[str, Mapping[str, object]]]:
        value = obj.get(key)
        if value is None:
            return []
        path = _at(base, key)
        if not isinstance(value, list):
            self.refuse(path, "must be a list")
            return []
        found = []
        for i, item in enumerate(value):
            at = f"{path}[{i}]"
            if isinstance(item, Mapping):
                found.append((at, item))
            else:  # its fields are not read: one problem, not one per missing field
                self.refuse(at, "must be an object")
        return found

    def status(
        self, found: TrackingStatus | None, raw: str, path: str, known: Iterable[str]
    ) -> TrackingStatus:
        if found is None:
            if raw:
                self.refuse(path, f"{raw!r} is not one of {', '.join(known)}")
            return TrackingStatus.PRE_TRANSIT
        return found


def _location(
    city: str | None, state: str | None, postcode: str | None, country: str | None
) -> str | None:
    """`HOUSTON`, `TX`, `77063`, `US` → "HOUSTON, TX 77063, US"; None when all are empty."""
    region = " ".join(p for p in (state, postcode) if p)
    text = ", ".join(p for p in (city, region, country) if p)
    return text or None


def _chronological(events: list[TrackingEventData]) -> list[TrackingEventData]:
    return sorted(events, key=lambda event: event.occurred_at)


def parse_easypost(data: object) -> TrackingUpdate:
    """An EasyPost tracker Event (`tracker.created`/`tracker.updated`) or bare Tracker."""
    read = _Reader()
    root = read.mapping(data, "body")
    read.finish()
    base = ""
    tracker = root
    kind = root.get("object")
    if kind not in (None, "Event", "Tracker"):
        raise NotATrackingEvent("object", kind)
    if kind == "Event":
        description = root.get("description")
        if description not in ("tracker.created", "tracker.updated"):
            raise NotATrackingEvent("description", description)
        base = "result"
        tracker = read.mapping(root.get("result"), base)
        read.finish()

    tracking_code = read.text(tracker, "tracking_code", base)
    raw_status = read.text(tracker, "status", base)
    status = read.status(
        easypost_status(raw_status), raw_status, _at(base, "status"), EASYPOST_STATUSES
    )
    carrier = read.optional_text(tracker, "carrier", base)
    detail = read.optional_text(tracker, "status_detail", base)
    estimated = read.date(tracker, "est_delivery_date", base)
    events = [
        _easypost_event(read, path, item)
        for path, item in read.items(tracker, "tracking_details", base)
    ]
    read.finish()
    return TrackingUpdate(
        provider=TrackingProvider.EASYPOST,
        tracking_number=normalize_tracking_number(tracking_code),
        carrier=carrier_or_other(carrier or ""),
        status=status,
        raw_status=raw_status,
        raw_detail=detail,
        estimated_delivery=estimated,
        events=_chronological(events),
    )


def _easypost_event(read: _Reader, path: str, item: Mapping[str, object]) -> TrackingEventData:
    occurred_at = read.time(item, "datetime", path)
    raw_status = read.text(item, "status", path)
    status = read.status(
        easypost_status(raw_status), raw_status, _at(path, "status"), EASYPOST_STATUSES
    )
    message = read.optional_text(item, "message", path)
    description = read.optional_text(item, "description", path)
    where_path = _at(path, "tracking_location")
    where = read.optional_mapping(item.get("tracking_location"), where_path)
    location = _location(
        read.optional_text(where, "city", where_path),
        read.optional_text(where, "state", where_path),
        read.optional_text(where, "zip", where_path),
        read.optional_text(where, "country", where_path),
    )
    return TrackingEventData(
        status=status,
        raw_status=raw_status,
        raw_detail=read.optional_text(item, "status_detail", path),
        description=message or description,
        location=location,
        occurred_at=occurred_at,
    )


def parse_aftership(data: object) -> TrackingUpdate:
    """An AfterShip `tracking_update` webhook."""
    read = _Reader()
    root = read.mapping(data, "body")
    read.finish()
    event = root.get("event")
    if event is not None and event != "tracking_update":
        raise NotATrackingEvent("event", event)
    msg = read.mapping(root.get("msg"), "msg")
    read.finish()

    tracking_number = read.text(msg, "tracking_number", "msg")
    tag = read.text(msg, "tag", "msg")
    subtag = read.optional_text(msg, "subtag", "msg")
    status = read.status(aftership_status(tag, subtag), tag, "msg.tag", AFTERSHIP_TAGS)
    slug = read.optional_text(msg, "slug", "msg")
    estimated = read.date(msg, "expected_delivery", "msg")
    events = [
        _aftership_event(read, path, item) for path, item in read.items(msg, "checkpoints", "msg")
    ]
    read.finish()
    return TrackingUpdate(
        provider=TrackingProvider.AFTERSHIP,
        tracking_number=normalize_tracking_number(tracking_number),
        carrier=carrier_or_other(slug or ""),
        status=status,
        raw_status=tag,
        raw_detail=subtag,
        estimated_delivery=estimated,
        events=_chronological(events),
    )


def _aftership_event(read: _Reader, path: str, item: Mapping[str, object]) -> TrackingEventData:
    occurred_at = read.time(item, "checkpoint_time", path)
    tag = read.text(item, "tag", path)
    subtag = read.optional_text(item, "subtag", path)
    status = read.status(aftership_status(tag, subtag), tag, _at(path, "tag"), AFTERSHIP_TAGS)
    country = read.optional_text(item, "country_iso3", path) or read.optional_text(
        item, "country_name", path
    )
    location = _location(
        read.optional_text(item, "city", path),
        read.optional_text(item, "state", path),
        read.optional_text(item, "zip", path),
        country,
    ) or read.optional_text(item, "location", path)
    return TrackingEventData(
        status=status,
        raw_status=tag,
        raw_detail=subtag,
        description=read.optional_text(item, "message", path),
        location=location,
        occurred_at=occurred_at,
    )


def provider_of(text: str) -> TrackingProvider:
    """The provider named `text` (any case); UnknownTrackingProvider otherwise."""
    try:
        return TrackingProvider(text.strip().lower())
    except ValueError:
        raise UnknownTrackingProvider(text) from None


def parse(provider: str, body: bytes) -> TrackingUpdate:
    """The tracking update in a webhook body from `provider` ("easypost" or "aftership")."""
    which = provider_of(provider)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            [Problem("body", f"is not JSON: {exc}", INVALID_PAYLOAD)],
            message="The tracking webhook is not valid",
            code=INVALID_PAYLOAD,
        ) from exc
    if which is TrackingProvider.EASYPOST:
        return parse_easypost(data)
    return parse_aftership(data)


# -- signatures ------------------------------------------------------------------------------

EASYPOST_SIGNATURE_HEADER = "X-Hmac-Signature"
AFTERSHIP_SIGNATURE_HEADER = "aftership-hmac-sha256"


def _easypost_signature(body: bytes, secret: str) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _aftership_signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(provider: str, body: bytes, secret: str) -> dict[str, str]:
    """The signature header the provider would send with `body` (for tests and the demo)."""
    if provider_of(provider) is TrackingProvider.EASYPOST:
        return {EASYPOST_SIGNATURE_HEADER: _easypost_signature(body, secret)}
    return {AFTERSHIP_SIGNATURE_HEADER: _aftership_signature(body, secret)}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify_signature(provider: str, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Whether `headers` carry the provider's valid signature of `body` under `secret`.

    EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the body, keyed by
    the NFKD form of the secret>`. AfterShip: `aftership-hmac-sha256: <base64 HMAC-SHA256
    of the body>`. Header names in any case; compared in constant time.
    """
    if provider_of(provider) is TrackingProvider.EASYPOST:
        given = _header(headers, EASYPOST_SIGNATURE_HEADER)
        expected = _easypost_signature(body, secret)
        if given is not None:
            given = given.strip().lower()
    else:
        given = _header(headers, AFTERSHIP_SIGNATURE_HEADER)
        expected = _aftership_signature(body, secret)
        if given is not None:
            given = given.strip()
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
