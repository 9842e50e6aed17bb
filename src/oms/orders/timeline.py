"""The order's timeline: every action writes an event row, an audit row and an outbox event,
in the caller's transaction (ARCHITECTURE.md rule 7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.auth.principal import Principal
from oms.kit import clock
from oms.orders import repository
from oms.orders.models import SalesOrder


def record(
    session: Session,
    order: SalesOrder,
    event: str,
    *,
    actor: Principal,
    data: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """`order.<event>`: on the timeline, in the audit trail, and out through the outbox."""
    details = data or {}
    repository.insert_events(
        session,
        [
            {
                "order_id": order.id,
                "type": event,
                "actor": actor.label,
                "at": clock.now(),
                "data": details,
            }
        ],
    )
    audit.record(
        session,
        actor=actor.label,
        action=f"order.{event}",
        entity_type="sales_order",
        entity_id=order.number,
        before=before,
        after=after if after is not None else (details or None),
    )
    outbox.record(
        session,
        f"order.{event}",
        {
            "order_id": order.id,
            "number": order.number,
            "external_id": order.external_id,
            "status": order.status,
            **details,
        },
        key=f"order:{order.number}",
    )
