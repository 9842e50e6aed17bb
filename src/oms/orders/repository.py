"""Every query of the orders package.

Intake inserts the order with INSERT … ON CONFLICT DO NOTHING on (channel,
external id): the unique constraint, not a read before the write, decides
which of several concurrent deliveries creates the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oms.orders.models import OrderAllocation, OrderEvent, OrderHold, OrderLine, SalesOrder


def insert_order_once(session: Session, values: dict[str, Any]) -> int | None:
    """Insert an order unless (channel, external id) exists; its id, or None if it did."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        module.insert(SalesOrder)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        .returning(SalesOrder.id)
    )
    found = session.execute(stmt).scalar()
    return int(found) if found is not None else None


def order_by_id(session: Session, order_id: int, *, lock: bool = False) -> SalesOrder | None:
    stmt = select(SalesOrder).where(SalesOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt.execution_options(populate_existing=True))


def order_by_number(session: Session, number: str) -> SalesOrder | None:
    return session.scalar(select(SalesOrder).where(SalesOrder.number == number))


def order_by_external_id(
    session: Session, channel_id: int, external_id: str, *, lock: bool = False
) -> SalesOrder | None:
    stmt = select(SalesOrder).where(
        SalesOrder.channel_id == channel_id, SalesOrder.external_id == external_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt.execution_options(populate_existing=True))


def insert_lines(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert lines in one statement; their ids in the order given."""
    if not rows:
        return []
    result = session.execute(
        insert(OrderLine).returning(OrderLine.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(i) for i in result.scalars()]


def lines_of(session: Session, order_id: int) -> list[OrderLine]:
    return list(
        session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.line_number)
            .execution_options(populate_existing=True)
        )
    )


def holds_of(session: Session, order_id: int, *, active_only: bool = False) -> list[OrderHold]:
    stmt = select(OrderHold).where(OrderHold.order_id == order_id)
    if active_only:
        stmt = stmt.where(OrderHold.released_at.is_(None))
    return list(session.scalars(stmt.order_by(OrderHold.id)))


def add_holds(session: Session, holds: Sequence[OrderHold]) -> None:
    session.add_all(holds)
    session.flush()


def allocations_of_lines(session: Session, line_ids: Sequence[int]) -> list[OrderAllocation]:
    if not line_ids:
        return []
    return list(
        session.scalars(
            select(OrderAllocation)
            .where(OrderAllocation.line_id.in_(list(line_ids)))
            .order_by(OrderAllocation.id)
        )
    )


def insert_allocations(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(OrderAllocation), list(rows))


def delete_allocation(session: Session, allocation: OrderAllocation) -> None:
    session.delete(allocation)
    session.flush()


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(OrderEvent), list(rows))


def events_of(session: Session, order_id: int) -> list[OrderEvent]:
    return list(
        session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
    )
