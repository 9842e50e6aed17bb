"""Every query of fulfillment execution: connections, release, WMS messages, shipments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from oms.catalog.models import Warehouse
from oms.fulfillment.models import (
    ReleaseMode,
    Shipment,
    ShipmentLine,
    ShipmentPackage,
    WmsConnection,
    WmsMessage,
)
from oms.orders.models import OrderHold, OrderStatus, SalesOrder
from oms.routing.models import FulfillmentOrder, FulfillmentStatus

M = TypeVar("M")

CLOSED_ORDERS = (OrderStatus.CANCELLED, OrderStatus.CLOSED)


# -- connections ----------------------------------------------------------------------


def connection_of(
    session: Session, warehouse_id: int, *, lock: bool = False
) -> WmsConnection | None:
    query = select(WmsConnection).where(WmsConnection.warehouse_id == warehouse_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def connections_of(session: Session, warehouse_ids: Sequence[int]) -> dict[int, WmsConnection]:
    if not warehouse_ids:
        return {}
    found = session.scalars(
        select(WmsConnection).where(WmsConnection.warehouse_id.in_(sorted(set(warehouse_ids))))
    )
    return {c.warehouse_id: c for c in found}


def add(session: Session, record: Any) -> None:
    session.add(record)
    session.flush()


def delete(session: Session, record: Any) -> None:
    session.delete(record)
    session.flush()


# -- release ---------------------------------------------------------------------------


def releasable(
    session: Session,
    *,
    waves: dict[int, dt.datetime],
    limit: int,
    warehouse_ids: Collection[int] | None = None,
    channel_ids: Collection[int] | None = None,
) -> list[FulfillmentOrder]:
    """Planned fulfillment orders nothing holds, oldest first, their orders locked (skipping
    orders another transaction holds: a release, an edit, a cancellation): those of
    warehouses releasing at once (or without a connection), and those of wave warehouses
    (`waves`: warehouse id → its last wave) planned before their warehouse's last wave.
    The orders are locked first, as every path locks an order before its fulfillment
    orders; the caller locks those next. `warehouse_ids` and `channel_ids` (None: every
    one) keep those of a scoped actor."""
    held = exists().where(
        OrderHold.order_id == FulfillmentOrder.order_id, OrderHold.released_at.is_(None)
    )
    immediate = ~exists().where(
        WmsConnection.warehouse_id == FulfillmentOrder.warehouse_id,
        WmsConnection.release_mode == ReleaseMode.WAVES,
        WmsConnection.active.is_(True),
    )
    waved = [
        and_(FulfillmentOrder.warehouse_id == warehouse_id, FulfillmentOrder.created_at <= wave)
        for warehouse_id, wave in sorted(waves.items())
    ]
    query = (
        select(FulfillmentOrder)
        .join(SalesOrder, SalesOrder.id == FulfillmentOrder.order_id)
        .where(
            FulfillmentOrder.status == FulfillmentStatus.PLANNED,
            SalesOrder.status.not_in(CLOSED_ORDERS),
            ~held,
            or_(immediate, *waved),
        )
        .order_by(FulfillmentOrder.id)
        .limit(limit)
    )
    if warehouse_ids is not None:
        query = query.where(FulfillmentOrder.warehouse_id.in_(sorted(warehouse_ids)))
    if channel_ids is not None:
        query = query.where(FulfillmentOrder.channel_id.in_(sorted(channel_ids)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=SalesOrder, skip_locked=True)
    return list(session.scalars(query))


def wave_connections(session: Session) -> list[tuple[WmsConnection, Warehouse]]:
    rows = session.execute(
        select(WmsConnection, Warehouse)
        .join(Warehouse, Warehouse.id == WmsConnection.warehouse_id)
        .where(WmsConnection.release_mode == ReleaseMode.WAVES, WmsConnection.active.is_(True))
    )
    return [(c, w) for c, w in rows]


def locked(session: Session, model: type[M], condition: Any) -> list[M]:
    """Rows of `model` meeting `condition`, locked in id order (every path locks them in
    that order, so two never wait on each other) and read afresh."""
    return list(
        session.scalars(
            select(model)
            .where(condition)
            .order_by(model.id)  # type: ignore[attr-defined]
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def fulfillment_order_for_update(
    session: Session, fulfillment_order_id: int
) -> FulfillmentOrder | None:
    found = locked(session, FulfillmentOrder, FulfillmentOrder.id == fulfillment_order_id)
    return found[0] if found else None


def fulfillment_orders_for_update(
    session: Session, fulfillment_order_ids: Sequence[int]
) -> list[FulfillmentOrder]:
    """These fulfillment orders, locked in id order and read afresh."""
    if not fulfillment_order_ids:
        return []
    wanted = FulfillmentOrder.id.in_(sorted(set(fulfillment_order_ids)))
    return locked(session, FulfillmentOrder, wanted)


# -- WMS messages ----------------------------------------------------------------------


def message(session: Session, warehouse_id: int, message_id: str) -> WmsMessage | None:
    return session.scalars(
        select(WmsMessage).where(
            WmsMessage.warehouse_id == warehouse_id, WmsMessage.message_id == message_id
        )
    ).first()


def insert_message_once(session: Session, values: dict[str, Any]) -> int | None:
    """Keep a WMS message unless one with its id exists for the warehouse (then None):
    the unique key, not a read first, decides between two concurrent deliveries."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = (
        upsert(WmsMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["warehouse_id", "message_id"])
        .returning(WmsMessage.id)
    )
    found = session.execute(statement).scalar_one_or_none()
    return int(found) if found is not None else None


def set_message_outcome(session: Session, message_pk: int, outcome: str, note: str | None) -> None:
    row = session.get(WmsMessage, message_pk)
    assert row is not None
    row.outcome = outcome  # type: ignore[assignment]
    row.note = note
    session.flush()


# -- shipments -------------------------------------------------------------------------


def insert_shipment(
    session: Session,
    shipment: Shipment,
    packages: Sequence[dict[str, Any]],
    lines: Sequence[dict[str, Any]],
) -> None:
    session.add(shipment)
    session.flush()
    if packages:
        session.execute(
            insert(ShipmentPackage), [{**p, "shipment_id": shipment.id} for p in packages]
        )
    if lines:
        session.execute(insert(ShipmentLine), [{**r, "shipment_id": shipment.id} for r in lines])


def shipment_of_message(
    session: Session, fulfillment_order_id: int, message_id: str
) -> Shipment | None:
    return session.scalars(
        select(Shipment).where(
            Shipment.fulfillment_order_id == fulfillment_order_id,
            Shipment.message_id == message_id,
        )
    ).first()


def shipment_by_id(session: Session, shipment_id: int) -> Shipment | None:
    return session.get(Shipment, shipment_id)


def shipments_of_orders(session: Session, order_ids: Sequence[int]) -> list[Shipment]:
    if not order_ids:
        return []
    return list(
        session.scalars(
            select(Shipment)
            .where(Shipment.order_id.in_(sorted(set(order_ids))))
            .order_by(Shipment.id)
        )
    )


def packages_of(session: Session, shipment_ids: Sequence[int]) -> list[ShipmentPackage]:
    if not shipment_ids:
        return []
    return list(
        session.scalars(
            select(ShipmentPackage)
            .where(ShipmentPackage.shipment_id.in_(sorted(set(shipment_ids))))
            .order_by(ShipmentPackage.id)
        )
    )


def lines_of_shipments(session: Session, shipment_ids: Sequence[int]) -> list[ShipmentLine]:
    if not shipment_ids:
        return []
    return list(
        session.scalars(
            select(ShipmentLine)
            .where(ShipmentLine.shipment_id.in_(sorted(set(shipment_ids))))
            .order_by(ShipmentLine.id)
        )
    )


def shipped_by_fulfillment_order(session: Session, fulfillment_order_id: int) -> int:
    """Units already shipped against a fulfillment order (earlier, non-final shipments)."""
    total = session.scalar(
        select(func.coalesce(func.sum(ShipmentLine.quantity), 0))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.fulfillment_order_id == fulfillment_order_id)
    )
    return int(total or 0)


def overdue_filter(now: dt.datetime, *, at_risk_until: dt.datetime | None = None) -> Any:
    """Fulfillment orders not yet shipped whose deadline has passed (late), or falls before
    `at_risk_until` but after now (at risk)."""
    working = FulfillmentOrder.status.in_(
        [
            FulfillmentStatus.RELEASED,
            FulfillmentStatus.ACKNOWLEDGED,
            FulfillmentStatus.PICKING,
            FulfillmentStatus.PACKED,
        ]
    )
    if at_risk_until is None:
        return and_(working, FulfillmentOrder.ship_by <= now)
    return and_(working, FulfillmentOrder.ship_by > now, FulfillmentOrder.ship_by <= at_risk_until)
