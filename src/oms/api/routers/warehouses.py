"""Warehouses: `/api/v1/warehouses`, within the caller's warehouse scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog import channel_warehouses, repository, warehouses
from oms.catalog.models import WarehouseType
from oms.catalog.schemas import CountryCode, WarehouseCreate, WarehouseOut, WarehouseUpdate

router = APIRouter(prefix="/api/v1/warehouses", tags=["warehouses"])

Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.WAREHOUSES_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_warehouse(
    body: WarehouseCreate, tx: SessionDep, actor: Writer, response: Response
) -> WarehouseOut:
    """Add a warehouse. 409 `catalog.warehouse_exists` when the code is taken."""
    warehouse = warehouses.create_warehouse(tx, body, actor=actor)
    set_etag(response, warehouse.version)
    response.headers["Location"] = f"/api/v1/warehouses/{warehouse.code}"
    return warehouses.shown(tx, warehouse, actor=actor)


@router.get("")
def list_warehouses(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    q: Annotated[str | None, Query(description="part of the code or name")] = None,
    active: bool | None = None,
    type: WarehouseType | None = None,
    country: CountryCode | None = None,
    channel: str | None = None,
) -> ListOf[WarehouseOut]:
    """Warehouses in the caller's scope, filtered; sort by `code` (default), `name`, `updated_at`.

    `channel` keeps those that serve it.
    """
    filters = repository.WarehouseFilter(
        q=q, active=active, type=type, country=country, channel=channel
    )
    found = warehouses.search_warehouses(tx, filters, page, actor=actor)
    shown = channel_warehouses.warehouses_as_seen(tx, found.items, actor=actor)
    return ListOf(items=shown, next_cursor=found.next_cursor)


@router.get("/{code}")
def get_warehouse(code: str, tx: SessionDep, actor: Reader, response: Response) -> WarehouseOut:
    """One warehouse, with its version as the ETag."""
    warehouse = warehouses.get_warehouse(tx, code, actor=actor)
    set_etag(response, warehouse.version)
    return warehouses.shown(tx, warehouse, actor=actor)


@router.patch("/{code}")
def update_warehouse(
    code: str,
    body: WarehouseUpdate,
    tx: SessionDep,
    actor: Writer,
    version: IfMatchDep,
    response: Response,
) -> WarehouseOut:
    """Change the fields sent (`{"active": false}` deactivates); If-Match guards lost updates."""
    warehouse = warehouses.update_warehouse(tx, code, body, actor=actor, expected_version=version)
    set_etag(response, warehouse.version)
    return warehouses.shown(tx, warehouse, actor=actor)
