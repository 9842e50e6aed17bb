"""Every query of the catalog package."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import RowMapping, Select, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from oms.catalog.models import Channel, ChannelWarehouse, Customer, Item, Supplier, Warehouse
from oms.kit.bulk import is_postgresql
from oms.kit.paging import Page, PageRequest, paginate

R = TypeVar("R")


def _locked(stmt: Select[R], lock: bool) -> Select[R]:
    """With `lock`, read the row afresh and keep it locked until the transaction ends.

    That is PostgreSQL's row lock; SQLite has no row locks and needs none, since its
    writers take the database's write lock when they begin (`BEGIN IMMEDIATE`).
    """
    if not lock:
        return stmt
    return stmt.with_for_update().execution_options(populate_existing=True)


def add(session: Session, record: Any) -> None:
    """Insert a new master record and give it its id."""
    session.add(record)
    session.flush()


# -- items ---------------------------------------------------------------------------


def item_by_sku(session: Session, sku: str, *, lock: bool = False) -> Item | None:
    return session.scalar(_locked(select(Item).where(Item.sku == sku), lock))


def items_by_skus(session: Session, skus: Iterable[str]) -> dict[str, Item]:
    wanted = list(set(skus))
    found: dict[str, Item] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update((i.sku, i) for i in session.scalars(select(Item).where(Item.sku.in_(chunk))))
    return found


def existing_skus(session: Session) -> set[str]:
    return set(session.scalars(select(Item.sku)))


@dataclass(frozen=True)
class ItemFilter:
    q: str | None = None
    active: bool | None = None
    hazmat: bool | None = None
    gtin: str | None = None
    skus: Sequence[str] | None = None


def search_items(session: Session, filters: ItemFilter, page: PageRequest) -> Page[Item]:
    stmt = select(Item)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(or_(Item.sku.ilike(like), Item.name.ilike(like)))
    if filters.active is not None:
        stmt = stmt.where(Item.active == filters.active)
    if filters.hazmat is not None:
        stmt = stmt.where(Item.hazmat == filters.hazmat)
    if filters.gtin:
        stmt = stmt.where(Item.gtin == filters.gtin)
    if filters.skus:
        stmt = stmt.where(Item.sku.in_(list(filters.skus)))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"sku": Item.sku, "name": Item.name, "updated_at": Item.updated_at},
        default_sort="sku",
        id_column=Item.id,
    )


def insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many items in one executemany (bulk import)."""
    if rows:
        session.execute(insert(Item), list(rows))


def update_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Update many items by primary key in one executemany (bulk import); rows carry `id`."""
    if rows:
        session.execute(update(Item), list(rows))


# -- bulk import and export --------------------------------------------------------------


def all_item_rows(session: Session) -> Sequence[RowMapping]:
    """Every item's columns, by SKU: one query for a bulk import or export."""
    columns = list(Item.__table__.columns)
    return session.execute(select(*columns).order_by(Item.sku)).mappings().all()


def all_warehouses(session: Session) -> list[Warehouse]:
    """Every warehouse, by code (bulk import and export)."""
    return list(session.scalars(select(Warehouse).order_by(Warehouse.code)))


def all_channels(session: Session) -> list[Channel]:
    """Every channel, by code (bulk import and export)."""
    return list(session.scalars(select(Channel).order_by(Channel.code)))


def all_suppliers(session: Session) -> list[Supplier]:
    """Every supplier, by code (bulk import and export)."""
    return list(session.scalars(select(Supplier).order_by(Supplier.code)))


def all_customers(session: Session) -> list[Customer]:
    """Every customer, by id (bulk import and export)."""
    return list(session.scalars(select(Customer).order_by(Customer.id)))


# -- warehouses ------------------------------------------------------------------------


def warehouse_by_code(session: Session, code: str, *, lock: bool = False) -> Warehouse | None:
    return session.scalar(_locked(select(Warehouse).where(Warehouse.code == code), lock))


def warehouses_by_codes(session: Session, codes: Iterable[str]) -> dict[str, Warehouse]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    found = session.scalars(select(Warehouse).where(Warehouse.code.in_(wanted)))
    return {w.code: w for w in found}


def warehouses_by_ids(session: Session, ids: Iterable[int]) -> list[Warehouse]:
    """The warehouses with these ids, by code."""
    wanted = list(set(ids))
    if not wanted:
        return []
    stmt = select(Warehouse).where(Warehouse.id.in_(wanted)).order_by(Warehouse.code)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class WarehouseFilter:
    q: str | None = None
    active: bool | None = None
    type: str | None = None
    country: str | None = None
    channel: str | None = None
    codes: frozenset[str] | None = None
    """The principal's warehouse scope; None is every warehouse."""


def search_warehouses(
    session: Session, filters: WarehouseFilter, page: PageRequest
) -> Page[Warehouse]:
    stmt = select(Warehouse)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(or_(Warehouse.code.ilike(like), Warehouse.name.ilike(like)))
    if filters.active is not None:
        stmt = stmt.where(Warehouse.active == filters.active)
    if filters.type:
        stmt = stmt.where(Warehouse.type == filters.type)
    if filters.country:
        stmt = stmt.where(Warehouse.country == filters.country)
    if filters.channel:
        serving = (
            select(ChannelWarehouse.warehouse_id)
            .join(Channel, Channel.id == ChannelWarehouse.channel_id)
            .where(Channel.code == filters.channel)
        )
        stmt = stmt.where(Warehouse.id.in_(serving))
    if filters.codes is not None:
        stmt = stmt.where(Warehouse.code.in_(sorted(filters.codes)))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={
            "code": Warehouse.code,
            "name": Warehouse.name,
            "updated_at": Warehouse.updated_at,
        },
        default_sort="code",
        id_column=Warehouse.id,
    )


# -- channels and the warehouses that serve them ---------------------------------------


def channel_by_code(session: Session, code: str, *, lock: bool = False) -> Channel | None:
    return session.scalar(_locked(select(Channel).where(Channel.code == code), lock))


def channels_by_codes(session: Session, codes: Iterable[str]) -> dict[str, Channel]:
    wanted = list(set(codes))
    if not wanted:
        return {}
    return {c.code: c for c in session.scalars(select(Channel).where(Channel.code.in_(wanted)))}


@dataclass(frozen=True)
class ChannelFilter:
    q: str | None = None
    active: bool | None = None
    type: str | None = None
    currency: str | None = None
    codes: frozenset[str] | None = None
    """The principal's channel scope; None is every channel."""


def search_channels(session: Session, filters: ChannelFilter, page: PageRequest) -> Page[Channel]:
    stmt = select(Channel)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(or_(Channel.code.ilike(like), Channel.name.ilike(like)))
    if filters.active is not None:
        stmt = stmt.where(Channel.active == filters.active)
    if filters.type:
        stmt = stmt.where(Channel.type == filters.type)
    if filters.currency:
        stmt = stmt.where(Channel.currency == filters.currency)
    if filters.codes is not None:
        stmt = stmt.where(Channel.code.in_(sorted(filters.codes)))
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"code": Channel.code, "name": Channel.name, "updated_at": Channel.updated_at},
        default_sort="code",
        id_column=Channel.id,
    )


def channel_codes_by_warehouse(
    session: Session, warehouse_ids: Iterable[int], *, scope: frozenset[str] | None = None
) -> dict[int, list[str]]:
    """For each warehouse, the codes of the channels it serves (by code), within `scope`."""
    ids = list(set(warehouse_ids))
    codes: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return codes
    stmt = (
        select(ChannelWarehouse.warehouse_id, Channel.code)
        .join(Channel, Channel.id == ChannelWarehouse.channel_id)
        .where(ChannelWarehouse.warehouse_id.in_(ids))
        .order_by(Channel.code)
    )
    if scope is not None:
        stmt = stmt.where(Channel.code.in_(sorted(scope)))
    for warehouse_id, code in session.execute(stmt):
        codes[warehouse_id].append(code)
    return codes


def warehouse_codes_by_channel(
    session: Session, channel_ids: Iterable[int], *, scope: frozenset[str] | None = None
) -> dict[int, list[str]]:
    """For each channel, the codes of the warehouses serving it, in rank order, within `scope`."""
    ids = list(set(channel_ids))
    codes: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return codes
    stmt = (
        select(ChannelWarehouse.channel_id, Warehouse.code)
        .join(Warehouse, Warehouse.id == ChannelWarehouse.warehouse_id)
        .where(ChannelWarehouse.channel_id.in_(ids))
        .order_by(ChannelWarehouse.rank, Warehouse.code)
    )
    if scope is not None:
        stmt = stmt.where(Warehouse.code.in_(sorted(scope)))
    for channel_id, code in session.execute(stmt):
        codes[channel_id].append(code)
    return codes


def links_of_channel(session: Session, channel_id: int) -> list[tuple[ChannelWarehouse, str]]:
    """The channel's links with each warehouse's code, in rank order."""
    stmt = (
        select(ChannelWarehouse, Warehouse.code)
        .join(Warehouse, Warehouse.id == ChannelWarehouse.warehouse_id)
        .where(ChannelWarehouse.channel_id == channel_id)
        .order_by(ChannelWarehouse.rank, Warehouse.code)
    )
    return [(link, code) for link, code in session.execute(stmt)]


def links_of_warehouse(session: Session, warehouse_id: int) -> list[tuple[ChannelWarehouse, str]]:
    """The warehouse's links with each channel's code, by channel code."""
    stmt = (
        select(ChannelWarehouse, Channel.code)
        .join(Channel, Channel.id == ChannelWarehouse.channel_id)
        .where(ChannelWarehouse.warehouse_id == warehouse_id)
        .order_by(Channel.code)
    )
    return [(link, code) for link, code in session.execute(stmt)]


def last_rank(session: Session, channel_id: int) -> int:
    """The highest rank among the channel's warehouses, -1 when it has none."""
    found = session.scalar(
        select(func.max(ChannelWarehouse.rank)).where(ChannelWarehouse.channel_id == channel_id)
    )
    return -1 if found is None else int(found)


def link(session: Session, *, channel_id: int, warehouse_id: int, rank: int) -> None:
    session.add(ChannelWarehouse(channel_id=channel_id, warehouse_id=warehouse_id, rank=rank))


def unlink(session: Session, *, channel_id: int, warehouse_id: int) -> None:
    session.execute(
        delete(ChannelWarehouse).where(
            ChannelWarehouse.channel_id == channel_id,
            ChannelWarehouse.warehouse_id == warehouse_id,
        )
    )


def replace_links_of_channel(session: Session, channel_id: int, warehouse_ids: list[int]) -> None:
    """Make `warehouse_ids`, in this order, the channel's warehouses."""
    session.execute(delete(ChannelWarehouse).where(ChannelWarehouse.channel_id == channel_id))
    if warehouse_ids:
        session.execute(
            insert(ChannelWarehouse),
            [
                {"channel_id": channel_id, "warehouse_id": wid, "rank": rank}
                for rank, wid in enumerate(warehouse_ids)
            ],
        )


# -- suppliers -------------------------------------------------------------------------


def supplier_by_code(session: Session, code: str, *, lock: bool = False) -> Supplier | None:
    return session.scalar(_locked(select(Supplier).where(Supplier.code == code), lock))


@dataclass(frozen=True)
class SupplierFilter:
    q: str | None = None
    active: bool | None = None
    country: str | None = None
    currency: str | None = None


def search_suppliers(
    session: Session, filters: SupplierFilter, page: PageRequest
) -> Page[Supplier]:
    stmt = select(Supplier)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(or_(Supplier.code.ilike(like), Supplier.name.ilike(like)))
    if filters.active is not None:
        stmt = stmt.where(Supplier.active == filters.active)
    if filters.country:
        stmt = stmt.where(Supplier.country == filters.country)
    if filters.currency:
        stmt = stmt.where(Supplier.currency == filters.currency)
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"code": Supplier.code, "name": Supplier.name, "updated_at": Supplier.updated_at},
        default_sort="code",
        id_column=Supplier.id,
    )


# -- customers -------------------------------------------------------------------------


def customer_by_id(session: Session, customer_id: int, *, lock: bool = False) -> Customer | None:
    return session.scalar(_locked(select(Customer).where(Customer.id == customer_id), lock))


def customer_by_account_number(session: Session, account_number: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.account_number == account_number))


@dataclass(frozen=True)
class CustomerFilter:
    q: str | None = None
    active: bool | None = None
    type: str | None = None
    email: str | None = None
    account_number: str | None = None


def lock_customer_email(session: Session, email: str) -> None:
    """Hold, until the transaction ends, the lock on making a customer with this e-mail
    address: a transaction that waited for it sees, with its next statement, the customer
    the holder made (PostgreSQL, in READ COMMITTED; SQLite runs one writing transaction at
    a time and needs none)."""
    if not is_postgresql(session):
        return
    key = func.hashtextextended(f"customer-email:{email.lower()}", 0)
    session.execute(select(func.pg_advisory_xact_lock(key)))


def search_customers(
    session: Session, filters: CustomerFilter, page: PageRequest
) -> Page[Customer]:
    stmt = select(Customer)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(or_(Customer.name.ilike(like), Customer.email.ilike(like)))
    if filters.active is not None:
        stmt = stmt.where(Customer.active == filters.active)
    if filters.type:
        stmt = stmt.where(Customer.type == filters.type)
    if filters.email:
        stmt = stmt.where(Customer.email == filters.email)
    if filters.account_number:
        stmt = stmt.where(Customer.account_number == filters.account_number)
    return paginate(
        session,
        stmt,
        request=page,
        sortable={"id": Customer.id, "name": Customer.name, "updated_at": Customer.updated_at},
        default_sort="id",
        id_column=Customer.id,
    )


# -- lookups by id (inventory, routing) ----------------------------------------------


def items_by_ids(session: Session, ids: Iterable[int]) -> list[Item]:
    wanted = sorted(set(ids))
    return list(session.scalars(select(Item).where(Item.id.in_(wanted)).order_by(Item.id)))


def channels_by_ids(session: Session, ids: Iterable[int]) -> list[Channel]:
    wanted = sorted(set(ids))
    return list(session.scalars(select(Channel).where(Channel.id.in_(wanted)).order_by(Channel.id)))


def serving_warehouses(session: Session, channel_id: int) -> list[Warehouse]:
    """The active warehouses that may serve a channel, in the channel's rank order."""
    return list(
        session.scalars(
            select(Warehouse)
            .join(ChannelWarehouse, ChannelWarehouse.warehouse_id == Warehouse.id)
            .where(ChannelWarehouse.channel_id == channel_id, Warehouse.active.is_(True))
            .order_by(ChannelWarehouse.rank, Warehouse.code)
        )
    )
