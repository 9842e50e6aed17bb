"""Items: `/api/v1/items`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog import items, repository
from oms.catalog.schemas import ItemCreate, ItemOut, ItemUpdate

router = APIRouter(prefix="/api/v1/items", tags=["items"])

Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.ITEMS_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_item(body: ItemCreate, tx: SessionDep, actor: Writer, response: Response) -> ItemOut:
    """Add an item. 409 `catalog.item_exists` when the SKU is taken."""
    item = items.create_item(tx, body, actor=actor)
    set_etag(response, item.version)
    response.headers["Location"] = f"/api/v1/items/{item.sku}"
    return ItemOut.model_validate(item)


@router.get("")
def list_items(
    tx: SessionDep,
    _: Reader,
    page: PageDep,
    q: Annotated[str | None, Query(description="part of the SKU or name")] = None,
    active: bool | None = None,
    hazmat: bool | None = None,
    gtin: str | None = None,
    sku: Annotated[list[str] | None, Query()] = None,
) -> ListOf[ItemOut]:
    """Items, filtered; sort by `sku` (default), `name` or `updated_at`."""
    filters = repository.ItemFilter(q=q, active=active, hazmat=hazmat, gtin=gtin, skus=sku)
    found = items.search_items(tx, filters, page)
    return ListOf(
        items=[ItemOut.model_validate(i) for i in found.items], next_cursor=found.next_cursor
    )


@router.get("/{sku}")
def get_item(sku: str, tx: SessionDep, _: Reader, response: Response) -> ItemOut:
    """One item, with its version as the ETag."""
    item = items.get_item(tx, sku)
    set_etag(response, item.version)
    return ItemOut.model_validate(item)


@router.patch("/{sku}")
def update_item(
    sku: str,
    body: ItemUpdate,
    tx: SessionDep,
    actor: Writer,
    version: IfMatchDep,
    response: Response,
) -> ItemOut:
    """Change the fields sent (`{"active": false}` deactivates); If-Match guards lost updates."""
    item = items.update_item(tx, sku, body, actor=actor, expected_version=version)
    set_etag(response, item.version)
    return ItemOut.model_validate(item)
