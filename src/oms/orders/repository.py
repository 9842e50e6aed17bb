"""Every query of the orders package.

Intake inserts the order with INSERT … ON CONFLICT DO NOTHING on (channel,
external id): the unique constraint, not a read before the write, decides
which of several concurrent deliveries creates the order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, load_only, make_transient_to_detached

from oms.catalog.models import Channel, ChannelWarehouse, Customer, CustomerType, Item, Warehouse
from oms.inbox.models import InboxMessage
from oms.inventory.models import Balance, Movement, MovementKind, Reservation
from oms.kit import batch, bulk
from oms.kit.paging import Page, PageRequest, paginate
from oms.kit.transient import transient
from oms.orders.models import (
    OrderAllocation,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderStatus,
    SalesOrder,
)
from oms.routing.models import FulfillmentOrder, LineRefusal, RoutingPlan
from oms.sequences import MASTER_DATA, Counter


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


# -- search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilter:
    """What `GET /api/v1/orders` narrows by; every field given must hold."""

    statuses: Sequence[str] = ()
    channel_ids: Sequence[int] | None = None
    """The orders' channels (the filter, within the principal's scope); None is any."""
    customer_id: int | None = None
    sku: str | None = None
    placed_from: dt.datetime | None = None
    placed_before: dt.datetime | None = None
    hold_type: str | None = None
    q: str | None = None


ORDER_SORTS: dict[str, InstrumentedAttribute[Any]] = {
    "placed_at": SalesOrder.placed_at,
    "number": SalesOrder.number,
    "total": SalesOrder.total,
    "priority": SalesOrder.priority,
}

_SUMMARY_COLUMNS = (
    SalesOrder.number,
    SalesOrder.channel_id,
    SalesOrder.external_id,
    SalesOrder.status,
    SalesOrder.customer_name,
    SalesOrder.customer_email,
    SalesOrder.total,
    SalesOrder.currency,
    SalesOrder.placed_at,
    SalesOrder.priority,
)


def search_orders(session: Session, filters: OrderFilter, page: PageRequest) -> Page[SalesOrder]:
    """One page of orders matching `filters`, loading only the columns a summary shows."""
    stmt = select(SalesOrder).options(load_only(*_SUMMARY_COLUMNS))
    if filters.statuses:
        stmt = stmt.where(SalesOrder.status.in_(list(filters.statuses)))
    if filters.channel_ids is not None:
        stmt = stmt.where(SalesOrder.channel_id.in_(list(filters.channel_ids)))
    if filters.customer_id is not None:
        stmt = stmt.where(SalesOrder.customer_id == filters.customer_id)
    if filters.placed_from is not None:
        stmt = stmt.where(SalesOrder.placed_at >= filters.placed_from)
    if filters.placed_before is not None:
        stmt = stmt.where(SalesOrder.placed_at < filters.placed_before)
    if filters.sku:
        stmt = stmt.where(
            exists().where(OrderLine.order_id == SalesOrder.id, OrderLine.sku == filters.sku)
        )
    if filters.hold_type:
        stmt = stmt.where(
            exists().where(
                OrderHold.order_id == SalesOrder.id,
                OrderHold.type == filters.hold_type,
                OrderHold.released_at.is_(None),
            )
        )
    if filters.q:
        text = filters.q.strip()
        stmt = stmt.where(
            or_(
                SalesOrder.number.icontains(text, autoescape=True),
                SalesOrder.external_id.icontains(text, autoescape=True),
                SalesOrder.customer_name.icontains(text, autoescape=True),
                SalesOrder.customer_email.icontains(text, autoescape=True),
            )
        )
    return paginate(
        session,
        stmt,
        request=page,
        sortable=ORDER_SORTS,
        default_sort="-placed_at",
        id_column=SalesOrder.id,
    )


def line_counts(session: Session, order_ids: Sequence[int]) -> dict[int, int]:
    """How many lines each order has, in one query."""
    if not order_ids:
        return {}
    stmt = (
        select(OrderLine.order_id, func.count())
        .where(OrderLine.order_id.in_(list(order_ids)))
        .group_by(OrderLine.order_id)
    )
    return {int(order_id): int(n) for order_id, n in session.execute(stmt)}


def active_hold_types(session: Session, order_ids: Sequence[int]) -> dict[int, list[str]]:
    """The types of each order's active holds, each type once, in one query."""
    if not order_ids:
        return {}
    stmt = (
        select(OrderHold.order_id, OrderHold.type)
        .where(OrderHold.order_id.in_(list(order_ids)), OrderHold.released_at.is_(None))
        .distinct()
        .order_by(OrderHold.order_id, OrderHold.type)
    )
    found: dict[int, list[str]] = {}
    for order_id, hold_type in session.execute(stmt):
        found.setdefault(int(order_id), []).append(str(hold_type))
    return found


# -- lifecycle -------------------------------------------------------------------------


def hold_by_id(session: Session, order_id: int, hold_id: int) -> OrderHold | None:
    """One hold of one order (a hold of another order is not found)."""
    return session.scalar(
        select(OrderHold).where(OrderHold.id == hold_id, OrderHold.order_id == order_id)
    )


def allocations_of_order(session: Session, order_id: int) -> list[OrderAllocation]:
    return list(
        session.scalars(
            select(OrderAllocation)
            .where(OrderAllocation.order_id == order_id)
            .order_by(OrderAllocation.id)
        )
    )


def events_page(session: Session, order_id: int, page: PageRequest) -> Page[OrderEvent]:
    """One page of the order's timeline, oldest first by default."""
    return paginate(
        session,
        select(OrderEvent).where(OrderEvent.order_id == order_id),
        request=page,
        sortable={"id": OrderEvent.id, "at": OrderEvent.at},
        default_sort="id",
        id_column=OrderEvent.id,
    )


# -- intake ----------------------------------------------------------------------------


def intake_channel(session: Session, code: str) -> tuple[Channel | None, list[Warehouse]]:
    """The channel with this code and its active warehouses in rank order, in one query."""
    stmt = (
        select(Channel, Warehouse)
        .outerjoin(ChannelWarehouse, ChannelWarehouse.channel_id == Channel.id)
        .outerjoin(
            Warehouse,
            and_(Warehouse.id == ChannelWarehouse.warehouse_id, Warehouse.active.is_(True)),
        )
        .where(Channel.code == code)
        .order_by(ChannelWarehouse.rank, Warehouse.code)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return None, []
    return rows[0][0], [warehouse for _, warehouse in rows if warehouse is not None]


def intake_items(
    session: Session, skus: Sequence[str], warehouse_ids: Sequence[int]
) -> tuple[dict[str, Item], dict[tuple[int, int], int]]:
    """The items with these SKUs, and what each has available at these warehouses
    (item id, warehouse id → units; absent pairs have none), in one query."""
    stmt = (
        select(
            Item, Balance.warehouse_id, Balance.on_hand - Balance.reserved - Balance.safety_stock
        )
        .outerjoin(
            Balance,
            and_(Balance.item_id == Item.id, Balance.warehouse_id.in_(list(warehouse_ids))),
        )
        .where(Item.sku.in_(sorted(set(skus))))
    )
    items: dict[str, Item] = {}
    available: dict[tuple[int, int], int] = {}
    for item, warehouse_id, units in session.execute(stmt):
        items[item.sku] = item
        if warehouse_id is not None:
            available[(item.id, int(warehouse_id))] = max(0, int(units))
    return items, available


def attach(session: Session, record: Any) -> None:
    """Make the object of a row just inserted by a statement persistent, without reading
    it back: its attributes must hold every column's value."""
    make_transient_to_detached(record)
    session.add(record)


def add_lines(session: Session, lines: Sequence[OrderLine]) -> None:
    """Insert an order's new lines in one multi-row statement and make them persistent
    without reading them back; their every column must be set. Ids are matched by line
    number, since RETURNING need not keep the rows' order (SQLite)."""
    if not lines:
        return
    columns = [c.key for c in OrderLine.__mapper__.column_attrs if c.key != "id"]
    rows = [{name: getattr(line, name) for name in columns} for line in lines]
    stmt = insert(OrderLine).values(rows).returning(OrderLine.line_number, OrderLine.id)
    ids = {int(number): int(line_id) for number, line_id in session.execute(stmt)}
    for line in lines:
        line.id = ids[line.line_number]
        attach(session, line)


def open_order_value(
    session: Session, customer_id: int, *, excluding: int | None = None
) -> dict[str, Decimal]:
    """The total of a customer's orders neither cancelled nor closed, per currency."""
    stmt = (
        select(SalesOrder.currency, func.sum(SalesOrder.total))
        .where(
            SalesOrder.customer_id == customer_id,
            SalesOrder.status.not_in([OrderStatus.CANCELLED, OrderStatus.CLOSED]),
        )
        .group_by(SalesOrder.currency)
    )
    if excluding is not None:
        stmt = stmt.where(SalesOrder.id != excluding)
    return {str(currency): Decimal(total) for currency, total in session.execute(stmt)}


def external_ids_of(session: Session, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (channel id, external id) keys already name an order (one query)."""
    if not keys:
        return set()
    stmt = select(SalesOrder.channel_id, SalesOrder.external_id).where(
        SalesOrder.channel_id.in_({c for c, _ in keys}),
        SalesOrder.external_id.in_({e for _, e in keys}),
    )
    wanted = set(keys)
    return {(int(c), str(e)) for c, e in session.execute(stmt)} & wanted


# -- backorders ---------------------------------------------------------------------------


class BackorderRow(NamedTuple):
    """A backordered line that stock may serve now, in the order backorders are served
    (a named tuple: a pass makes one for each of up to 200k lines)."""

    line_id: int
    order_id: int
    number: str
    channel_id: int
    line_number: int
    item_id: int
    sku: str
    backordered: int


def servable_backorders(
    session: Session,
    *,
    item_ids: Sequence[int] | None,
    limit: int,
    refused: frozenset[int] = frozenset(),
) -> list[BackorderRow]:
    """Backordered lines of live orders, item by item in serving order (priority first, then
    earlier ship-by with none last, earlier placed, lower id), cut where the units backordered
    before a line already take everything available to its channel for that item.

    One query gives every backordered line of an item its channel has stock of, in that
    order, with the channel's available units; the running sum per item and channel that
    cuts is taken here, on the way through (a window function in the query would cost
    SQLite two more sorts of every line). A line in `refused` (a warehouse gave it back)
    takes nothing in that sum, nor counts toward `limit`: what it may not take stays for
    the lines after it, and refused lines never crowd those out of a pass."""
    available = Balance.on_hand - Balance.reserved - Balance.safety_stock
    supply = (
        select(
            Balance.item_id.label("item_id"),
            ChannelWarehouse.channel_id.label("channel_id"),
            func.sum(available).label("units"),
        )
        .join(ChannelWarehouse, ChannelWarehouse.warehouse_id == Balance.warehouse_id)
        .join(Warehouse, Warehouse.id == Balance.warehouse_id)
        .where(available > 0, Warehouse.active.is_(True))
        .group_by(Balance.item_id, ChannelWarehouse.channel_id)
    )
    if item_ids is not None:
        supply = supply.where(Balance.item_id.in_(list(item_ids)))
    supply_q = supply.subquery("supply")
    stmt = (
        select(
            OrderLine.id,
            SalesOrder.id,
            SalesOrder.number,
            SalesOrder.channel_id,
            OrderLine.line_number,
            OrderLine.item_id,
            OrderLine.sku,
            OrderLine.backordered,
            supply_q.c.units,
        )
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .join(
            supply_q,
            and_(
                supply_q.c.item_id == OrderLine.item_id,
                supply_q.c.channel_id == SalesOrder.channel_id,
            ),
        )
        .where(
            OrderLine.backordered > 0,
            SalesOrder.status.not_in([OrderStatus.CANCELLED, OrderStatus.CLOSED]),
        )
        .order_by(
            OrderLine.item_id,
            SalesOrder.priority.desc(),
            case((SalesOrder.ship_by.is_(None), 1), else_=0),
            SalesOrder.ship_by,
            SalesOrder.placed_at,
            SalesOrder.id,
            OrderLine.id,
        )
    )
    found: list[BackorderRow] = []
    before: dict[tuple[int, int], int] = {}
    counted = 0
    for *fields, units in session.execute(stmt):
        row = BackorderRow(*fields)
        key = (row.item_id, row.channel_id)
        taken = before.get(key, 0)
        if row.line_id in refused:
            if taken < units:
                found.append(row)
            continue
        before[key] = taken + row.backordered
        if taken < units:
            found.append(row)
            counted += 1
            if counted == limit:
                break
    return found


def refuse(
    session: Session,
    fulfillment_order: FulfillmentOrder,
    lines: Sequence[OrderLine],
    *,
    now: dt.datetime,
) -> None:
    """Note that the fulfillment order's warehouse gave these lines' units back, after the
    ledger movements of their items there so far."""
    lines = list({line.id: line for line in lines}.values())
    items = sorted({line.item_id for line in lines if line.item_id is not None})
    if not items:
        return
    warehouse_id = fulfillment_order.warehouse_id
    last: dict[int, int] = {
        int(item_id): int(largest)
        for item_id, largest in session.execute(
            select(Movement.item_id, func.max(Movement.id))
            .where(Movement.item_id.in_(items), Movement.warehouse_id == warehouse_id)
            .group_by(Movement.item_id)
        )
    }
    session.add_all(
        [
            LineRefusal(
                line_id=line.id,
                warehouse_id=warehouse_id,
                item_id=line.item_id,
                fulfillment_order_id=fulfillment_order.id,
                refused_at=now,
                after_movement=last.get(line.item_id, 0),
            )
            for line in lines
            if line.item_id is not None
        ]
    )
    session.flush()


RESTOCKED = (
    MovementKind.RECEIPT,
    MovementKind.ADJUSTMENT,
    MovementKind.COUNT_CORRECTION,
    MovementKind.WRITE_OFF,
    MovementKind.TRANSFER_IN,
    MovementKind.RETURN_RESTOCK,
)
"""Movements after which a warehouse's stock of an item is known afresh: counted,
adjusted, written off or replenished."""


def standing_refusals(
    session: Session, *, item_ids: Sequence[int] | None = None
) -> set[tuple[int, int]]:
    """(line id, warehouse id) of backordered lines (of `item_ids`, or any) a warehouse
    gave back, whose stock of the item nothing counted, adjusted, wrote off or replenished
    since; the refusals something did are deleted first (they no longer stand)."""
    cleared = (
        select(Movement.id)
        .where(
            Movement.item_id == LineRefusal.item_id,
            Movement.warehouse_id == LineRefusal.warehouse_id,
            Movement.id > LineRefusal.after_movement,
            Movement.kind.in_(RESTOCKED),
        )
        .exists()
    )
    session.execute(delete(LineRefusal).where(cleared))
    stmt = (
        select(LineRefusal.line_id, LineRefusal.warehouse_id)
        .join(OrderLine, OrderLine.id == LineRefusal.line_id)
        .where(OrderLine.backordered > 0)
    )
    if item_ids is not None:
        stmt = stmt.where(LineRefusal.item_id.in_(list(item_ids)))
    return {(int(line_id), int(warehouse_id)) for line_id, warehouse_id in session.execute(stmt)}


def ranked_channel_warehouses(session: Session, channel_ids: Sequence[int]) -> dict[int, list[int]]:
    """channel id → the active warehouses it may use, in the channel's rank order."""
    rows = session.execute(
        select(ChannelWarehouse.channel_id, ChannelWarehouse.warehouse_id)
        .join(Warehouse, Warehouse.id == ChannelWarehouse.warehouse_id)
        .where(ChannelWarehouse.channel_id.in_(list(channel_ids)), Warehouse.active.is_(True))
        .order_by(ChannelWarehouse.channel_id, ChannelWarehouse.rank, Warehouse.code)
    )
    ranked: dict[int, list[int]] = {}
    for channel_id, warehouse_id in rows:
        ranked.setdefault(int(channel_id), []).append(int(warehouse_id))
    return ranked


def move_backordered_to_allocated(session: Session, moves: Sequence[tuple[int, int]]) -> None:
    """(line id, units): units of each line from backordered to allocated, in one UPDATE …
    FROM the moves; queued inside `bulk.writing_behind`."""
    if not moves:
        return
    table = cast(Table, OrderLine.__table__)
    ids, units = zip(*moves, strict=True)
    given = bulk.given_rows(session, "moves", {"id": (Integer(), ids), "units": (Integer(), units)})
    bulk.execute_behind(
        session,
        update(table)
        .where(table.c.id == given.c.id)
        .values(
            allocated=table.c.allocated + given.c.units,
            backordered=table.c.backordered - given.c.units,
        ),
    )


def order_buckets(
    session: Session, order_ids: Sequence[int]
) -> Callable[[], list[tuple[Any, ...]]]:
    """Per order: id, accepted, closed, and its lines' summed buckets (ordered, allocated,
    backordered, released, shipped, delivered, cancelled), as the driver gives them; what
    it returns gives them, once read (inside `bulk.writing_behind` the query is queued
    after the writes before it)."""
    stmt = (
        select(
            SalesOrder.id,
            SalesOrder.accepted,
            SalesOrder.closed_at.is_not(None),
            func.sum(OrderLine.quantity),
            func.sum(OrderLine.allocated),
            func.sum(OrderLine.backordered),
            func.sum(OrderLine.released),
            func.sum(OrderLine.shipped),
            func.sum(OrderLine.delivered),
            func.sum(OrderLine.cancelled),
        )
        .join(OrderLine, OrderLine.order_id == SalesOrder.id)
        .where(bulk.among(session, SalesOrder.id, order_ids))
        .group_by(SalesOrder.id, SalesOrder.accepted, SalesOrder.closed_at)
    )
    return bulk.read_behind(session, stmt)


def set_statuses(session: Session, statuses: Sequence[tuple[int, str]], at: dt.datetime) -> None:
    """(order id, status): store each, raising the version (the ETag), in one UPDATE …
    FROM the statuses; queued inside `bulk.writing_behind`."""
    if not statuses:
        return
    table = cast(Table, SalesOrder.__table__)
    ids, names = zip(*statuses, strict=True)
    given = bulk.given_rows(
        session, "statuses", {"id": (Integer(), ids), "status": (String(), names)}
    )
    bulk.execute_behind(
        session,
        update(table)
        .where(table.c.id == given.c.id)
        .values(status=given.c.status, version=table.c.version + 1, updated_at=at),
    )


def insert_allocation_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many allocations of one shape (the same keys in each) in one statement."""
    bulk.insert_rows(session, OrderAllocation, rows)


def insert_event_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many timeline events of one shape (the same keys in each) in one statement."""
    bulk.insert_rows(session, OrderEvent, rows)


# -- the express lane of intake (`oms.orders.express`) -------------------------------------


_stores: dict[str, tuple[batch.Fragment, list[str]]] = {}


def store_numbered(
    session: Session, rows: Sequence[Mapping[str, Any]], counter: str
) -> tuple[list[int], int]:
    """Keep payloads in the inbox (`rows`: their columns but the id) and draw as many
    values of `counter`: their inbox ids, in the order given, and the last value drawn;
    one statement on PostgreSQL (one and one a payload on SQLite)."""
    connection = session.connection()
    dialect = connection.dialect
    found = _stores.get(dialect.name)
    if found is None:
        columns = tuple(c.name for c in cast(Table, InboxMessage.__table__).c if c.name != "id")
        message = batch.fragment(batch.Insert(InboxMessage, columns), dialect, "m")
        draw = (
            "INSERT INTO counters (name, value) VALUES (%(counter)s, %(count)s) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value "
            "RETURNING value"
        )
        if message.postgresql:
            sql = [f"WITH n AS ({draw}) {message.sql} RETURNING id, (SELECT value FROM n)"]  # noqa: S608
        else:
            sql = [draw.replace("%(counter)s", "?").replace("%(count)s", "?")]
            sql.append(f"{message.sql} RETURNING id")
        found = _stores[dialect.name] = (message, sql)
    message, sql = found
    if message.postgresql:
        params = cast(dict[str, Any], message.params(rows))
        returned = connection.exec_driver_sql(
            sql[0], {**params, "counter": counter, "count": len(rows)}
        ).all()
        # Ids come from a sequence, drawn row by row in the order the rows are inserted.
        return sorted(int(inbox_id) for inbox_id, _ in returned), int(returned[0][1])
    value = connection.exec_driver_sql(sql[0], (counter, len(rows))).scalar_one()
    ids = [
        int(connection.exec_driver_sql(sql[1], bound).scalar_one())
        for bound in cast(list[tuple[Any, ...]], message.params(rows))
    ]
    return ids, int(value)


def master_data_generation(session: Session) -> int | None:
    """The `master_data` counter's value (None before anything bumped it)."""
    value = session.scalar(select(Counter.value).where(Counter.name == MASTER_DATA))
    return int(value) if value is not None else None


@dataclass(frozen=True)
class IntakeReading:
    """What the express lane reads in one statement."""

    generation: int | None
    available: dict[tuple[int, int], int]
    """(item id, warehouse id) → units available, none below 0; absent pairs have none."""
    customers: dict[str, Customer]
    """e-mail address → the active customer with it, lowest id first (a transient copy)."""
    ids: dict[type[Any], list[int]]
    """Ids drawn for the rows to write, by model (`DRAWN`)."""
    existing: set[tuple[int, str]]
    """(channel id, external id) of the orders asked about that exist."""


# How many ids to draw is read through a subquery, in the read and in `draw_ids`: the
# planner then does not know it and plans each statement the same way for every count,
# so PostgreSQL keeps one generic plan for it. Seen as a constant, the count made each
# custom plan look cheaper than the generic one, and both statements were planned
# again on every run (0.2 ms of the server's time each).
#
# The buyers and the existing orders are looked up key by key (a LATERAL subquery with
# LIMIT 1 is an index lookup whatever the planner believes of the tables). Asked as
# `channel_id = ANY(...) AND external_id = ANY(...)`, a table whose statistics were
# stale or missing (never analyzed: autovacuum off) was read through the channel's
# whole range of the unique index, every order of the channel, on every run: the read
# of a 100-order bulk chunk went from 2 to 24 ms over the first 20,000 orders.
READ_DRAWN: tuple[type[Any], ...] = (SalesOrder, OrderLine)
"""The models whose ids the lane's read draws (`IntakeReading.ids`)."""
DRAWN: tuple[type[Any], ...] = (Reservation, RoutingPlan, FulfillmentOrder)
"""The models whose ids `draw_ids` draws, once the orders are planned."""


def _nextvals(model: type[Any]) -> str:
    """PostgreSQL: an array of `n_<table>` new ids of the model's table."""
    table = model.__tablename__
    return (
        f"ARRAY(SELECT nextval(pg_get_serial_sequence('{table}', 'id')::regclass) "  # noqa: S608
        f"FROM generate_series(1, (SELECT %(n_{table})s::integer)))"
    )


_READ_POSTGRESQL = f"""
SELECT g.value, s.items, s.warehouses, s.units, {", ".join(_nextvals(m) for m in READ_DRAWN)},
       (SELECT json_agg(c) FROM unnest(%(emails)s::text[]) AS e(email)
        CROSS JOIN LATERAL (
            SELECT id, type, name, email, credit_limit FROM customers
            WHERE active AND email = e.email ORDER BY id LIMIT 1
        ) AS c),
       ARRAY(SELECT ARRAY[k.channel_id::text, k.external_id]
             FROM unnest(%(channels)s::integer[], %(external_ids)s::text[])
                 AS k(channel_id, external_id)
             CROSS JOIN LATERAL (
                 SELECT 1 FROM sales_orders AS o
                 WHERE o.channel_id = k.channel_id AND o.external_id = k.external_id LIMIT 1
             ) AS found)
FROM (SELECT 1) AS one
LEFT JOIN counters AS g ON g.name = 'master_data'
CROSS JOIN LATERAL (
    SELECT array_agg(b.item_id) AS items, array_agg(b.warehouse_id) AS warehouses,
           array_agg(b.on_hand - b.reserved - b.safety_stock) AS units
    FROM inventory_balances AS b WHERE b.item_id = ANY(%(items)s::integer[])
) AS s
"""  # noqa: S608


def _largest(models: Sequence[type[Any]]) -> str:
    """SQLite: the largest id of each model's table."""
    return ", ".join(f"(SELECT max(id) FROM {m.__tablename__})" for m in models)  # noqa: S608


_READ_SQLITE = (
    f"SELECT (SELECT value FROM counters WHERE name = 'master_data'), {_largest(READ_DRAWN)}",  # noqa: S608
    "SELECT b.item_id, b.warehouse_id, b.on_hand - b.reserved - b.safety_stock "
    "FROM inventory_balances AS b JOIN json_each(?) AS wanted ON b.item_id = wanted.value",
    "SELECT id, type, name, email, credit_limit FROM customers WHERE id IN ("
    "SELECT min(id) FROM customers WHERE active AND email IN (SELECT value FROM json_each(?)) "
    "GROUP BY email)",
    "SELECT channel_id, external_id FROM sales_orders "
    "WHERE channel_id IN (SELECT value FROM json_each(?)) "
    "AND external_id IN (SELECT value FROM json_each(?))",
)


def read_for_intake(
    session: Session,
    item_ids: Sequence[int],
    emails: Sequence[str],
    keys: Sequence[tuple[int, str]],
    *,
    orders: int,
    lines: int,
) -> IntakeReading:
    """The master-data counter, the items' stock at every warehouse, the buyers by e-mail,
    the orders with these (channel id, external id) keys (each looked up by the unique
    key's index), and ids for `orders` orders of `lines` lines in all. One statement on
    PostgreSQL (four on SQLite, in the process, whose transaction holds the one write
    lock: the ids after the largest)."""
    connection = session.connection()
    counts = dict(zip(READ_DRAWN, (orders, lines), strict=True))
    buyers: Sequence[Any]
    if bulk.is_postgresql(session):
        row = connection.exec_driver_sql(
            _READ_POSTGRESQL,
            {
                "items": list(item_ids),
                "emails": list(emails),
                "channels": [c for c, _ in keys],
                "external_ids": [e for _, e in keys],
                **{f"n_{model.__tablename__}": n for model, n in counts.items()},
            },
        ).one()
        generation, items, warehouses, units, *drawn, found, known = row
        stock: Sequence[Any] = list(zip(items or (), warehouses or (), units or (), strict=True))
        buyers = [
            (c["id"], c["type"], c["name"], c["email"], c["credit_limit"]) for c in found or ()
        ]
    else:
        head, balances, customers, exist = _READ_SQLITE
        generation, *largest = connection.exec_driver_sql(head).one()
        drawn = [_after(last, counts[m]) for m, last in zip(READ_DRAWN, largest, strict=True)]
        stock = connection.exec_driver_sql(balances, (json.dumps(list(item_ids)),)).all()
        buyers = connection.exec_driver_sql(customers, (json.dumps(list(emails)),)).all()
        known = connection.exec_driver_sql(
            exist,
            (json.dumps(sorted({c for c, _ in keys})), json.dumps(sorted({e for _, e in keys}))),
        ).all()
    return IntakeReading(
        generation=int(generation) if generation is not None else None,
        available={(int(i), int(w)): max(0, int(u)) for i, w, u in stock},
        customers={
            address: transient(
                Customer,
                {
                    "id": customer_id,
                    "type": CustomerType(kind),
                    "name": name,
                    "email": address,
                    "credit_limit": Decimal(str(limit)) if limit is not None else None,
                },
            )
            for customer_id, kind, name, address, limit in buyers
        },
        ids={model: [int(i) for i in ids] for model, ids in zip(READ_DRAWN, drawn, strict=True)},
        existing={(int(c), str(e)) for c, e in known or ()} & set(keys),
    )


def _after(last: Any, count: int) -> list[int]:
    start = int(last or 0) + 1
    return list(range(start, start + count))


def draw_ids(session: Session, counts: Mapping[type[Any], int]) -> dict[type[Any], list[int]]:
    """Ids for `counts` rows of each model of `DRAWN`: one statement (on SQLite, whose
    transaction holds the write lock, the ids after the largest)."""
    connection = session.connection()
    row: Sequence[Any]
    if bulk.is_postgresql(session):
        row = connection.exec_driver_sql(
            _DRAW_POSTGRESQL, {f"n_{m.__tablename__}": counts.get(m, 0) for m in DRAWN}
        ).one()
    else:
        largest = connection.exec_driver_sql(_DRAW_SQLITE).one()
        row = [_after(last, counts.get(m, 0)) for m, last in zip(DRAWN, largest, strict=True)]
    return {model: [int(i) for i in ids] for model, ids in zip(DRAWN, row, strict=True)}


_DRAW_POSTGRESQL = f"SELECT {', '.join(_nextvals(m) for m in DRAWN)}"
_DRAW_SQLITE = f"SELECT {_largest(DRAWN)}"


ORDER_KEY = "uq_sales_orders_channel_id_external_id"


def is_order_key_taken(error: IntegrityError) -> bool:
    """Whether an insert broke the unique (channel, external id) of orders."""
    diagnosis = getattr(error.orig, "diag", None)
    if diagnosis is not None:
        return getattr(diagnosis, "constraint_name", None) == ORDER_KEY
    return "sales_orders.channel_id, sales_orders.external_id" in str(error.orig)
