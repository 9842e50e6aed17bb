"""Warehouses: create, read, update, deactivate, search, within the actor's scope.

A principal scoped to some warehouses sees and changes only those; any other
warehouse answers as if it did not exist, so a scope never tells what lies
beyond it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import channel_warehouses, records, repository
from oms.catalog.models import Warehouse
from oms.catalog.schemas import WarehouseCreate, WarehouseOut, WarehouseUpdate
from oms.errors import Conflict, NotFound, PermissionDenied
from oms.kit.paging import Page, PageRequest


class WarehouseNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__("warehouse", code, code="catalog.warehouse_not_found")


class WarehouseExists(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"warehouse {code} already exists", code="catalog.warehouse_exists", warehouse=code
        )


def view(session: Session, warehouse: Warehouse) -> dict[str, Any]:
    """A warehouse as the audit trail and events show it: every channel it serves."""
    return channel_warehouses.warehouse_view(session, warehouse)


def shown(session: Session, warehouse: Warehouse, *, actor: Principal) -> WarehouseOut:
    """A warehouse as `actor` sees it: only the channels in its scope."""
    return channel_warehouses.warehouses_as_seen(session, [warehouse], actor=actor)[0]


def create_warehouse(session: Session, data: WarehouseCreate, *, actor: Principal) -> Warehouse:
    """Add a warehouse, and the channels it may serve; its code must be new."""
    if not actor.sees_warehouse(data.code):
        raise PermissionDenied(
            f"{actor.label} is scoped to other warehouses and may not add {data.code}",
            code="catalog.out_of_scope",
            warehouse=data.code,
        )
    if data.channels:
        channel_warehouses.check_channels(session, data.channels, actor=actor)
    values = data.model_dump(exclude_none=True, exclude={"channels"})
    warehouse = Warehouse(**values, country=data.address.country)
    records.add_new(session, warehouse, exists=lambda: WarehouseExists(data.code))
    if data.channels:
        channel_warehouses.set_channels_of_warehouse(session, warehouse, data.channels, actor=actor)
    records.record_created(
        session,
        entity="warehouse",
        key=warehouse.code,
        view=view(session, warehouse),
        actor=actor,
    )
    return warehouse


def get_warehouse(
    session: Session, code: str, *, actor: Principal, lock: bool = False
) -> Warehouse:
    """The warehouse with this code, active or not, if `actor` may see it; `lock` holds it."""
    code = code.strip()
    visible = actor.sees_warehouse(code)
    warehouse = repository.warehouse_by_code(session, code, lock=lock) if visible else None
    if warehouse is None:
        raise WarehouseNotFound(code)
    return warehouse


def update_warehouse(
    session: Session,
    code: str,
    data: WarehouseUpdate,
    *,
    actor: Principal,
    expected_version: int | None = None,
) -> Warehouse:
    """Change the fields sent; `channels` replaces the channels it serves (within scope)."""
    warehouse = get_warehouse(session, code, actor=actor, lock=True)
    changes = data.model_dump(exclude_unset=True)
    channels = changes.pop("channels", None)
    merged, updates = records.merge(
        warehouse, changes, schema=WarehouseCreate, exclude={"channels"}
    )
    if channels is not None:
        channel_warehouses.check_channels(session, channels, actor=actor)
    records.check_version(warehouse, expected_version, entity=f"warehouse {warehouse.code}")
    before = view(session, warehouse)
    for name, value in updates.items():
        setattr(warehouse, name, value)
    warehouse.country = merged.address.country
    if channels is not None:
        channel_warehouses.set_channels_of_warehouse(session, warehouse, channels, actor=actor)
    records.record_change(
        session,
        warehouse,
        before,
        entity="warehouse",
        key=warehouse.code,
        view=partial(view, session, warehouse),
        actor=actor,
    )
    return warehouse


def search_warehouses(
    session: Session, filters: repository.WarehouseFilter, page: PageRequest, *, actor: Principal
) -> Page[Warehouse]:
    """Warehouses matching `filters` that `actor` may see, one page at a time."""
    if filters.channel is not None and not actor.sees_channel(filters.channel):
        return Page(items=[], next_cursor=None)
    return repository.search_warehouses(session, replace(filters, codes=actor.warehouses), page)
