"""Every query of the outbox: fan-out, claiming due deliveries, the delivery log."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.outbox.models import DeliveryStatus, OutboxEvent, WebhookDelivery


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
