"""Every query of the routing package: rule sets, capacity used, plans, fulfillment orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, Table, and_, case, column, func, insert, select, table, update
from sqlalchemy.orm import Session

from oms.catalog.models import ChannelWarehouse, Warehouse
from oms.db import UtcDateTime
from oms.kit import bulk
from oms.kit.paging import Page, PageRequest, paginate
from oms.routing.models import (
    DEFAULT_SCOPE,
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    RoutingPlan,
    RoutingRuleSet,
)

# -- rule sets ---------------------------------------------------------------------------


def active_rule_set(session: Session, channel_id: int) -> RoutingRuleSet | None:
    """The channel's active rule set, else the active default one, else None (one query)."""
    stmt = (
        select(RoutingRuleSet)
        .where(
            RoutingRuleSet.scope_id.in_([channel_id, DEFAULT_SCOPE]),
            RoutingRuleSet.active.is_(True),
        )
        .order_by(RoutingRuleSet.scope_id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def active_rule_sets(session: Session) -> dict[int, RoutingRuleSet]:
    """scope id → its active rule set."""
    stmt = select(RoutingRuleSet).where(RoutingRuleSet.active.is_(True))
    return {found.scope_id: found for found in session.scalars(stmt)}


def rule_set_by_id(session: Session, rule_set_id: int) -> RoutingRuleSet | None:
    return session.get(RoutingRuleSet, rule_set_id, populate_existing=True)


def last_version(session: Session, scope_id: int) -> int:
    """The newest version number of a scope's rule sets, 0 when it has none."""
    stmt = select(func.max(RoutingRuleSet.version)).where(RoutingRuleSet.scope_id == scope_id)
    return int(session.scalar(stmt) or 0)


def add_rule_set(session: Session, rule_set: RoutingRuleSet) -> None:
    session.add(rule_set)
    session.flush()


def activate(session: Session, scope_id: int, rule_set_id: int) -> None:
    """Make `rule_set_id` its scope's only active version, in one statement."""
    session.execute(
        update(RoutingRuleSet)
        .where(RoutingRuleSet.scope_id == scope_id)
        .values(active=case((RoutingRuleSet.id == rule_set_id, True), else_=False))
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class RuleSetFilter:
    scope_id: int | None = None
    scope_ids: frozenset[int] | None = None
    """The scopes a channel-scoped principal sees; None: every one."""
    active: bool | None = None


def search_rule_sets(
    session: Session, filters: RuleSetFilter, page: PageRequest
) -> Page[RoutingRuleSet]:
    stmt = select(RoutingRuleSet)
    if filters.scope_id is not None:
        stmt = stmt.where(RoutingRuleSet.scope_id == filters.scope_id)
    if filters.scope_ids is not None:
        stmt = stmt.where(RoutingRuleSet.scope_id.in_(sorted(filters.scope_ids)))
    if filters.active is not None:
        stmt = stmt.where(RoutingRuleSet.active.is_(filters.active))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": RoutingRuleSet.id, "created_at": RoutingRuleSet.created_at},
        default_sort="id",
        id_column=RoutingRuleSet.id,
    )


# -- candidates -----------------------------------------------------------------------------


def candidate_warehouses(session: Session, channel_id: int) -> list[tuple[Warehouse, int | None]]:
    """Every active warehouse, with its rank for the channel (None: it does not serve it)."""
    stmt = (
        select(Warehouse, ChannelWarehouse.rank)
        .outerjoin(
            ChannelWarehouse,
            and_(
                ChannelWarehouse.warehouse_id == Warehouse.id,
                ChannelWarehouse.channel_id == channel_id,
            ),
        )
        .where(Warehouse.active.is_(True))
        .order_by(Warehouse.code)
    )
    return [(warehouse, rank) for warehouse, rank in session.execute(stmt)]


def planned_since(
    session: Session, warehouse_ids: Sequence[int], since: dt.datetime
) -> dict[int, int]:
    """warehouse id → fulfillment orders made there since `since` and not cancelled."""
    if not warehouse_ids:
        return {}
    stmt = (
        select(FulfillmentOrder.warehouse_id, func.count())
        .where(
            FulfillmentOrder.warehouse_id.in_(list(warehouse_ids)),
            FulfillmentOrder.created_at >= since,
            FulfillmentOrder.status != FulfillmentStatus.CANCELLED,
        )
        .group_by(FulfillmentOrder.warehouse_id)
    )
    return {int(w): int(n) for w, n in session.execute(stmt)}


# -- plans ------------------------------------------------------------------------------------


def insert_plan(session: Session, values: dict[str, Any]) -> int:
    return int(session.execute(insert(RoutingPlan).returning(RoutingPlan.id), values).scalar_one())


def plans_of_order(session: Session, order_id: int) -> list[RoutingPlan]:
    """Every plan made for the order, oldest first."""
    stmt = select(RoutingPlan).where(RoutingPlan.order_id == order_id).order_by(RoutingPlan.id)
    return list(session.scalars(stmt))


# -- fulfillment orders ---------------------------------------------------------------------


def planned_of_order(session: Session, order_id: int) -> dict[int, FulfillmentOrder]:
    """warehouse id → the order's fulfillment order still planned there."""
    stmt = select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order_id,
        FulfillmentOrder.status == FulfillmentStatus.PLANNED,
    )
    return {found.warehouse_id: found for found in session.scalars(stmt)}


def add_fulfillment_orders(session: Session, orders: Sequence[FulfillmentOrder]) -> None:
    """Insert `orders`; their ids are set afterwards."""
    if orders:
        session.add_all(orders)
        session.flush()


def insert_fulfillment_lines(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(FulfillmentOrderLine), list(rows))


def fulfillment_order_by_id(session: Session, fulfillment_order_id: int) -> FulfillmentOrder | None:
    return session.get(FulfillmentOrder, fulfillment_order_id)


def fulfillment_orders_by_ids(session: Session, ids: Iterable[int]) -> dict[int, FulfillmentOrder]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = session.scalars(select(FulfillmentOrder).where(FulfillmentOrder.id.in_(wanted)))
    return {fo.id: fo for fo in found}


def fulfillment_orders_of_order(session: Session, order_id: int) -> list[FulfillmentOrder]:
    stmt = (
        select(FulfillmentOrder)
        .where(FulfillmentOrder.order_id == order_id)
        .order_by(FulfillmentOrder.id)
    )
    return list(session.scalars(stmt))


def fulfillment_orders_with_warehouse(
    session: Session, order_id: int
) -> list[tuple[FulfillmentOrder, str]]:
    """The order's fulfillment orders, oldest first, each with its warehouse's code (one
    query: the order detail)."""
    stmt = (
        select(FulfillmentOrder, Warehouse.code)
        .join(Warehouse, Warehouse.id == FulfillmentOrder.warehouse_id)
        .where(FulfillmentOrder.order_id == order_id)
        .order_by(FulfillmentOrder.id)
    )
    return [(found, str(code)) for found, code in session.execute(stmt)]


def lines_of_fulfillment_orders(
    session: Session, fulfillment_order_ids: Iterable[int]
) -> list[FulfillmentOrderLine]:
    wanted = sorted(set(fulfillment_order_ids))
    if not wanted:
        return []
    stmt = (
        select(FulfillmentOrderLine)
        .where(FulfillmentOrderLine.fulfillment_order_id.in_(wanted))
        .order_by(FulfillmentOrderLine.fulfillment_order_id, FulfillmentOrderLine.id)
    )
    return list(session.scalars(stmt))


def planned_line_of_reservation(
    session: Session, reservation_id: int
) -> tuple[FulfillmentOrderLine, FulfillmentOrder] | None:
    """The planned fulfillment order line a reservation holds, with its fulfillment order."""
    stmt = (
        select(FulfillmentOrderLine, FulfillmentOrder)
        .join(FulfillmentOrder, FulfillmentOrder.id == FulfillmentOrderLine.fulfillment_order_id)
        .where(
            FulfillmentOrderLine.reservation_id == reservation_id,
            FulfillmentOrder.status == FulfillmentStatus.PLANNED,
        )
    )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row is not None else None


def units_left(session: Session, fulfillment_order_id: int) -> int:
    """Units still on a fulfillment order's lines."""
    stmt = select(func.coalesce(func.sum(FulfillmentOrderLine.quantity), 0)).where(
        FulfillmentOrderLine.fulfillment_order_id == fulfillment_order_id
    )
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class FulfillmentFilter:
    order_id: int | None = None
    warehouse_ids: frozenset[int] | None = None
    """The warehouses asked for and in scope; None: every one."""
    channel_ids: frozenset[int] | None = None
    """The principal's channel scope; None: every channel."""
    status: FulfillmentStatus | None = None
    ship_by_after: dt.datetime | None = None
    """Only work not yet shipped whose ship-by deadline falls after this…"""
    ship_by_until: dt.datetime | None = None
    """…and at or before this (the SLA views: late, at risk)."""


WORKING = (
    FulfillmentStatus.RELEASED,
    FulfillmentStatus.ACKNOWLEDGED,
    FulfillmentStatus.PICKING,
    FulfillmentStatus.PACKED,
)
"""Statuses of work a warehouse has and has not shipped yet."""


def search_fulfillment_orders(
    session: Session, filters: FulfillmentFilter, page: PageRequest
) -> Page[FulfillmentOrder]:
    stmt = select(FulfillmentOrder)
    if filters.order_id is not None:
        stmt = stmt.where(FulfillmentOrder.order_id == filters.order_id)
    if filters.warehouse_ids is not None:
        stmt = stmt.where(FulfillmentOrder.warehouse_id.in_(sorted(filters.warehouse_ids)))
    if filters.channel_ids is not None:
        stmt = stmt.where(FulfillmentOrder.channel_id.in_(sorted(filters.channel_ids)))
    if filters.status is not None:
        stmt = stmt.where(FulfillmentOrder.status == filters.status)
    if filters.ship_by_after is not None or filters.ship_by_until is not None:
        stmt = stmt.where(FulfillmentOrder.status.in_(WORKING))
    if filters.ship_by_after is not None:
        stmt = stmt.where(FulfillmentOrder.ship_by > filters.ship_by_after)
    if filters.ship_by_until is not None:
        stmt = stmt.where(FulfillmentOrder.ship_by <= filters.ship_by_until)
    return paginate(
        session,
        stmt,
        request=page,
        sortable={
            "id": FulfillmentOrder.id,
            "created_at": FulfillmentOrder.created_at,
            "ship_by": FulfillmentOrder.ship_by,
        },
        default_sort="id",
        id_column=FulfillmentOrder.id,
    )


# -- many orders at once (backorders) -----------------------------------------------------


def new_plan_ids(session: Session, count: int) -> Callable[[], list[int]]:
    """Ids for `count` plans this transaction will insert (`insert_plan_rows`); what it
    returns gives them (queued inside `bulk.writing_behind`)."""
    return bulk.next_ids_behind(session, RoutingPlan, count)


def insert_plan_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many plans of one shape, their ids given, in one statement (the backorder pass)."""
    bulk.insert_rows(session, RoutingPlan, rows)


def planned_of_orders(
    session: Session, order_ids: Sequence[int]
) -> Callable[[], dict[tuple[int, int], int]]:
    """(order id, warehouse id) → the id of the order's fulfillment order still planned
    there; what it returns gives them (queued inside `bulk.writing_behind`)."""
    if not order_ids:
        return dict
    stmt = select(
        FulfillmentOrder.order_id, FulfillmentOrder.warehouse_id, FulfillmentOrder.id
    ).where(
        bulk.among(session, FulfillmentOrder.order_id, order_ids),
        FulfillmentOrder.status == FulfillmentStatus.PLANNED,
    )
    found = bulk.read_behind(session, stmt)
    return lambda: {(int(o), int(w)): int(i) for o, w, i in found()}


def new_fulfillment_order_ids(session: Session, count: int) -> Callable[[], list[int]]:
    """Ids for `count` fulfillment orders this transaction will insert; what it returns
    gives them (queued inside `bulk.writing_behind`)."""
    return bulk.next_ids_behind(session, FulfillmentOrder, count)


def insert_fulfillment_order_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many fulfillment orders of one shape, their ids given, in one statement (the
    backorder pass)."""
    bulk.insert_rows(session, FulfillmentOrder, rows)


def touch_fulfillment_orders(
    session: Session, fulfillment_order_ids: Sequence[int], at: dt.datetime
) -> None:
    """Fulfillment orders extended: version raised, updated now; queued inside
    `bulk.writing_behind`."""
    if fulfillment_order_ids:
        orders = cast(Table, FulfillmentOrder.__table__)
        bulk.execute_behind(
            session,
            update(orders)
            .where(bulk.among(session, orders.c.id, fulfillment_order_ids))
            .values(version=orders.c.version + 1, updated_at=at),
        )


def insert_fulfillment_line_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many fulfillment order lines of one shape in one statement (the backorder pass)."""
    bulk.insert_rows(session, FulfillmentOrderLine, rows)


# -- what-if over stored orders (read only) -------------------------------------------------
# Routing sits below orders (ARCHITECTURE.md rule 1): the order tables are named here as
# plain tables, read only, rather than through the orders package.

_orders = table(
    "sales_orders",
    column("id"),
    column("number"),
    column("channel_id"),
    column("ship_to", JSON),
    column("service_level"),
    column("priority"),
    column("ship_by", UtcDateTime()),
    column("placed_at", UtcDateTime()),
    column("status"),
)
_lines = table(
    "sales_order_lines",
    column("id"),
    column("order_id"),
    column("line_number"),
    column("item_id"),
    column("sku"),
    column("quantity"),
    column("cancelled"),
    column("released"),
    column("shipped"),
    column("delivered"),
)
_allocations = table(
    "sales_order_allocations",
    column("order_id"),
    column("line_id"),
    column("warehouse_id"),
    column("quantity"),
)


def stored_demands(
    session: Session, *, since: dt.datetime, channel_id: int | None
) -> list[tuple[Any, ...]]:
    """Lines of orders placed since `since` (of one channel, or all), not cancelled, with
    their units still to ship: order id, number, channel id, ship-to, service level,
    priority, ship-by, placed-at, line id, line number, item id, SKU, units; placed order."""
    to_ship = (
        _lines.c.quantity
        - _lines.c.cancelled
        - _lines.c.released
        - _lines.c.shipped
        - _lines.c.delivered
    )
    stmt = (
        select(
            _orders.c.id,
            _orders.c.number,
            _orders.c.channel_id,
            _orders.c.ship_to,
            _orders.c.service_level,
            _orders.c.priority,
            _orders.c.ship_by,
            _orders.c.placed_at,
            _lines.c.id,
            _lines.c.line_number,
            _lines.c.item_id,
            _lines.c.sku,
            to_ship,
        )
        .join(_lines, _lines.c.order_id == _orders.c.id)
        .where(
            _orders.c.placed_at >= since,
            _orders.c.status != "cancelled",
            _lines.c.item_id.is_not(None),
            to_ship > 0,
        )
        .order_by(_orders.c.placed_at, _orders.c.id, _lines.c.line_number)
    )
    if channel_id is not None:
        stmt = stmt.where(_orders.c.channel_id == channel_id)
    return [tuple(row) for row in session.execute(stmt)]


def held_by_orders(session: Session, order_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """(item id, warehouse id) → units the orders' allocations hold."""
    if not order_ids:
        return {}
    stmt = (
        select(_lines.c.item_id, _allocations.c.warehouse_id, func.sum(_allocations.c.quantity))
        .join(_lines, _lines.c.id == _allocations.c.line_id)
        .where(_allocations.c.order_id.in_(list(order_ids)))
        .group_by(_lines.c.item_id, _allocations.c.warehouse_id)
    )
    return {(int(i), int(w)): int(q or 0) for i, w, q in session.execute(stmt)}
