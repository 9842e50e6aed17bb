"""Every query of returns: the returns and their lines, what open returns hold, which
warehouses shipped an order's lines, and the search behind `GET /returns`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.fulfillment.models import Return, ReturnLine, ReturnStatus, Shipment, ShipmentLine
from oms.kit.paging import Page, PageRequest, paginate
from oms.orders.models import SalesOrder

OPEN = (ReturnStatus.REQUESTED, ReturnStatus.AUTHORIZED, ReturnStatus.RECEIVED)
"""Returns whose units are promised back but not yet counted in the order lines' `returned`."""


def add(session: Session, rma: Return, lines: Sequence[ReturnLine]) -> None:
    session.add(rma)
    session.flush()
    for line in lines:
        line.return_id = rma.id
    session.add_all(lines)
    session.flush()


def return_by_id(session: Session, return_id: int, *, lock: bool = False) -> Return | None:
    stmt = select(Return).where(Return.id == return_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt.execution_options(populate_existing=True))


def lines_of(session: Session, return_ids: Sequence[int]) -> list[ReturnLine]:
    if not return_ids:
        return []
    return list(
        session.scalars(
            select(ReturnLine)
            .where(ReturnLine.return_id.in_(sorted(set(return_ids))))
            .order_by(ReturnLine.return_id, ReturnLine.line_number)
            .execution_options(populate_existing=True)
        )
    )


def open_units(
    session: Session, order_line_ids: Sequence[int], *, exclude_return_id: int | None = None
) -> dict[int, int]:
    """Units of each order line on open returns (requested, authorized or received)."""
    if not order_line_ids:
        return {}
    stmt = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(ReturnLine.order_line_id.in_(sorted(set(order_line_ids))), Return.status.in_(OPEN))
        .group_by(ReturnLine.order_line_id)
    )
    if exclude_return_id is not None:
        stmt = stmt.where(Return.id != exclude_return_id)
    return {int(line_id): int(units or 0) for line_id, units in session.execute(stmt)}


@dataclass(frozen=True)
class Shipped:
    """Units of the named order lines one warehouse shipped, and its first shipment's id."""

    warehouse_id: int
    units: int
    first_shipment_id: int


def shipped_from(session: Session, order_line_ids: Sequence[int]) -> list[Shipped]:
    """The warehouses that shipped these order lines, most units first, then earliest."""
    if not order_line_ids:
        return []
    rows = session.execute(
        select(Shipment.warehouse_id, func.sum(ShipmentLine.quantity), func.min(Shipment.id))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(ShipmentLine.order_line_id.in_(sorted(set(order_line_ids))))
        .group_by(Shipment.warehouse_id)
    )
    found = [Shipped(int(w), int(units or 0), int(first)) for w, units, first in rows]
    return sorted(found, key=lambda s: (-s.units, s.first_shipment_id))


@dataclass(frozen=True)
class ReturnFilter:
    order_id: int | None = None
    status: ReturnStatus | None = None
    warehouse_ids: frozenset[int] | None = None
    """The warehouses asked for and in scope; None: every one."""
    channel_ids: frozenset[int] | None = None
    """The principal's channel scope; None: every channel."""


def search_returns(session: Session, filters: ReturnFilter, page: PageRequest) -> Page[Return]:
    stmt = select(Return)
    if filters.order_id is not None:
        stmt = stmt.where(Return.order_id == filters.order_id)
    if filters.status is not None:
        stmt = stmt.where(Return.status == filters.status)
    if filters.warehouse_ids is not None:
        stmt = stmt.where(Return.warehouse_id.in_(sorted(filters.warehouse_ids)))
    if filters.channel_ids is not None:
        stmt = stmt.join(SalesOrder, SalesOrder.id == Return.order_id).where(
            SalesOrder.channel_id.in_(sorted(filters.channel_ids))
        )
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": Return.id, "created_at": Return.created_at},
        default_sort="id",
        id_column=Return.id,
    )
