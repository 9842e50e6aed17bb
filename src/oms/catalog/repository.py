"""Every query of the catalog package."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from oms.catalog.models import Item
from oms.kit.paging import Page, PageRequest, paginate


def add(session: Session, record: Any) -> None:
    """Insert a new master record and give it its id."""
    session.add(record)
    session.flush()


# -- items ---------------------------------------------------------------------------


def item_by_sku(session: Session, sku: str) -> Item | None:
    return session.scalar(select(Item).where(Item.sku == sku))


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
