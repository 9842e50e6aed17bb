"""Items: create, read, update, deactivate, search."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import records, repository
from oms.catalog.models import Item
from oms.catalog.schemas import ItemCreate, ItemOut, ItemUpdate
from oms.errors import Conflict, NotFound
from oms.kit.paging import Page, PageRequest


class ItemNotFound(NotFound):
    def __init__(self, sku: str) -> None:
        super().__init__("item", sku, code="catalog.item_not_found")


class ItemExists(Conflict):
    def __init__(self, sku: str) -> None:
        super().__init__(f"item {sku} already exists", code="catalog.item_exists", sku=sku)


def view(item: Item) -> dict[str, Any]:
    """An item as the API, the audit trail and events show it."""
    return ItemOut.model_validate(item).model_dump(mode="json")


def create_item(session: Session, data: ItemCreate, *, actor: Principal) -> Item:
    """Add an item; its SKU must be new."""
    item = Item(**data.model_dump(exclude_none=True))
    records.add_new(session, item, exists=lambda: ItemExists(data.sku))
    records.record_created(session, entity="item", key=item.sku, view=view(item), actor=actor)
    return item


def get_item(session: Session, sku: str, *, lock: bool = False) -> Item:
    """The item with this SKU, active or not; `lock` holds it until the transaction ends."""
    item = repository.item_by_sku(session, sku.strip(), lock=lock)
    if item is None:
        raise ItemNotFound(sku)
    return item


def update_item(
    session: Session,
    sku: str,
    data: ItemUpdate,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> Item:
    """Change the fields sent; with `expected_version`, only if nobody changed it meanwhile."""
    item = get_item(session, sku, lock=True)
    _, updates = records.merge(item, data.model_dump(exclude_unset=True), schema=ItemCreate)
    records.apply_update(
        session,
        item,
        updates,
        entity="item",
        key=item.sku,
        view=lambda: view(item),
        actor=actor,
        expected_version=expected_version,
    )
    return item


def search_items(session: Session, filters: repository.ItemFilter, page: PageRequest) -> Page[Item]:
    """Items matching `filters`, one page at a time."""
    return repository.search_items(session, filters, page)
