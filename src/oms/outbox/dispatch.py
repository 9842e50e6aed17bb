"""The relay's steps over the database: fan events out, claim due deliveries, record outcomes.

Each step runs in its own short transaction owned by the relay
(`oms.jobs.relay`), which makes the HTTP calls between them with no
transaction open.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from oms.kit import clock
from oms.outbox import repository
from oms.outbox.models import DeliveryStatus, OutboxEvent, WebhookAttempt, WebhookDelivery
from oms.outbox.retries import retry_delay

ERROR_TEXT_LIMIT = 500


@dataclass(frozen=True)
class FanOut:
    """What one fan-out pass did."""

    events: int
    deliveries: int


def fan_out(session: Session, *, limit: int) -> FanOut:
    """Make one delivery per matching active subscription for up to `limit` new events."""
    events = repository.claim_undispatched_events(session, limit=limit)
    if not events:
        return FanOut(events=0, deliveries=0)
    subscriptions = repository.active_subscriptions(session)
    now = clock.now()
    rows = [
        {
            "event_id": event.id,
            "subscription_id": subscription.id,
            "key": event.key,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for subscription in subscriptions
        if subscription.wants(event.topic)
    ]
    repository.add_deliveries(session, rows)
    repository.mark_dispatched(session, [e.id for e in events], at=now)
    return FanOut(events=len(events), deliveries=len(rows))


@dataclass(frozen=True)
class Claim:
    """A delivery a relay holds until `lease_until`, with all it needs to send it."""

    delivery_id: int
    subscription_id: int
    attempt: int
    lease_until: dt.datetime
    message_id: str
    topic: str
    key: str
    url: str
    body: bytes
    secret: str = field(repr=False)


def message_body(event: OutboxEvent) -> bytes:
    """The JSON a receiver gets: `{"id", "type", "timestamp", "data"}` (Standard Webhooks)."""
    timestamp = event.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    document: dict[str, Any] = {
        "id": event.event_id,
        "type": event.topic,
        "timestamp": timestamp,
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def claim_due(session: Session, *, limit: int, lease_seconds: float) -> list[Claim]:
    """Take up to `limit` due deliveries in flight for `lease_seconds`; commit before sending."""
    now = clock.now()
    deliveries = repository.claim_due_deliveries(session, now=now, limit=limit)
    if not deliveries:
        return []
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    events = repository.events_by_ids(session, (d.event_id for d in deliveries))
    subscriptions = repository.subscriptions_by_ids(
        session, (d.subscription_id for d in deliveries)
    )
    claims = []
    for delivery in deliveries:
        delivery.claim(lease_until=lease_until)
        event = events[delivery.event_id]
        subscription = subscriptions[delivery.subscription_id]
        claims.append(
            Claim(
                delivery_id=delivery.id,
                subscription_id=subscription.id,
                attempt=delivery.attempts + 1,
                lease_until=lease_until,
                message_id=event.event_id,
                topic=event.topic,
                key=event.key,
                url=subscription.url,
                body=message_body(event),
                secret=subscription.secret,
            )
        )
    session.flush()
    return claims


@dataclass(frozen=True)
class Outcome:
    """How one HTTP attempt went: the receiver's status (None if none came) and its latency."""

    status_code: int | None
    latency_ms: float
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        """The error as the delivery log shows it."""
        text = self.error or f"HTTP {self.status_code}"
        return text[:ERROR_TEXT_LIMIT]


class Result(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"
    LEASE_LOST = "lease_lost"
    RELEASED = "released"


def record_outcome(
    session: Session,
    claim: Claim,
    outcome: Outcome,
    *,
    relay: str,
    max_attempts: int,
    backoff_seconds: float,
) -> tuple[Result, WebhookDelivery | None]:
    """Write the attempt and move the delivery on: delivered, retry later, or dead.

    When the claim's lease ran out and another relay took the delivery over,
    only the attempt row is written; the delivery belongs to that relay now.
    """
    now = clock.now()
    repository.add(
        session,
        WebhookAttempt(
            delivery_id=claim.delivery_id,
            attempt=claim.attempt,
            at=now,
            status_code=outcome.status_code,
            latency_ms=round(outcome.latency_ms, 3),
            error=None if outcome.succeeded else outcome.describe(),
            relay=relay,
        ),
    )
    delivery = repository.claimed_delivery(
        session, claim.delivery_id, lease_until=claim.lease_until
    )
    if delivery is None:
        return Result.LEASE_LOST, None
    if outcome.succeeded:
        assert outcome.status_code is not None
        delivery.mark_delivered(status_code=outcome.status_code, at=now)
        session.flush()
        return Result.DELIVERED, delivery
    delay = retry_delay(delivery.attempts + 1, base_seconds=backoff_seconds)
    delivery.mark_failed(
        status_code=outcome.status_code,
        error=outcome.describe(),
        retry_at=now + dt.timedelta(seconds=delay),
        max_attempts=max_attempts,
    )
    session.flush()
    dead = delivery.status == DeliveryStatus.DEAD
    return (Result.DEAD if dead else Result.RETRY), delivery


def release(session: Session, claim: Claim) -> None:
    """Hand back a claim the relay did not send (its lease was about to run out)."""
    delivery = repository.claimed_delivery(
        session, claim.delivery_id, lease_until=claim.lease_until
    )
    if delivery is not None:
        delivery.release(at=clock.now())
        session.flush()
