"""Outbox events, webhook subscriptions, deliveries and their attempts.

An event is written once and never changes but for `dispatched_at`, set when
the relay has made one delivery per matching subscription.

A delivery's state machine:

    pending ──claim──► in_flight ──2xx──► delivered
       ▲                  │
       └──non-2xx/error───┤ (attempts < max: back to pending at next_attempt_at)
                          └──► dead (attempts == max)

    dead | delivered ──redeliver (by hand)──► pending

An `in_flight` delivery whose lease ran out (its relay died) is claimable again.
For one subscription, deliveries of events with the same key go out in event
order: a delivery is claimable only when no earlier one of its key is pending
or in flight. A manual redelivery continues the attempt count, so a dead
delivery that fails again is dead again at once: redelivery is one more try.
A delivered delivery may be redelivered too (the receiver lost it).

A subscription's topics are exact topics (`order.created`), a prefix wildcard
(`order.*`: every topic under `order.`) or `*` (everything).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.errors import InvalidTransition
from oms.kit import clock


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    DEAD = "dead"


TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.PENDING: frozenset({DeliveryStatus.IN_FLIGHT}),
    # in_flight → in_flight: another relay takes over a delivery whose lease ran out.
    DeliveryStatus.IN_FLIGHT: frozenset(
        {
            DeliveryStatus.IN_FLIGHT,
            DeliveryStatus.DELIVERED,
            DeliveryStatus.PENDING,
            DeliveryStatus.DEAD,
        }
    ),
    DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.DEAD: frozenset({DeliveryStatus.PENDING}),
}

REDELIVERABLE = frozenset({DeliveryStatus.DEAD, DeliveryStatus.DELIVERED})


class CannotChangeDelivery(InvalidTransition):
    def __init__(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        action: str,
        *,
        code: str = "webhooks.invalid_transition",
    ) -> None:
        super().__init__(
            f"webhook delivery {delivery_id} is {status}: cannot {action} it",
            code=code,
            delivery_id=delivery_id,
            status=str(status),
        )


def topic_matches(pattern: str, topic: str) -> bool:
    """True when a subscription topic (`order.created`, `order.*`, `*`) covers `topic`."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return pattern == topic


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_undispatched", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    request_id: Mapped[str | None] = mapped_column(String(100))
    dispatched_at: Mapped[dt.datetime | None]


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    topics: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    def wants(self, topic: str) -> bool:
        """True when this subscription is active and one of its topics covers `topic`."""
        return self.active and any(topic_matches(p, topic) for p in self.topics)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_key", "subscription_id", "key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    key: Mapped[str] = mapped_column(String(200))
    status: Mapped[DeliveryStatus] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    lease_until: Mapped[dt.datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    delivered_at: Mapped[dt.datetime | None]

    def can_become(self, target: DeliveryStatus) -> bool:
        return target in TRANSITIONS[DeliveryStatus(self.status)]

    def _move(self, target: DeliveryStatus) -> None:
        if not self.can_become(target):
            raise CannotChangeDelivery(self.id, DeliveryStatus(self.status), f"move to {target}")
        self.status = target

    def is_due(self, now: dt.datetime) -> bool:
        """Pending and its time has come, or in flight with a lease that ran out."""
        if self.status == DeliveryStatus.PENDING:
            return self.next_attempt_at <= now
        if self.status == DeliveryStatus.IN_FLIGHT:
            return self.lease_until is not None and self.lease_until < now
        return False

    def claim(self, *, lease_until: dt.datetime) -> None:
        """A relay takes this delivery until `lease_until`."""
        self._move(DeliveryStatus.IN_FLIGHT)
        self.lease_until = lease_until

    def mark_delivered(self, *, status_code: int, at: dt.datetime) -> None:
        """The receiver answered 2xx."""
        self._move(DeliveryStatus.DELIVERED)
        self.attempts += 1
        self.last_status_code = status_code
        self.last_error = None
        self.lease_until = None
        self.delivered_at = at

    def mark_failed(
        self,
        *,
        status_code: int | None,
        error: str,
        retry_at: dt.datetime,
        max_attempts: int,
    ) -> None:
        """The receiver failed: retry at `retry_at`, or dead once `max_attempts` are spent."""
        self.attempts += 1
        self._move(DeliveryStatus.DEAD if self.attempts >= max_attempts else DeliveryStatus.PENDING)
        self.last_status_code = status_code
        self.last_error = error
        self.lease_until = None
        self.next_attempt_at = retry_at

    def release(self, *, at: dt.datetime) -> None:
        """Give an unsent claim back (the relay ran out of lease before sending)."""
        self._move(DeliveryStatus.PENDING)
        self.lease_until = None
        self.next_attempt_at = at

    def redeliver(self, *, at: dt.datetime) -> None:
        """Send a dead or delivered delivery once more; the attempt count continues."""
        if self.status not in REDELIVERABLE:
            raise CannotChangeDelivery(
                self.id,
                DeliveryStatus(self.status),
                "redeliver",
                code="webhooks.cannot_redeliver",
            )
        self._move(DeliveryStatus.PENDING)
        self.next_attempt_at = at
        self.lease_until = None
        self.delivered_at = None


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"))
    attempt: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    status_code: Mapped[int | None]
    latency_ms: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
    relay: Mapped[str | None] = mapped_column(String(100))
