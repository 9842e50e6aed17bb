"""Tracking webhooks: packages follow their carrier's events, a delivered shipment delivers
its order lines, exceptions raise alerts, and a secret makes the provider sign."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from oms.audit import AuditEntry
from oms.db import Database
from oms.fulfillment import tracking_formats
from oms.fulfillment.models import Shipment, ShipmentPackage, TrackingEvent
from oms.inbox.models import InboxMessage
from oms.orders import repository as orders
from oms.orders.models import OrderEvent, OrderStatus
from oms.outbox.models import OutboxEvent
from tests.conftest import SAMPLES_DIR, AuthHeaders
from tests.integration.fulfillment.factories import UPS, post, released, shipment, status_of

SECOND = "1Z999AA10123456795"


def sample_event(tracking_number: str = UPS) -> dict[str, Any]:
    """The EasyPost sample tracker, about `tracking_number`, wrapped as a webhook Event."""
    tracker = json.loads((SAMPLES_DIR / "11_easypost_tracker_retrieve.json").read_text())
    tracker["tracking_code"] = tracking_number
    return {"object": "Event", "description": "tracker.updated", "result": tracker}


def detail(status: str, at: str, message: str, city: str | None = "NEW YORK") -> dict[str, Any]:
    return {
        "object": "TrackingDetail",
        "message": message,
        "status": status,
        "datetime": at,
        "tracking_location": {"city": city, "state": "NY", "zip": "10001", "country": "US"},
    }


def tracker_with(*details: dict[str, Any], tracking_number: str = UPS) -> dict[str, Any]:
    """The sample with these details added; its status is the last added one's."""
    event = sample_event(tracking_number)
    event["result"]["tracking_details"] += list(details)
    event["result"]["status"] = details[-1]["status"]
    return event


IN_TRANSIT = detail("in_transit", "2022-09-19T08:00:00Z", "Departed facility", "HOUSTON")
DELIVERED = detail("delivered", "2022-09-21T15:30:00Z", "Delivered, front door")


def webhook(
    client: TestClient,
    body: Any,
    provider: str = "easypost",
    *,
    secret: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    raw = json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if secret is not None:
        sent.update(tracking_formats.sign(provider, raw, secret))
    return client.post(f"/api/v1/tracking/webhooks/{provider}", content=raw, headers=sent)


def shipped(db: Database, client: TestClient, auth_headers: AuthHeaders, *tracking: str) -> int:
    """An order of 3 ABC-1 shipped from DAL in packages with these tracking numbers."""
    order_id, fo = released(db)
    body = shipment("s1", 3)
    body["packages"] = [{"tracking_number": number} for number in tracking or (UPS,)]
    answer = post(client, auth_headers("warehouse"), fo, "shipments", body)
    assert answer.status_code == 200, answer.text
    return order_id


def package(session: Session, number: str = UPS) -> ShipmentPackage:
    return session.scalars(
        select(ShipmentPackage).where(ShipmentPackage.tracking_number == number)
    ).one()


def events(session: Session, number: str = UPS) -> list[TrackingEvent]:
    return list(
        session.scalars(
            select(TrackingEvent)
            .where(TrackingEvent.package_id == package(session, number).id)
            .order_by(TrackingEvent.occurred_at)
        )
    )


def outbox(session: Session, topic: str) -> list[dict[str, Any]]:
    found = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic))
    return [e.payload for e in found]


def test_the_easypost_sample_for_a_shipped_package_keeps_its_events_and_status(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    shipped(db, client, auth_headers)

    answer = webhook(client, sample_event())

    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    assert answer.json()["tracking_number"] == UPS
    assert answer.json()["status"] == "pre_transit"
    with db.transaction() as session:
        kept = events(session)
        assert [e.description for e in kept] == [
            "Pre-Shipment Info Sent to USPS",
            "Shipping Label Created",
        ]
        assert kept[1].location == "HOUSTON, TX 77063"
        found = package(session)
        assert found.status == "pre_transit"
        assert found.status_at is not None
        assert found.status_at.isoformat() == "2022-09-18T05:55:08+00:00"
        assert found.estimated_delivery is not None
        assert found.estimated_delivery.date().isoformat() == "2022-10-17"
        message = session.get(InboxMessage, answer.json()["inbox_id"])
        assert message is not None
        assert message.kind == "tracking.easypost"
        assert message.status == "accepted"


def test_a_newer_event_moves_the_package_and_its_shipment(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    shipped(db, client, auth_headers)

    answer = webhook(client, tracker_with(IN_TRANSIT))

    assert answer.json()["status"] == "in_transit"
    with db.transaction() as session:
        assert package(session).status == "in_transit"
        assert session.scalars(select(Shipment)).one().status == "in_transit"


def test_a_delivered_webhook_for_the_only_package_delivers_the_order(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = shipped(db, client, auth_headers)

    answer = webhook(client, tracker_with(IN_TRANSIT, DELIVERED))

    assert answer.json()["outcome"] == "applied"
    assert status_of(db, order_id) == OrderStatus.DELIVERED
    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.shipped, line.delivered) == (0, 3)
        found = session.scalars(select(Shipment)).one()
        assert found.status == "delivered"
        assert found.delivered_at is not None
        assert found.delivered_at.isoformat() == "2022-09-21T15:30:00+00:00"
        [delivered] = outbox(session, "order.delivered")
        assert delivered["status"] == "delivered"
        assert delivered["tracking_numbers"] == [UPS]
        assert delivered["lines"] == [
            {
                "line_number": 1,
                "sku": "ABC-1",
                "quantity": 3,
                "carrier": "UPS",
                "tracking_numbers": [UPS],
            }
        ]
        timeline = session.scalars(select(OrderEvent.type).where(OrderEvent.order_id == order_id))
        assert "delivered" in list(timeline)


def test_a_re_sent_webhook_adds_nothing(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = shipped(db, client, auth_headers)
    body = tracker_with(IN_TRANSIT, DELIVERED)
    webhook(client, body)

    again = webhook(client, body)

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    with db.transaction() as session:
        assert len(events(session)) == 4
        assert len(outbox(session, "order.delivered")) == 1
        [line] = orders.lines_of(session, order_id)
        assert line.delivered == 3
        message = session.get(InboxMessage, again.json()["inbox_id"])
        assert message is not None
        assert message.status == "duplicate"


def test_an_older_event_after_a_newer_one_does_not_move_the_status_back(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    shipped(db, client, auth_headers)
    webhook(client, tracker_with(DELIVERED))

    late = webhook(client, tracker_with(IN_TRANSIT))

    assert late.json()["outcome"] == "applied"
    with db.transaction() as session:
        found = package(session)
        assert found.status == "delivered"
        assert found.status_at is not None
        assert found.status_at.isoformat() == "2022-09-21T15:30:00+00:00"
        assert [e.status for e in events(session)][-2:] == ["in_transit", "delivered"]


def test_with_a_secret_a_bad_signature_is_refused_and_changes_nothing(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    shipped(db, client, auth_headers)
    client.put(
        "/api/v1/tracking/providers/easypost", json={"secret": "s3cret-value"}, headers=admin
    )

    forged = webhook(client, tracker_with(IN_TRANSIT), secret="another-secret")
    unsigned = webhook(client, tracker_with(IN_TRANSIT))

    for refused in (forged, unsigned):
        assert refused.status_code == 401
        assert refused.json()["code"] == "tracking.bad_signature"
    with db.transaction() as session:
        assert events(session) == []
        assert package(session).status == "pre_transit"
        kept = session.scalars(
            select(InboxMessage)
            .where(InboxMessage.kind == "tracking.easypost")
            .order_by(InboxMessage.id)
        )
        assert [m.status for m in kept] == ["failed", "failed"]


def test_with_a_secret_a_good_signature_is_applied(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    shipped(db, client, auth_headers)
    client.put(
        "/api/v1/tracking/providers/easypost", json={"secret": "s3cret-value"}, headers=admin
    )

    answer = webhook(client, tracker_with(IN_TRANSIT), secret="s3cret-value")

    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    with db.transaction() as session:
        assert package(session).status == "in_transit"
        message = session.get(InboxMessage, answer.json()["inbox_id"])
        assert message is not None
        assert message.outcome is not None
        assert message.outcome["signed"] is True


def test_without_a_secret_an_unsigned_webhook_is_accepted_and_logged_as_unsigned(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    shipped(db, client, auth_headers)

    with capture_logs() as logs:
        answer = webhook(client, tracker_with(IN_TRANSIT))

    assert answer.json()["outcome"] == "applied"
    assert any(entry["event"] == "tracking_webhook_unsigned" for entry in logs)
    with db.transaction() as session:
        message = session.get(InboxMessage, answer.json()["inbox_id"])
        assert message is not None
        assert message.outcome is not None
        assert message.outcome["signed"] is False


def test_an_exception_raises_an_alert_with_the_tracking_number(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = shipped(db, client, auth_headers)
    failed = detail("failure", "2022-09-20T11:00:00Z", "Damaged in transit", "MEMPHIS")

    answer = webhook(client, tracker_with(IN_TRANSIT, failed))

    assert answer.json()["status"] == "exception"
    with db.transaction() as session:
        [alert] = outbox(session, "shipment.exception")
        assert alert["tracking_number"] == UPS
        assert alert["description"] == "Damaged in transit"
        assert alert["location"] == "MEMPHIS, NY 10001, US"
        types = session.scalars(select(OrderEvent.type).where(OrderEvent.order_id == order_id))
        assert "delivery_exception" in list(types)
        assert session.scalars(select(Shipment)).one().status == "exception"
    assert status_of(db, order_id) == OrderStatus.SHIPPED


def test_a_package_returned_to_sender_is_marked_and_the_order_units_stay_shipped(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = shipped(db, client, auth_headers)
    back = detail("return_to_sender", "2022-09-22T09:00:00Z", "Returned to shipper")

    webhook(client, tracker_with(IN_TRANSIT, back))

    with db.transaction() as session:
        assert package(session).status == "returned_to_sender"
        [returned] = outbox(session, "shipment.returned_to_sender")
        assert returned["tracking_number"] == UPS
        [line] = orders.lines_of(session, order_id)
        assert (line.shipped, line.delivered) == (3, 0)


def test_a_shipment_is_delivered_only_when_every_package_is(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = shipped(db, client, auth_headers, UPS, SECOND)

    webhook(client, tracker_with(IN_TRANSIT, DELIVERED))
    with db.transaction() as session:
        assert session.scalars(select(Shipment)).one().status == "pre_transit"
    assert status_of(db, order_id) == OrderStatus.SHIPPED

    webhook(client, tracker_with(IN_TRANSIT, DELIVERED, tracking_number=SECOND))
    with db.transaction() as session:
        assert session.scalars(select(Shipment)).one().status == "delivered"
        assert len(outbox(session, "order.delivered")) == 1
    assert status_of(db, order_id) == OrderStatus.DELIVERED


def aftership(tag: str, checkpoints: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "event": "tracking_update",
        "msg": {
            "tracking_number": "1z999aa1 0123456784",
            "slug": "ups",
            "tag": tag,
            "subtag": f"{tag}_001",
            "expected_delivery": "2022-09-22",
            "checkpoints": checkpoints,
        },
    }


def test_an_aftership_webhook_delivers_the_order_too(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = shipped(db, client, auth_headers)
    body = aftership(
        "Delivered",
        [
            {
                "checkpoint_time": "2022-09-20T10:00:00+00:00",
                "tag": "InTransit",
                "message": "Arrived at facility",
                "city": "Memphis",
            },
            {
                "checkpoint_time": "2022-09-21T16:00:00+00:00",
                "tag": "Delivered",
                "message": "Delivered",
                "city": "New York",
            },
        ],
    )

    answer = webhook(client, body, "aftership")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "outcome": "applied",
        "tracking_number": UPS,
        "status": "delivered",
        "inbox_id": answer.json()["inbox_id"],
    }
    assert status_of(db, order_id) == OrderStatus.DELIVERED
    with db.transaction() as session:
        assert [e.provider for e in events(session)] == ["aftership", "aftership"]


def test_an_unknown_tracking_number_is_answered_unmatched_and_kept(
    db: Database, client: TestClient
) -> None:
    answer = webhook(client, sample_event("9400100000000000000000"))

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "unmatched"
    with db.transaction() as session:
        message = session.get(InboxMessage, answer.json()["inbox_id"])
        assert message is not None
        assert message.outcome is not None
        assert message.outcome["outcome"] == "unmatched"
        assert json.loads(message.body)["result"]["tracking_code"] == "9400100000000000000000"


def test_a_webhook_about_something_else_is_ignored(db: Database, client: TestClient) -> None:
    answer = webhook(client, {"object": "Event", "description": "batch.created", "result": {}})

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "ignored"
    assert answer.json()["tracking_number"] is None


def test_an_unknown_provider_is_not_found(db: Database, client: TestClient) -> None:
    answer = webhook(client, sample_event(), "owlpost")

    assert answer.status_code == 404
    assert answer.json()["code"] == "tracking.unknown_provider"


def test_a_malformed_webhook_names_the_path_and_is_kept_as_failed(
    db: Database, client: TestClient
) -> None:
    body = sample_event()
    broken = copy.deepcopy(body)
    broken["result"]["tracking_details"][1]["datetime"] = "yesterday"

    answer = webhook(client, broken)
    not_json = client.post("/api/v1/tracking/webhooks/easypost", content=b"{not json")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "result.tracking_details[1].datetime"
    assert not_json.status_code == 422
    with db.transaction() as session:
        kept = session.scalars(
            select(InboxMessage)
            .where(InboxMessage.kind == "tracking.easypost")
            .order_by(InboxMessage.id)
        )
        assert [m.status for m in kept] == ["failed", "failed"]


@pytest.mark.parametrize("role", ["sales_ops", "integration"])
def test_only_an_admin_sets_a_providers_secret(
    db: Database, client: TestClient, auth_headers: AuthHeaders, role: str
) -> None:
    answer = client.put(
        "/api/v1/tracking/providers/easypost",
        json={"secret": "s3cret-value"},
        headers=auth_headers(role),
    )

    assert answer.status_code == 403


def test_a_providers_secret_is_audited_and_never_shown(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    made = client.put(
        "/api/v1/tracking/providers/AfterShip", json={"secret": "s3cret-value"}, headers=admin
    )
    listed = client.get("/api/v1/tracking/providers", headers=admin)
    cleared = client.put(
        "/api/v1/tracking/providers/aftership", json={"secret": None}, headers=admin
    )
    unknown = client.put(
        "/api/v1/tracking/providers/owlpost", json={"secret": "s3cret-value"}, headers=admin
    )

    assert made.status_code == 200, made.text
    assert made.json()["signed"] is True
    assert "s3cret-value" not in made.text + listed.text
    assert {p["provider"]: p["signed"] for p in listed.json()} == {
        "easypost": False,
        "aftership": True,
    }
    assert cleared.json()["signed"] is False
    assert unknown.status_code == 404
    with db.transaction() as session:
        kept = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "tracking_provider")
            .order_by(AuditEntry.id)
        )
        trail = [(a.entity_id, a.before, a.after) for a in kept]
    assert trail == [
        ("aftership", {"signed": False}, {"signed": True}),
        ("aftership", {"signed": True}, {"signed": False}),
    ]
