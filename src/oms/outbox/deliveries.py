"""The delivery log and manual redelivery.

`actor` is the acting principal's label (the outbox sits below `auth`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from oms import audit
from oms.errors import NotFound
from oms.kit import clock
from oms.kit.paging import Page, PageRequest
from oms.outbox import repository
from oms.outbox.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
)
from oms.outbox.schemas import AttemptOut, DeliveryDetail, DeliveryOut

ENTITY = "webhook_delivery"


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: int) -> None:
        super().__init__("webhook delivery", delivery_id, code="webhooks.delivery_not_found")


def view(delivery: WebhookDelivery, event: OutboxEvent, last: WebhookAttempt | None) -> DeliveryOut:
    """A delivery as the log shows it, with its event and its latest attempt."""
    return DeliveryOut(
        id=delivery.id,
        subscription_id=delivery.subscription_id,
        event_id=event.event_id,
        event_topic=event.topic,
        key=delivery.key,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at
        if delivery.status == DeliveryStatus.PENDING
        else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        last_latency_ms=last.latency_ms if last else None,
        last_attempt_at=last.at if last else None,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
    )


def _views(session: Session, deliveries: Sequence[WebhookDelivery]) -> list[DeliveryOut]:
    events = repository.events_by_ids(session, (d.event_id for d in deliveries))
    lasts = repository.last_attempts(session, (d.id for d in deliveries))
    return [view(d, events[d.event_id], lasts.get(d.id)) for d in deliveries]


def search_deliveries(
    session: Session, filters: repository.DeliveryFilter, page: PageRequest
) -> Page[DeliveryOut]:
    """The delivery log, newest first by default."""
    found = repository.search_deliveries(session, filters, page)
    return Page(items=_views(session, found.items), next_cursor=found.next_cursor)


def get_delivery(session: Session, delivery_id: int) -> DeliveryDetail:
    """One delivery with the event it carries and all its attempts."""
    delivery = repository.delivery_by_id(session, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    return _detail(session, delivery)


def _detail(session: Session, delivery: WebhookDelivery) -> DeliveryDetail:
    event = repository.events_by_ids(session, [delivery.event_id])[delivery.event_id]
    attempts = repository.attempts_of(session, delivery.id)
    summary = view(delivery, event, attempts[-1] if attempts else None)
    return DeliveryDetail(
        **summary.model_dump(),
        payload=event.payload,
        attempt_log=[AttemptOut.model_validate(a) for a in attempts],
    )


def redeliver(session: Session, delivery_id: int, *, actor: str) -> DeliveryDetail:
    """Send a dead (or delivered) delivery again; its attempt count continues."""
    delivery = repository.delivery_by_id(session, delivery_id, lock=True)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    before = _audit_view(delivery)
    delivery.redeliver(at=clock.now())
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.redelivered",
        entity_type=ENTITY,
        entity_id=str(delivery.id),
        before=before,
        after=_audit_view(delivery),
    )
    return _detail(session, delivery)


def _audit_view(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "status": str(delivery.status),
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
    }
