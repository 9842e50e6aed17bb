"""Every query of the inventory package.

The statements that move stock are conditional single statements (rule 6 of
ARCHITECTURE.md): they change a balance only when the result stays valid, and
say so by the number of rows they touched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oms import sequences
from oms.catalog.models import Channel, ChannelWarehouse, Item, Warehouse
from oms.db import UtcDateTime
from oms.inventory.models import (
    AvailabilityMark,
    Balance,
    ChannelAvailability,
    ChannelAvailabilityConfig,
    Movement,
    ReorderSetting,
    Reservation,
    ReservationStatus,
    SafetyStockRule,
    SnapshotLine,
    SnapshotLineStatus,
    StockSnapshot,
    Transfer,
    TransferLine,
    TransferStatus,
)
from oms.kit import bulk, clock
from oms.kit.paging import Page, PageRequest, paginate


def _insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either backend."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    session.execute(module.insert(table).on_conflict_do_nothing(), rows)


# -- balances ------------------------------------------------------------------------


def ensure_balances(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Make the balance rows of these (item id, warehouse id) pairs exist, empty if new."""
    missing = [(i, w) for i, w in sorted(set(pairs)) if balance_id(session, i, w) is None]
    _insert_ignore(
        session,
        Balance,
        [
            {
                "item_id": i,
                "warehouse_id": w,
                "on_hand": 0,
                "reserved": 0,
                "in_transit": 0,
                "safety_stock": effective_safety_stock(session, i, w),
                "updated_at": clock.now(),
            }
            for i, w in missing
        ],
    )


def balance_id(session: Session, item_id: int, warehouse_id: int) -> int | None:
    return session.scalar(
        select(Balance.id).where(Balance.item_id == item_id, Balance.warehouse_id == warehouse_id)
    )


def balance(session: Session, item_id: int, warehouse_id: int) -> Balance | None:
    """The balance as stored now (conditional updates bypass the session's copies)."""
    return session.scalar(
        select(Balance)
        .where(Balance.item_id == item_id, Balance.warehouse_id == warehouse_id)
        .execution_options(populate_existing=True)
    )


def balances_for(session: Session, pairs: Iterable[tuple[int, int]]) -> list[Balance]:
    """Balances of these pairs, by id (the order rows are locked in)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return []
    found = []
    for item_id, warehouse_id in wanted:
        row = balance(session, item_id, warehouse_id)
        if row is not None:
            found.append(row)
    return sorted(found, key=lambda b: b.id)


def try_reserve(session: Session, *, item_id: int, warehouse_id: int, quantity: int) -> bool:
    """Add `quantity` to reserved only if available stock covers it; True when it did.

    One conditional UPDATE: atomic on SQLite and PostgreSQL, so two concurrent
    reservations can never both take the last unit.
    """
    result = session.execute(
        update(Balance)
        .where(
            Balance.item_id == item_id,
            Balance.warehouse_id == warehouse_id,
            Balance.on_hand - Balance.reserved - Balance.safety_stock >= quantity,
        )
        .values(reserved=Balance.reserved + quantity, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


RESERVE_AT_ONCE_FROM = 8
"""Fewer pairs are reserved one statement each: as quick, and the common case of an order."""


def reserve_where_available(
    session: Session, wanted: Sequence[tuple[int, int, int]]
) -> set[tuple[int, int]]:
    """(item id, warehouse id, units), one per pair: add the units to reserved at each pair
    whose available stock covers them; the pairs that got them.

    A conditional UPDATE per pair, in (item id, warehouse id) order so that concurrent
    batches cannot deadlock; from `RESERVE_AT_ONCE_FROM` pairs, one conditional UPDATE …
    FROM the wanted units whatever their number, after (on PostgreSQL) the rows are
    locked in that order.
    """
    if not wanted:
        return set()
    if session.autoflush:
        session.flush()  # as `try_reserve`'s ORM statement would: no stale balance flushed later
    now = clock.now()
    table = cast(Table, Balance.__table__)
    available = table.c.on_hand - table.c.reserved - table.c.safety_stock
    if len(wanted) >= RESERVE_AT_ONCE_FROM:
        items, warehouses, units = zip(*sorted(wanted), strict=True)
        given = bulk.given_rows(
            session,
            "wanted",
            {
                "item_id": (Integer(), items),
                "warehouse_id": (Integer(), warehouses),
                "units": (Integer(), units),
            },
        )
        match = and_(
            table.c.item_id == given.c.item_id, table.c.warehouse_id == given.c.warehouse_id
        )
        if bulk.is_postgresql(session):
            session.execute(
                select(table.c.id)
                .join_from(table, given, match)
                .order_by(table.c.item_id, table.c.warehouse_id)
                .with_for_update(of=table)
            ).all()
        granted = session.execute(
            update(table)
            .where(match, available >= given.c.units)
            .values(reserved=table.c.reserved + given.c.units, updated_at=now)
            .returning(table.c.item_id, table.c.warehouse_id)
        )
        return {(int(i), int(w)) for i, w in granted}
    stmt = (
        update(table)
        .where(
            table.c.item_id == bindparam("b_item"),
            table.c.warehouse_id == bindparam("b_warehouse"),
            available >= bindparam("b_units"),
        )
        .values(reserved=table.c.reserved + bindparam("b_units"), updated_at=now)
    )
    connection = session.connection()
    return {
        (item_id, warehouse_id)
        for item_id, warehouse_id, units in sorted(wanted)
        if connection.execute(
            stmt, {"b_item": item_id, "b_warehouse": warehouse_id, "b_units": units}
        ).rowcount
    }


def take_and_mark(
    session: Session, wanted: Sequence[tuple[int, int, int]], *, now: dt.datetime
) -> set[tuple[int, int]]:
    """`reserve_where_available` and `mark_items` for the units taken, in one statement on
    PostgreSQL (two on SQLite): the rows locked in (item, warehouse) order, every pair at
    once whatever their number; the pairs taken. For the intake's express lane, which
    takes its units last, in a round trip of their own."""
    if not wanted:
        return set()
    connection = session.connection()
    if bulk.is_postgresql(session):
        rows = [{"item_id": i, "warehouse_id": w, "units": u} for i, w, u in wanted]
        taken = connection.exec_driver_sql(
            _TAKE_POSTGRESQL, {"wanted": json.dumps(rows), "now": now}
        ).all()
        return {(int(i), int(w)) for i, w in taken}
    dialect = connection.dialect
    stamp = cast(Table, Balance.__table__).c.updated_at.type
    marked = cast(Table, AvailabilityMark.__table__).c.marked_at.type
    taken = connection.exec_driver_sql(
        _TAKE_SQLITE,
        (_sqlite_time(stamp, dialect, now), json.dumps([[i, w, u] for i, w, u in wanted])),
    ).all()
    items = sorted({int(i) for i, _ in taken})
    if items:
        at = _sqlite_time(marked, dialect, now)
        connection.exec_driver_sql(_MARK_SQLITE, [(item, at) for item in items])
    return {(int(i), int(w)) for i, w in taken}


_TAKE_POSTGRESQL = """
WITH wanted AS (
    SELECT * FROM json_to_recordset(%(wanted)s::json)
        AS w(item_id integer, warehouse_id integer, units integer)
),
locked AS (
    SELECT b.id, wanted.units FROM inventory_balances AS b
    JOIN wanted ON b.item_id = wanted.item_id AND b.warehouse_id = wanted.warehouse_id
    ORDER BY b.item_id, b.warehouse_id
    FOR UPDATE OF b
),
taken AS (
    UPDATE inventory_balances AS b
    SET reserved = b.reserved + locked.units, updated_at = %(now)s
    FROM locked
    WHERE b.id = locked.id AND b.on_hand - b.reserved - b.safety_stock >= locked.units
    RETURNING b.item_id, b.warehouse_id
),
marked AS (
    INSERT INTO availability_marks (item_id, marked_at)
    SELECT DISTINCT item_id, %(now)s FROM taken
    ON CONFLICT DO NOTHING
)
SELECT item_id, warehouse_id FROM taken
"""

_MARK_SQLITE = "INSERT OR IGNORE INTO availability_marks (item_id, marked_at) VALUES (?, ?)"

_TAKE_SQLITE = """
UPDATE inventory_balances SET reserved = reserved + wanted.units, updated_at = ?
FROM (
    SELECT json_extract(value, '$[0]') AS item_id, json_extract(value, '$[1]') AS warehouse_id,
           json_extract(value, '$[2]') AS units
    FROM json_each(?)
) AS wanted
WHERE inventory_balances.item_id = wanted.item_id
  AND inventory_balances.warehouse_id = wanted.warehouse_id
  AND inventory_balances.on_hand - inventory_balances.reserved
      - inventory_balances.safety_stock >= wanted.units
RETURNING inventory_balances.item_id, inventory_balances.warehouse_id
"""


def _sqlite_time(kind: Any, dialect: Any, value: dt.datetime) -> Any:
    process = kind._cached_bind_processor(dialect)
    return process(value) if process is not None else value


def try_change(
    session: Session,
    *,
    item_id: int,
    warehouse_id: int,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    in_transit_delta: int = 0,
    within_available: bool = False,
) -> bool:
    """Apply deltas only if on hand, reserved and in transit all stay at or above zero
    (and, `within_available`, only if available stock stays at or above zero too)."""
    conditions = [
        Balance.item_id == item_id,
        Balance.warehouse_id == warehouse_id,
        Balance.on_hand + on_hand_delta >= 0,
        Balance.reserved + reserved_delta >= 0,
        Balance.in_transit + in_transit_delta >= 0,
    ]
    if within_available:
        conditions.append(
            Balance.on_hand
            + on_hand_delta
            - Balance.reserved
            - reserved_delta
            - Balance.safety_stock
            >= 0
        )
    result = session.execute(
        update(Balance)
        .where(*conditions)
        .values(
            on_hand=Balance.on_hand + on_hand_delta,
            reserved=Balance.reserved + reserved_delta,
            in_transit=Balance.in_transit + in_transit_delta,
            updated_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_safety_stock(session: Session, *, balance_ids: Sequence[int], quantity: int) -> None:
    if balance_ids:
        session.execute(
            update(Balance)
            .where(Balance.id.in_(list(balance_ids)))
            .values(safety_stock=quantity)
            .execution_options(synchronize_session=False)
        )


def add_movements(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append ledger rows of one shape (the same keys in each), in one statement."""
    bulk.insert_rows(session, Movement, rows)


@dataclass(frozen=True)
class BalanceRow:
    """A balance joined with its item's SKU and its warehouse's code."""

    sku: str
    warehouse: str
    item_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    safety_stock: int
    in_transit: int

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


def balance_rows(
    session: Session,
    *,
    skus: Sequence[str] | None = None,
    warehouses: Sequence[str] | None = None,
    item_ids: Sequence[int] | None = None,
) -> list[BalanceRow]:
    stmt = (
        select(
            Item.sku,
            Warehouse.code,
            Balance.item_id,
            Balance.warehouse_id,
            Balance.on_hand,
            Balance.reserved,
            Balance.safety_stock,
            Balance.in_transit,
        )
        .join(Item, Item.id == Balance.item_id)
        .join(Warehouse, Warehouse.id == Balance.warehouse_id)
        .order_by(Item.sku, Warehouse.code)
    )
    if skus is not None:
        stmt = stmt.where(Item.sku.in_(list(skus)))
    if warehouses is not None:
        stmt = stmt.where(Warehouse.code.in_(list(warehouses)))
    if item_ids is not None:
        stmt = stmt.where(Balance.item_id.in_(list(item_ids)))
    return [BalanceRow(*row) for row in session.execute(stmt)]


def ledger_mismatches(session: Session) -> list[tuple[int, int, int, int, int, int]]:
    """(item, warehouse, on hand, ledger on hand, reserved, ledger reserved) that disagree."""
    sums = (
        select(
            Movement.item_id,
            Movement.warehouse_id,
            func.sum(Movement.on_hand_delta).label("on_hand"),
            func.sum(Movement.reserved_delta).label("reserved"),
        )
        .group_by(Movement.item_id, Movement.warehouse_id)
        .subquery()
    )
    ledger_on_hand = func.coalesce(sums.c.on_hand, literal(0))
    ledger_reserved = func.coalesce(sums.c.reserved, literal(0))
    stmt = (
        select(
            Balance.item_id,
            Balance.warehouse_id,
            Balance.on_hand,
            ledger_on_hand,
            Balance.reserved,
            ledger_reserved,
        )
        .outerjoin(
            sums,
            and_(sums.c.item_id == Balance.item_id, sums.c.warehouse_id == Balance.warehouse_id),
        )
        .where((Balance.on_hand != ledger_on_hand) | (Balance.reserved != ledger_reserved))
    )
    rows = [tuple(int(v) for v in r) for r in session.execute(stmt)]
    orphans = (
        select(sums.c.item_id, sums.c.warehouse_id, sums.c.on_hand, sums.c.reserved)
        .outerjoin(
            Balance,
            and_(sums.c.item_id == Balance.item_id, sums.c.warehouse_id == Balance.warehouse_id),
        )
        .where(Balance.id.is_(None))
    )
    for item_id, warehouse_id, on_hand, reserved in session.execute(orphans):
        rows.append((int(item_id), int(warehouse_id), 0, int(on_hand), 0, int(reserved)))
    return rows  # type: ignore[return-value]


def reservations_held(session: Session) -> list[tuple[int, int, int]]:
    """(item, warehouse, reserved) whose balance's reserved differs from its active reservations."""
    held = (
        select(
            Reservation.item_id,
            Reservation.warehouse_id,
            func.sum(Reservation.quantity - Reservation.consumed).label("held"),
        )
        .where(Reservation.status == ReservationStatus.ACTIVE)
        .group_by(Reservation.item_id, Reservation.warehouse_id)
        .subquery()
    )
    held_quantity = func.coalesce(held.c.held, literal(0))
    stmt = (
        select(Balance.item_id, Balance.warehouse_id, Balance.reserved, held_quantity)
        .outerjoin(
            held,
            and_(held.c.item_id == Balance.item_id, held.c.warehouse_id == Balance.warehouse_id),
        )
        .where(Balance.reserved != held_quantity)
    )
    return [(int(a), int(b), int(c) - int(d)) for a, b, c, d in session.execute(stmt)]


# -- reservations --------------------------------------------------------------------


def add_reservation(session: Session, reservation: Reservation) -> None:
    session.add(reservation)
    session.flush()


def reservation_by_id(session: Session, reservation_id: int) -> Reservation | None:
    return session.get(Reservation, reservation_id)


def close_reservation(session: Session, reservation_id: int, *, status: ReservationStatus) -> bool:
    """Close an active reservation; False when it was no longer active (someone else closed it)."""
    result = session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == ReservationStatus.ACTIVE)
        .values(status=status, closed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def shrink_reservation(session: Session, reservation_id: int, *, quantity: int) -> bool:
    """Take `quantity` off an active reservation that holds more than that."""
    result = session.execute(
        update(Reservation)
        .where(
            Reservation.id == reservation_id,
            Reservation.status == ReservationStatus.ACTIVE,
            Reservation.quantity - Reservation.consumed > quantity,
        )
        .values(quantity=Reservation.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def consume_reservation(session: Session, reservation_id: int, *, quantity: int) -> bool:
    """Mark `quantity` of an active reservation shipped; closes it when nothing is left."""
    result = session.execute(
        update(Reservation)
        .where(
            Reservation.id == reservation_id,
            Reservation.status == ReservationStatus.ACTIVE,
            Reservation.quantity - Reservation.consumed >= quantity,
        )
        .values(consumed=Reservation.consumed + quantity)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.consumed == Reservation.quantity)
        .values(status=ReservationStatus.CONSUMED, closed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return True


def expired_reservation_ids(session: Session, *, now: dt.datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Reservation.id)
            .where(
                Reservation.status == ReservationStatus.ACTIVE,
                Reservation.expires_at.is_not(None),
                Reservation.expires_at <= now,
            )
            .order_by(Reservation.id)
            .limit(limit)
        )
    )


def search_movements(
    session: Session,
    *,
    item_id: int | None,
    warehouse_id: int | None,
    kind: str | None,
    warehouse_ids: Sequence[int] | None,
    page: PageRequest,
) -> Page[Movement]:
    stmt = select(Movement)
    if item_id is not None:
        stmt = stmt.where(Movement.item_id == item_id)
    if warehouse_id is not None:
        stmt = stmt.where(Movement.warehouse_id == warehouse_id)
    if warehouse_ids is not None:
        stmt = stmt.where(Movement.warehouse_id.in_(list(warehouse_ids)))
    if kind is not None:
        stmt = stmt.where(Movement.kind == kind)
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": Movement.id},
        default_sort="-id",
        id_column=Movement.id,
    )


# -- safety stock --------------------------------------------------------------------


def effective_safety_stock(session: Session, item_id: int, warehouse_id: int) -> int:
    """The most specific rule: item × warehouse, then item, then warehouse, else 0."""
    rules = session.execute(
        select(
            SafetyStockRule.item_id, SafetyStockRule.warehouse_id, SafetyStockRule.quantity
        ).where(
            ((SafetyStockRule.item_id == item_id) | SafetyStockRule.item_id.is_(None)),
            (
                (SafetyStockRule.warehouse_id == warehouse_id)
                | SafetyStockRule.warehouse_id.is_(None)
            ),
        )
    ).all()
    best: tuple[int, int] | None = None
    for rule_item, rule_warehouse, quantity in rules:
        rank = (2 if rule_item is not None else 0) + (1 if rule_warehouse is not None else 0)
        if rank and (best is None or rank > best[0]):
            best = (rank, quantity)
    return best[1] if best else 0


# -- channel availability ------------------------------------------------------------


def mark_items(session: Session, item_ids: Iterable[int]) -> None:
    """Note that these items' stock changed (once per item until the next publication);
    queued inside `bulk.writing_behind`."""
    ids = sorted(set(item_ids))
    if not ids:
        return
    module: Any = postgresql if bulk.is_postgresql(session) else sqlite
    table = cast(Table, AvailabilityMark.__table__)
    given = bulk.given_rows(session, "marked", {"item_id": (Integer(), ids)})
    bulk.execute_behind(
        session,
        module.insert(table)
        .from_select(
            ["item_id", "marked_at"],
            # WHERE true: SQLite reads an upsert after a bare SELECT as part of it.
            select(given.c.item_id, literal(clock.now(), UtcDateTime())).where(true()),
        )
        .on_conflict_do_nothing(),
    )


def take_marks(session: Session, *, limit: int) -> list[int]:
    """Claim and remove up to `limit` marked items (skipping ones another worker holds)."""
    ids = list(
        session.scalars(
            select(AvailabilityMark.item_id)
            .order_by(AvailabilityMark.item_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        session.execute(delete(AvailabilityMark).where(AvailabilityMark.item_id.in_(ids)))
    return ids


def next_sequence(session: Session, name: str, *, count: int = 1) -> int:
    """Reserve `count` numbers of a growing sequence; returns the last one."""
    return sequences.next_value(session, name, count=count)


def channel_warehouse_ids(session: Session) -> dict[int, list[int]]:
    """For every active channel, the ids of the active warehouses it may use."""
    rows = session.execute(
        select(ChannelWarehouse.channel_id, ChannelWarehouse.warehouse_id)
        .join(Channel, Channel.id == ChannelWarehouse.channel_id)
        .join(Warehouse, Warehouse.id == ChannelWarehouse.warehouse_id)
        .where(Channel.active.is_(True), Warehouse.active.is_(True))
    )
    result: dict[int, list[int]] = {}
    for channel_id, warehouse_id in rows:
        result.setdefault(channel_id, []).append(warehouse_id)
    return result


def available_by_item_warehouse(
    session: Session, item_ids: Sequence[int]
) -> dict[tuple[int, int], int]:
    rows = session.execute(
        select(
            Balance.item_id,
            Balance.warehouse_id,
            Balance.on_hand - Balance.reserved - Balance.safety_stock,
        ).where(Balance.item_id.in_(list(item_ids)))
    )
    return {(i, w): max(0, int(a)) for i, w, a in rows}


def published(session: Session, item_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    rows = session.execute(
        select(
            ChannelAvailability.channel_id, ChannelAvailability.item_id, ChannelAvailability.atp
        ).where(ChannelAvailability.item_id.in_(list(item_ids)))
    )
    return {(c, i): int(a) for c, i, a in rows}


def upsert_published(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store what was published, per (channel, item)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(ChannelAvailability)
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel_id", "item_id"],
        set_={
            "atp": stmt.excluded.atp,
            "seq": stmt.excluded.seq,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    session.execute(stmt, list(rows))


def channel_feed(
    session: Session, channel_id: int, *, since: int | None
) -> list[tuple[str, int, int, dt.datetime]]:
    """(sku, atp, seq, updated_at) published to a channel, all or those after `since`."""
    stmt = (
        select(
            Item.sku,
            ChannelAvailability.atp,
            ChannelAvailability.seq,
            ChannelAvailability.updated_at,
        )
        .join(Item, Item.id == ChannelAvailability.item_id)
        .where(ChannelAvailability.channel_id == channel_id)
        .order_by(ChannelAvailability.seq if since is not None else Item.sku)
    )
    if since is not None:
        stmt = stmt.where(ChannelAvailability.seq > since)
    return [(s, int(a), int(q), u) for s, a, q, u in session.execute(stmt)]


def channel_feed_version(session: Session, channel_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.max(ChannelAvailability.seq), 0)).where(
                ChannelAvailability.channel_id == channel_id
            )
        )
        or 0
    )


# -- transfers -----------------------------------------------------------------------


def add_transfer(session: Session, transfer: Transfer, lines: Sequence[TransferLine]) -> None:
    session.add(transfer)
    session.flush()
    for line in lines:
        line.transfer_id = transfer.id
        session.add(line)
    session.flush()


def transfer_by_id(session: Session, transfer_id: int) -> Transfer | None:
    return session.get(Transfer, transfer_id)


def transfer_lines(session: Session, transfer_id: int) -> list[tuple[TransferLine, Item]]:
    rows = session.execute(
        select(TransferLine, Item)
        .join(Item, Item.id == TransferLine.item_id)
        .where(TransferLine.transfer_id == transfer_id)
        .order_by(TransferLine.id)
    )
    return [(line, item) for line, item in rows]


def warehouse_of(session: Session, warehouse_id: int) -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    assert warehouse is not None
    return warehouse


# -- safety stock and reorder settings ------------------------------------------------


def put_safety_rule(
    session: Session, *, item_id: int | None, warehouse_id: int | None, quantity: int | None
) -> None:
    """Replace the rule for exactly this (item, warehouse) scope; None quantity removes it."""
    session.execute(
        delete(SafetyStockRule).where(
            SafetyStockRule.item_id.is_(None)
            if item_id is None
            else SafetyStockRule.item_id == item_id,
            SafetyStockRule.warehouse_id.is_(None)
            if warehouse_id is None
            else SafetyStockRule.warehouse_id == warehouse_id,
        )
    )
    if quantity is not None:
        session.add(SafetyStockRule(item_id=item_id, warehouse_id=warehouse_id, quantity=quantity))
    session.flush()


def balances_under_rule(
    session: Session, *, item_id: int | None, warehouse_id: int | None
) -> list[Balance]:
    stmt = select(Balance).order_by(Balance.id)
    if item_id is not None:
        stmt = stmt.where(Balance.item_id == item_id)
    if warehouse_id is not None:
        stmt = stmt.where(Balance.warehouse_id == warehouse_id)
    return list(session.scalars(stmt))


def put_reorder(
    session: Session,
    *,
    item_id: int,
    warehouse_id: int,
    reorder_point: int | None,
    reorder_quantity: int | None,
    min_quantity: int | None,
    max_quantity: int | None,
) -> ReorderSetting:
    setting = session.scalar(
        select(ReorderSetting).where(
            ReorderSetting.item_id == item_id, ReorderSetting.warehouse_id == warehouse_id
        )
    )
    if setting is None:
        setting = ReorderSetting(item_id=item_id, warehouse_id=warehouse_id)
        session.add(setting)
    setting.reorder_point = reorder_point
    setting.reorder_quantity = reorder_quantity
    setting.min_quantity = min_quantity
    setting.max_quantity = max_quantity
    session.flush()
    return setting


def reorder_settings(
    session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], ReorderSetting]:
    wanted = set(pairs)
    if not wanted:
        return {}
    item_ids = {i for i, _ in wanted}
    rows = session.scalars(select(ReorderSetting).where(ReorderSetting.item_id.in_(item_ids)))
    return {(r.item_id, r.warehouse_id): r for r in rows if (r.item_id, r.warehouse_id) in wanted}


def inbound_transfers(
    session: Session, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[tuple[int, int, dt.datetime | None]]]:
    """Per (item, destination warehouse): (transfer id, quantity, expected at) in transit."""
    if not pairs:
        return {}
    item_ids = {i for i, _ in pairs}
    rows = session.execute(
        select(
            TransferLine.item_id,
            Transfer.destination_warehouse_id,
            Transfer.id,
            TransferLine.quantity,
            Transfer.expected_at,
        )
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .where(Transfer.status == TransferStatus.IN_TRANSIT, TransferLine.item_id.in_(item_ids))
        .order_by(Transfer.id)
    )
    result: dict[tuple[int, int], list[tuple[int, int, dt.datetime | None]]] = {}
    for item_id, warehouse_id, transfer_id, quantity, expected_at in rows:
        result.setdefault((item_id, warehouse_id), []).append((transfer_id, quantity, expected_at))
    return result


def count_balances(session: Session) -> int:
    return int(session.scalar(select(func.count(Balance.id))) or 0)


# -- stock snapshots -----------------------------------------------------------------


def add_snapshot(session: Session, snapshot: StockSnapshot) -> None:
    session.add(snapshot)
    session.flush()


def snapshot_by_id(session: Session, snapshot_id: int) -> StockSnapshot | None:
    return session.get(StockSnapshot, snapshot_id)


def add_snapshot_line(session: Session, line: SnapshotLine) -> None:
    session.add(line)
    session.flush()


def snapshot_line(session: Session, snapshot_id: int, line_id: int) -> SnapshotLine | None:
    return session.scalar(
        select(SnapshotLine).where(
            SnapshotLine.snapshot_id == snapshot_id, SnapshotLine.id == line_id
        )
    )


def snapshot_lines(session: Session, snapshot_id: int) -> list[tuple[SnapshotLine, str]]:
    rows = session.execute(
        select(SnapshotLine, Item.sku)
        .join(Item, Item.id == SnapshotLine.item_id)
        .where(SnapshotLine.snapshot_id == snapshot_id)
        .order_by(Item.sku)
    )
    return [(line, sku) for line, sku in rows]


def pending_snapshot_lines(session: Session, snapshot_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(SnapshotLine.id)).where(
                SnapshotLine.snapshot_id == snapshot_id,
                SnapshotLine.status == SnapshotLineStatus.PENDING_APPROVAL,
            )
        )
        or 0
    )


def on_hand_moved_since(
    session: Session, *, warehouse_id: int, item_ids: Sequence[int], since: dt.datetime
) -> dict[int, int]:
    """Per item, the on-hand change booked at this warehouse after `since`."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(Movement.item_id, func.sum(Movement.on_hand_delta))
        .where(
            Movement.warehouse_id == warehouse_id,
            Movement.item_id.in_(list(item_ids)),
            Movement.at > since,
        )
        .group_by(Movement.item_id)
    )
    return {int(i): int(q or 0) for i, q in rows}


def insert_reservations(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many reservations in one statement; their ids, in the order of `rows`."""
    return bulk.insert_with_ids(session, Reservation, rows)


def new_reservation_ids(session: Session, count: int) -> Callable[[], list[int]]:
    """Ids for `count` reservations this transaction will insert (`insert_reservation_rows`);
    what it returns gives them (queued inside `bulk.writing_behind`)."""
    return bulk.next_ids_behind(session, Reservation, count)


def insert_reservation_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many reservations of one shape, their ids given, in one statement."""
    bulk.insert_rows(session, Reservation, rows)


def channel_fingerprints(session: Session) -> dict[int, str]:
    rows = session.execute(
        select(ChannelAvailabilityConfig.channel_id, ChannelAvailabilityConfig.fingerprint)
    )
    return {int(c): f for c, f in rows}


def put_channel_fingerprint(session: Session, channel_id: int, fingerprint: str) -> None:
    session.execute(
        delete(ChannelAvailabilityConfig).where(ChannelAvailabilityConfig.channel_id == channel_id)
    )
    session.add(
        ChannelAvailabilityConfig(
            channel_id=channel_id, fingerprint=fingerprint, updated_at=clock.now()
        )
    )
    session.flush()


def stocked_or_published_item_ids(session: Session) -> list[int]:
    """Every item with a balance anywhere or an availability published to any channel."""
    stocked = select(Balance.item_id)
    published_ids = select(ChannelAvailability.item_id)
    return sorted({int(i) for i in session.scalars(stocked.union(published_ids))})


def active_channels(session: Session) -> list[Channel]:
    return list(
        session.scalars(select(Channel).where(Channel.active.is_(True)).order_by(Channel.id))
    )
