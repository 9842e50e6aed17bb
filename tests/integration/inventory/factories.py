"""Master data and stock for inventory tests, made through the real services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.catalog import channels, items, warehouses
from oms.catalog.schemas import ChannelCreate, ItemCreate, WarehouseCreate
from oms.inventory import ledger
from tests.integration.catalog import factories as catalog


def item(session: Session, sku: str = "ABC-1", **overrides: Any) -> None:
    items.create_item(session, ItemCreate(sku=sku, name=f"Item {sku}", **overrides), actor=SYSTEM)


def warehouse(session: Session, code: str = "DAL", **overrides: Any) -> None:
    warehouses.create_warehouse(
        session, WarehouseCreate.model_validate(catalog.warehouse(code, **overrides)), actor=SYSTEM
    )


def channel(session: Session, code: str = "web", **overrides: Any) -> None:
    channels.create_channel(
        session, ChannelCreate.model_validate(catalog.channel(code, **overrides)), actor=SYSTEM
    )


def stock(session: Session, sku: str, warehouse_code: str, quantity: int) -> None:
    """Put `quantity` units on hand by an initial-load adjustment."""
    ledger.adjust(
        session,
        sku=sku,
        warehouse=warehouse_code,
        quantity=quantity,
        reason="initial_load",
        actor=SYSTEM,
    )
