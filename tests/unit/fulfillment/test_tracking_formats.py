"""Tracking webhooks from EasyPost and AfterShip read into one normalized update."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from typing import Any

import pytest

from oms.errors import NotFound, ValidationFailed
from oms.fulfillment.tracking_formats import (
    AFTERSHIP_TAGS,
    EASYPOST_STATUSES,
    NotATrackingEvent,
    TrackingProvider,
    TrackingStatus,
    UnknownTrackingProvider,
    aftership_status,
    easypost_status,
    parse,
    sign,
    verify_signature,
)
from tests.conftest import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "11_easypost_tracker_retrieve.json"


def easypost_tracker() -> dict[str, Any]:
    tracker: dict[str, Any] = json.loads(SAMPLE.read_text())
    return tracker


def easypost_event(tracker: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "object": "Event",
        "description": "tracker.updated",
        "result": tracker if tracker is not None else easypost_tracker(),
    }


def aftership_webhook(**msg: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": "tracking_update",
        "msg": {
            "tracking_number": "1Z999AA10123456784",
            "slug": "ups",
            "tag": "InTransit",
            "subtag": "InTransit_001",
            "expected_delivery": "2024-05-10",
            "checkpoints": [
                {
                    "checkpoint_time": "2024-05-06T09:30:00-05:00",
                    "tag": "InfoReceived",
                    "subtag": "InfoReceived_001",
                    "message": "Shipper created a label",
                    "city": None,
                    "state": None,
                    "country_iso3": "USA",
                    "zip": None,
                },
                {
                    "checkpoint_time": "2024-05-07T02:10:00",
                    "tag": "InTransit",
                    "subtag": "InTransit_007",
                    "message": "Departed from facility",
                    "city": "Louisville",
                    "state": "KY",
                    "country_name": "United States",
                    "zip": "40209",
                },
            ],
        },
    }
    body["msg"].update(msg)
    return body


def encoded(data: object) -> bytes:
    return json.dumps(data).encode()


# -- EasyPost --------------------------------------------------------------------------------


def test_the_easypost_sample_tracker_reads_as_a_pre_transit_usps_package() -> None:
    update = parse("easypost", SAMPLE.read_bytes())

    assert update.provider is TrackingProvider.EASYPOST
    assert update.tracking_number == "9461200106068143633117"
    assert update.carrier.code == "USPS"
    assert update.status is TrackingStatus.PRE_TRANSIT
    assert (update.raw_status, update.raw_detail) == ("pre_transit", "status_update")
    assert update.estimated_delivery == dt.date(2022, 10, 17)


def test_the_easypost_sample_keeps_each_detail_as_an_event_oldest_first() -> None:
    update = parse("easypost", SAMPLE.read_bytes())

    assert [(e.status, e.description, e.location) for e in update.events] == [
        (TrackingStatus.PRE_TRANSIT, "Pre-Shipment Info Sent to USPS", None),
        (TrackingStatus.PRE_TRANSIT, "Shipping Label Created", "HOUSTON, TX 77063"),
    ]
    assert [e.occurred_at for e in update.events] == [
        dt.datetime(2022, 9, 17, 17, 18, 8, tzinfo=dt.UTC),
        dt.datetime(2022, 9, 18, 5, 55, 8, tzinfo=dt.UTC),
    ]
    assert update.events[0].raw_status == "pre_transit"


def test_an_easypost_event_reads_like_the_tracker_it_carries() -> None:
    assert parse("easypost", encoded(easypost_event())) == parse("easypost", SAMPLE.read_bytes())


def test_easypost_events_are_put_in_time_order() -> None:
    tracker = easypost_tracker()
    tracker["tracking_details"].reverse()

    update = parse("easypost", encoded(easypost_event(tracker)))

    assert update.events[0].description == "Pre-Shipment Info Sent to USPS"


def test_an_easypost_tracker_on_an_unknown_carrier_reads_as_other() -> None:
    tracker = easypost_tracker() | {"carrier": "PonyExpress"}

    update = parse("easypost", encoded(tracker))

    assert (update.carrier.code, update.carrier.name) == ("OTHER", "PonyExpress")


def test_an_easypost_event_about_something_else_is_not_a_tracking_event() -> None:
    event = {"object": "Event", "description": "batch.created", "result": {"object": "Batch"}}

    with pytest.raises(NotATrackingEvent) as raised:
        parse("easypost", encoded(event))

    assert raised.value.code == "tracking.not_a_tracking_event"
    assert raised.value.problems[0].path == "description"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("unknown", TrackingStatus.PRE_TRANSIT),
        ("pre_transit", TrackingStatus.PRE_TRANSIT),
        ("in_transit", TrackingStatus.IN_TRANSIT),
        ("out_for_delivery", TrackingStatus.OUT_FOR_DELIVERY),
        ("delivered", TrackingStatus.DELIVERED),
        ("available_for_pickup", TrackingStatus.AVAILABLE_FOR_PICKUP),
        ("return_to_sender", TrackingStatus.RETURNED_TO_SENDER),
        ("failure", TrackingStatus.EXCEPTION),
        ("cancelled", TrackingStatus.EXCEPTION),
        ("error", TrackingStatus.EXCEPTION),
    ],
)
def test_each_easypost_status_has_its_tracking_status(raw: str, status: TrackingStatus) -> None:
    assert easypost_status(raw) is status


def test_every_easypost_status_is_mapped() -> None:
    assert len(EASYPOST_STATUSES) == 10


def test_an_easypost_status_is_read_into_the_update_and_its_events() -> None:
    tracker = easypost_tracker() | {"status": "delivered"}
    tracker["tracking_details"][1]["status"] = "return_to_sender"

    update = parse("easypost", encoded(tracker))

    assert update.status is TrackingStatus.DELIVERED
    assert update.events[1].status is TrackingStatus.RETURNED_TO_SENDER


# -- AfterShip -------------------------------------------------------------------------------


def test_an_aftership_webhook_reads_into_an_update() -> None:
    update = parse("aftership", encoded(aftership_webhook()))

    assert update.provider is TrackingProvider.AFTERSHIP
    assert update.tracking_number == "1Z999AA10123456784"
    assert update.carrier.code == "UPS"
    assert update.status is TrackingStatus.IN_TRANSIT
    assert (update.raw_status, update.raw_detail) == ("InTransit", "InTransit_001")
    assert update.estimated_delivery == dt.date(2024, 5, 10)


def test_aftership_checkpoints_become_events_in_utc() -> None:
    update = parse("aftership", encoded(aftership_webhook()))

    first, second = update.events
    assert (first.status, first.raw_status, first.raw_detail) == (
        TrackingStatus.PRE_TRANSIT,
        "InfoReceived",
        "InfoReceived_001",
    )
    assert first.occurred_at == dt.datetime(2024, 5, 6, 14, 30, tzinfo=dt.UTC)
    assert first.location == "USA"
    assert second.description == "Departed from facility"
    assert second.location == "Louisville, KY 40209, United States"


def test_an_aftership_checkpoint_time_without_an_offset_is_taken_as_utc() -> None:
    update = parse("aftership", encoded(aftership_webhook()))

    assert update.events[1].occurred_at == dt.datetime(2024, 5, 7, 2, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("fedex", "FEDEX"),
        ("usps", "USPS"),
        ("dhl", "DHL_EXPRESS"),
        ("dhl-global-mail", "DHL_ECOMMERCE"),
        ("canada-post", "CANADA_POST"),
        ("royal-mail", "ROYAL_MAIL"),
        ("some-local-courier", "OTHER"),
    ],
)
def test_an_aftership_slug_names_the_carrier(slug: str, code: str) -> None:
    update = parse("aftership", encoded(aftership_webhook(slug=slug)))

    assert update.carrier.code == code


@pytest.mark.parametrize(
    ("tag", "status"),
    [
        ("Pending", TrackingStatus.PRE_TRANSIT),
        ("InfoReceived", TrackingStatus.PRE_TRANSIT),
        ("InTransit", TrackingStatus.IN_TRANSIT),
        ("OutForDelivery", TrackingStatus.OUT_FOR_DELIVERY),
        ("AttemptFail", TrackingStatus.EXCEPTION),
        ("Delivered", TrackingStatus.DELIVERED),
        ("AvailableForPickup", TrackingStatus.AVAILABLE_FOR_PICKUP),
        ("Exception", TrackingStatus.EXCEPTION),
        ("Expired", TrackingStatus.EXCEPTION),
        ("delivered", TrackingStatus.DELIVERED),
    ],
)
def test_each_aftership_tag_has_its_tracking_status(tag: str, status: TrackingStatus) -> None:
    assert aftership_status(tag) is status


def test_every_aftership_tag_is_mapped() -> None:
    assert len(AFTERSHIP_TAGS) == 9


@pytest.mark.parametrize("subtag", ["Exception_010", "Exception_011"])
def test_an_aftership_exception_returning_to_sender_is_returned_to_sender(subtag: str) -> None:
    update = parse("aftership", encoded(aftership_webhook(tag="Exception", subtag=subtag)))

    assert update.status is TrackingStatus.RETURNED_TO_SENDER


def test_another_aftership_exception_stays_an_exception() -> None:
    assert aftership_status("Exception", "Exception_013") is TrackingStatus.EXCEPTION


def test_an_aftership_webhook_of_another_event_is_not_a_tracking_event() -> None:
    with pytest.raises(NotATrackingEvent):
        parse("aftership", encoded(aftership_webhook() | {"event": "something_else"}))


# -- malformed payloads ----------------------------------------------------------------------


def _without(data: dict[str, Any], *path: str | int) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return changed


def _with(data: dict[str, Any], value: object, *path: str | int) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _three_checkpoints() -> dict[str, Any]:
    webhook = aftership_webhook()
    webhook["msg"]["checkpoints"].append(dict(webhook["msg"]["checkpoints"][1]))
    return webhook


@pytest.mark.parametrize(
    ("provider", "payload", "path"),
    [
        ("easypost", _without(easypost_event(), "result", "tracking_code"), "result.tracking_code"),
        (
            "easypost",
            _with(easypost_event(), "", "result", "tracking_code"),
            "result.tracking_code",
        ),
        (
            "easypost",
            _with(easypost_event(), 42, "result", "tracking_code"),
            "result.tracking_code",
        ),
        ("easypost", _without(easypost_event(), "result", "status"), "result.status"),
        ("easypost", _with(easypost_event(), "lost", "result", "status"), "result.status"),
        ("easypost", _without(easypost_event(), "result"), "result"),
        ("easypost", _with(easypost_event(), [], "result"), "result"),
        ("easypost", _without(easypost_tracker(), "tracking_code"), "tracking_code"),
        (
            "easypost",
            _with(easypost_event(), "soon", "result", "est_delivery_date"),
            "result.est_delivery_date",
        ),
        (
            "easypost",
            _with(easypost_event(), {}, "result", "tracking_details"),
            "result.tracking_details",
        ),
        (
            "easypost",
            _with(easypost_event(), "yesterday", "result", "tracking_details", 1, "datetime"),
            "result.tracking_details[1].datetime",
        ),
        (
            "easypost",
            _without(easypost_event(), "result", "tracking_details", 0, "datetime"),
            "result.tracking_details[0].datetime",
        ),
        (
            "easypost",
            _with(easypost_event(), "lost", "result", "tracking_details", 0, "status"),
            "result.tracking_details[0].status",
        ),
        (
            "easypost",
            _with(easypost_event(), "here", "result", "tracking_details", 0, "tracking_location"),
            "result.tracking_details[0].tracking_location",
        ),
        (
            "easypost",
            _with(easypost_event(), 7, "result", "tracking_details", 1, "tracking_location", "zip"),
            "result.tracking_details[1].tracking_location.zip",
        ),
        (
            "easypost",
            _with(easypost_event(), None, "result", "tracking_details", 1),
            "result.tracking_details[1]",
        ),
        ("aftership", _without(aftership_webhook(), "msg"), "msg"),
        (
            "aftership",
            _without(aftership_webhook(), "msg", "tracking_number"),
            "msg.tracking_number",
        ),
        ("aftership", _without(aftership_webhook(), "msg", "tag"), "msg.tag"),
        ("aftership", _with(aftership_webhook(), "Lost", "msg", "tag"), "msg.tag"),
        ("aftership", _with(aftership_webhook(), 5, "msg", "slug"), "msg.slug"),
        (
            "aftership",
            _with(aftership_webhook(), "next week", "msg", "expected_delivery"),
            "msg.expected_delivery",
        ),
        ("aftership", _with(aftership_webhook(), "none", "msg", "checkpoints"), "msg.checkpoints"),
        (
            "aftership",
            _with(_three_checkpoints(), "2024-13-01", "msg", "checkpoints", 2, "checkpoint_time"),
            "msg.checkpoints[2].checkpoint_time",
        ),
        (
            "aftership",
            _without(_three_checkpoints(), "msg", "checkpoints", 2, "checkpoint_time"),
            "msg.checkpoints[2].checkpoint_time",
        ),
        (
            "aftership",
            _with(aftership_webhook(), "Lost", "msg", "checkpoints", 0, "tag"),
            "msg.checkpoints[0].tag",
        ),
    ],
)
def test_a_malformed_payload_is_refused_at_the_path_of_the_bad_field(
    provider: str, payload: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(provider, encoded(payload))

    assert raised.value.code == "tracking.invalid_payload"
    assert [(p.path, p.code) for p in raised.value.problems] == [(path, "tracking.invalid_payload")]


def test_every_bad_field_of_a_payload_is_named_at_once() -> None:
    webhook = _without(aftership_webhook(), "msg", "tracking_number")
    webhook["msg"]["checkpoints"][1]["checkpoint_time"] = "later"

    with pytest.raises(ValidationFailed) as raised:
        parse("aftership", encoded(webhook))

    assert [p.path for p in raised.value.problems] == [
        "msg.tracking_number",
        "msg.checkpoints[1].checkpoint_time",
    ]


def test_an_unknown_status_is_named_with_the_statuses_that_are_known() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse("easypost", encoded(easypost_tracker() | {"status": "lost"}))

    assert "'lost' is not one of" in raised.value.problems[0].message
    assert "return_to_sender" in raised.value.problems[0].message


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"tracker"', b"null"])
@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_a_body_that_is_not_a_json_object_is_refused_at_body(provider: str, body: bytes) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(provider, body)

    assert raised.value.code == "tracking.invalid_payload"
    assert [p.path for p in raised.value.problems] == ["body"]


# -- providers and signatures ----------------------------------------------------------------


def test_an_unknown_provider_is_not_found() -> None:
    with pytest.raises(UnknownTrackingProvider) as raised:
        parse("shippo", b"{}")

    assert isinstance(raised.value, NotFound)
    assert raised.value.code == "tracking.unknown_provider"


def test_a_provider_name_is_read_in_any_case() -> None:
    assert parse("EasyPost", SAMPLE.read_bytes()).provider is TrackingProvider.EASYPOST


@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_a_signed_body_verifies(provider: str) -> None:
    body = SAMPLE.read_bytes()

    headers = sign(provider, body, "s3cret")

    assert verify_signature(provider, body, headers, "s3cret")


@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_a_tampered_body_does_not_verify(provider: str) -> None:
    body = SAMPLE.read_bytes()
    headers = sign(provider, body, "s3cret")

    assert not verify_signature(provider, body.replace(b"HOUSTON", b"DALLAS"), headers, "s3cret")


@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_another_secret_does_not_verify(provider: str) -> None:
    headers = sign(provider, b"{}", "s3cret")

    assert not verify_signature(provider, b"{}", headers, "other")


@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_a_body_without_a_signature_does_not_verify(provider: str) -> None:
    assert not verify_signature(provider, b"{}", {"Content-Type": "application/json"}, "s3cret")


def test_the_other_providers_signature_does_not_verify() -> None:
    headers = sign("aftership", b"{}", "s3cret")

    assert not verify_signature("easypost", b"{}", headers, "s3cret")


# RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?")
RFC_4231_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
RFC_4231_BODY = b"what do ya want for nothing?"


def test_easypost_signs_with_the_hex_hmac_in_x_hmac_signature() -> None:
    assert sign("easypost", RFC_4231_BODY, "Jefe") == {
        "X-Hmac-Signature": f"hmac-sha256-hex={RFC_4231_HEX}"
    }


def test_aftership_signs_with_the_base64_hmac_in_aftership_hmac_sha256() -> None:
    expected = base64.b64encode(bytes.fromhex(RFC_4231_HEX)).decode()

    assert sign("aftership", RFC_4231_BODY, "Jefe") == {"aftership-hmac-sha256": expected}


def test_signature_headers_are_found_in_any_case() -> None:
    easypost = {"x-hmac-signature": f"HMAC-SHA256-HEX={RFC_4231_HEX.upper()}"}
    aftership = {"AfterShip-Hmac-Sha256": base64.b64encode(bytes.fromhex(RFC_4231_HEX)).decode()}

    assert verify_signature("easypost", RFC_4231_BODY, easypost, "Jefe")
    assert verify_signature("aftership", RFC_4231_BODY, aftership, "Jefe")


def test_an_easypost_secret_is_compared_in_its_nfkd_form() -> None:
    headers = sign("easypost", b"{}", "ﬁle-secret")  # the "ﬁ" ligature is "fi" in NFKD

    assert verify_signature("easypost", b"{}", headers, "file-secret")


def test_signing_for_an_unknown_provider_is_not_found() -> None:
    with pytest.raises(UnknownTrackingProvider):
        sign("shippo", b"{}", "s3cret")
    with pytest.raises(UnknownTrackingProvider):
        verify_signature("shippo", b"{}", {}, "s3cret")
