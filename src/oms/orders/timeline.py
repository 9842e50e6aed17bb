"""The order's timeline: every action writes an event row, an audit row and an outbox event,
in the caller's transaction (ARCHITECTURE.md rule 7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.audit import AuditEntry
from oms.auth.principal import Principal
from oms.kit import clock
from oms.orders import repository
from oms.orders.models import SalesOrder
from oms.outbox.models import OutboxEvent


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
    written = rows(order, event, actor=actor, data=data, before=before, after=after)
    repository.insert_events(session, [written.event])
    session.add(AuditEntry(**written.audit))
    session.add(OutboxEvent(**written.outbox))


@dataclass(frozen=True)
class Rows:
    """What `record` writes for one event: the timeline's row, the audit row, the outbox's."""

    event: dict[str, Any]
    audit: dict[str, Any]
    outbox: dict[str, Any]


def rows(
    order: SalesOrder,
    event: str,
    *,
    actor: Principal,
    data: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Rows:
    """`record`'s rows, for a caller that writes them with others."""
    details = data or {}
    at = now or clock.now()
    return Rows(
        event={
            "order_id": order.id,
            "type": event,
            "actor": actor.label,
            "at": at,
            "data": details,
        },
        audit=audit.row(
            actor=actor.label,
            action=f"order.{event}",
            entity_type="sales_order",
            entity_id=order.number,
            before=before,
            after=after if after is not None else (details or None),
            at=at,
        ),
        outbox=outbox.row(
            f"order.{event}",
            {
                "order_id": order.id,
                "number": order.number,
                "external_id": order.external_id,
                "status": order.status,
                **details,
            },
            key=f"order:{order.number}",
            now=at,
        ),
    )
