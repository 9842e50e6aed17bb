"""Every query of the outbox: fan-out, claiming due deliveries, the delivery log.

The relay's queries lock with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that
several relays share the work without waiting on each other and never take
the same row twice; SQLite ignores the clause (a write transaction there
already holds the whole database).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from oms.kit.paging import Page, PageRequest, paginate
from oms.outbox.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)


def backlog(session: Session) -> dict[str, int]:
    """Counts for the metrics: undispatched events, and deliveries by open status."""
    undispatched = session.scalar(
        select(func.count(OutboxEvent.id)).where(OutboxEvent.dispatched_at.is_(None))
    )
    counts = {"undispatched_events": int(undispatched or 0)}
    rows = session.execute(
        select(WebhookDelivery.status, func.count(WebhookDelivery.id))
        .where(
            WebhookDelivery.status.in_(
                [DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.DEAD]
            )
        )
        .group_by(WebhookDelivery.status)
    )
    for delivery_status, count in rows:
        counts[f"deliveries_{delivery_status}"] = int(count)
    for status in ("pending", "in_flight", "dead"):
        counts.setdefault(f"deliveries_{status}", 0)
    return counts


# -- fan-out -------------------------------------------------------------------------


def claim_undispatched_events(session: Session, *, limit: int) -> list[OutboxEvent]:
    """Lock the oldest events not yet fanned out, each the first undispatched of its key.

    An event waits while an earlier event of its key is undispatched (perhaps
    being fanned out by another relay right now), so that deliveries of one key
    are always created in event order.
    """
    earlier = aliased(OutboxEvent)
    blocked = exists().where(
        earlier.key == OutboxEvent.key,
        earlier.id < OutboxEvent.id,
        earlier.dispatched_at.is_(None),
    )
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.dispatched_at.is_(None), ~blocked)
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def active_subscriptions(session: Session) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    return list(session.scalars(stmt.order_by(WebhookSubscription.id)))


def add_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert deliveries; one that exists already for (event, subscription) is skipped."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(WebhookDelivery).on_conflict_do_nothing(
        index_elements=[WebhookDelivery.event_id, WebhookDelivery.subscription_id]
    )
    session.execute(stmt, list(rows))


def mark_dispatched(session: Session, event_ids: Iterable[int], *, at: dt.datetime) -> None:
    ids = list(event_ids)
    if ids:
        session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(dispatched_at=at))


# -- claiming and results ------------------------------------------------------------


def claim_due_deliveries(
    session: Session, *, now: dt.datetime, limit: int
) -> list[WebhookDelivery]:
    """Lock due deliveries of active subscriptions, each the head of its (subscription, key).

    Due: pending with `next_attempt_at` passed, or in flight with a lease that
    ran out. A delivery waits while an earlier event's delivery of the same
    subscription and key is pending or in flight.
    """
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.subscription_id == WebhookDelivery.subscription_id,
        earlier.key == WebhookDelivery.key,
        earlier.event_id < WebhookDelivery.event_id,
        earlier.status.in_(OPEN),
    )
    active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))
    due = or_(
        and_(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        ),
        and_(
            WebhookDelivery.status == DeliveryStatus.IN_FLIGHT,
            WebhookDelivery.lease_until < now,
        ),
    )
    stmt = (
        select(WebhookDelivery)
        .where(due, ~blocked, WebhookDelivery.subscription_id.in_(active))
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def events_by_ids(session: Session, ids: Iterable[int]) -> dict[int, OutboxEvent]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {e.id: e for e in session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(wanted)))}


def subscriptions_by_ids(session: Session, ids: Iterable[int]) -> dict[int, WebhookSubscription]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    stmt = select(WebhookSubscription).where(WebhookSubscription.id.in_(wanted))
    return {s.id: s for s in session.scalars(stmt)}


def claimed_delivery(
    session: Session, delivery_id: int, *, lease_until: dt.datetime
) -> WebhookDelivery | None:
    """The delivery, locked, if it is still in flight under this very lease (else None)."""
    stmt = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.IN_FLIGHT,
            WebhookDelivery.lease_until == lease_until,
        )
        .with_for_update()
    )
    return session.scalar(stmt)


def add(session: Session, record: Any) -> None:
    """Insert a new row and give it its id."""
    session.add(record)
    session.flush()


# -- subscriptions -------------------------------------------------------------------


def subscription_by_id(
    session: Session, subscription_id: int, *, lock: bool = False
) -> WebhookSubscription | None:
    stmt = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def search_subscriptions(
    session: Session, *, active: bool | None, page: PageRequest
) -> Page[WebhookSubscription]:
    stmt = select(WebhookSubscription)
    if active is not None:
        stmt = stmt.where(WebhookSubscription.active.is_(active))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": WebhookSubscription.id, "name": WebhookSubscription.name},
        default_sort="id",
        id_column=WebhookSubscription.id,
    )


# -- the delivery log ----------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    subscription_id: int | None = None
    status: DeliveryStatus | None = None
    event_topic: str | None = None


def search_deliveries(
    session: Session, filters: DeliveryFilter, page: PageRequest
) -> Page[WebhookDelivery]:
    stmt = select(WebhookDelivery)
    if filters.subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == filters.subscription_id)
    if filters.status is not None:
        stmt = stmt.where(WebhookDelivery.status == filters.status)
    if filters.event_topic:
        topic_events = select(OutboxEvent.id).where(OutboxEvent.topic == filters.event_topic)
        stmt = stmt.where(WebhookDelivery.event_id.in_(topic_events))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": WebhookDelivery.id, "created_at": WebhookDelivery.created_at},
        default_sort="-id",
        id_column=WebhookDelivery.id,
    )


def delivery_by_id(
    session: Session, delivery_id: int, *, lock: bool = False
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def attempts_of(session: Session, delivery_id: int) -> list[WebhookAttempt]:
    stmt = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.attempt, WebhookAttempt.id)
    )
    return list(session.scalars(stmt))


def last_attempts(session: Session, delivery_ids: Iterable[int]) -> dict[int, WebhookAttempt]:
    """The latest attempt of each delivery that has one."""
    wanted = list(set(delivery_ids))
    if not wanted:
        return {}
    latest = (
        select(func.max(WebhookAttempt.id))
        .where(WebhookAttempt.delivery_id.in_(wanted))
        .group_by(WebhookAttempt.delivery_id)
    )
    stmt = select(WebhookAttempt).where(WebhookAttempt.id.in_(latest))
    return {a.delivery_id: a for a in session.scalars(stmt)}
