"""The delivery log and manual redelivery, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oms.audit import AuditEntry
from oms.db import Database
from oms.errors import InvalidTransition, NotFound
from oms.kit.paging import PageRequest
from oms.outbox import deliveries, dispatch, repository
from oms.outbox.dispatch import Outcome
from tests.integration.outbox.factories import a_subscription, an_event


def one_delivery(db: Database, *, topic: str = "item.created") -> int:
    a_subscription(db)
    an_event(db, topic)
    with db.transaction() as session:
        dispatch.fan_out(session, limit=10)
    with db.transaction() as session:
        [delivery] = repository.search_deliveries(
            session, repository.DeliveryFilter(), PageRequest()
        ).items
        return delivery.id


def deliver(db: Database, outcome: Outcome) -> None:
    with db.transaction() as session:
        [claimed] = dispatch.claim_due(session, limit=1, lease_seconds=60)
    with db.transaction() as session:
        dispatch.record_outcome(
            session, claimed, outcome, relay="r1", max_attempts=1, backoff_seconds=1
        )


def test_a_pending_delivery_cannot_be_redelivered(db: Database) -> None:
    delivery_id = one_delivery(db)

    with pytest.raises(InvalidTransition) as refused, db.transaction() as session:
        deliveries.redeliver(session, delivery_id, actor="user:ops")

    assert refused.value.code == "webhooks.cannot_redeliver"


def test_redelivering_a_dead_delivery_makes_it_pending_and_writes_an_audit_row(
    db: Database,
) -> None:
    delivery_id = one_delivery(db)
    deliver(db, Outcome(status_code=410, latency_ms=4.2))

    with db.transaction() as session:
        detail = deliveries.redeliver(session, delivery_id, actor="user:ops")

    assert (detail.status, detail.attempts) == ("pending", 1)
    with db.transaction() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "webhook_delivery")
        )
        assert (entry.action, entry.actor, entry.entity_id) == (
            "webhook_delivery.redelivered",
            "user:ops",
            str(delivery_id),
        )
        assert entry.diff["status"] == ["dead", "pending"]


def test_a_delivery_shows_its_attempts_with_status_latency_and_relay(db: Database) -> None:
    delivery_id = one_delivery(db)
    deliver(db, Outcome(status_code=500, latency_ms=12.5, error="HTTP 500: oops"))

    with db.transaction() as session:
        detail = deliveries.get_delivery(session, delivery_id)

    [attempt] = detail.attempt_log
    assert (attempt.attempt, attempt.status_code, attempt.latency_ms, attempt.relay) == (
        1,
        500,
        12.5,
        "r1",
    )
    assert (detail.last_latency_ms, detail.last_error) == (12.5, "HTTP 500: oops")


def test_the_log_filters_by_event_topic(db: Database) -> None:
    one_delivery(db, topic="item.created")
    an_event(db, "item.updated")
    with db.transaction() as session:
        dispatch.fan_out(session, limit=10)

    with db.transaction() as session:
        found = deliveries.search_deliveries(
            session, repository.DeliveryFilter(event_topic="item.updated"), PageRequest()
        )

    assert [d.event_topic for d in found.items] == ["item.updated"]


def test_an_unknown_delivery_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound) as missing, db.transaction() as session:
        deliveries.get_delivery(session, 404)

    assert missing.value.code == "webhooks.delivery_not_found"
