"""Master data tables.

No state machine here: a record is active or not. Every update raises
`version` by one; the API shows it as the ETag and honours If-Match with it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.kit import clock


class WarehouseType(StrEnum):
    OWN = "own"
    THIRD_PARTY = "3pl"
    STORE = "store"
    DROP_SHIP = "drop_ship"


class ChannelType(StrEnum):
    WEB_SHOP = "web_shop"
    MARKETPLACE = "marketplace"
    B2B_EDI = "b2b_edi"
    API = "api"


class CustomerType(StrEnum):
    B2C = "b2c"
    B2B = "b2b"


class Versioned:
    """Columns every master record has: timestamps, active flag, optimistic version."""

    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Item(Versioned, Base):
    __tablename__ = "items"
    __table_args__ = (Index("ix_items_gtin", "gtin"), Index("ix_items_name", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    gtin: Mapped[str | None] = mapped_column(String(14))
    uom: Mapped[str] = mapped_column(String(8), default="EA")
    weight: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    weight_unit: Mapped[str | None] = mapped_column(String(4))
    length: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    width: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    height: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    dimension_unit: Mapped[str | None] = mapped_column(String(4))
    hazmat: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Warehouse(Versioned, Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[WarehouseType] = mapped_column(String(20))
    address: Mapped[dict[str, Any]]
    country: Mapped[str] = mapped_column(String(2))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    daily_capacity: Mapped[int | None]
    cutoff_time: Mapped[str | None] = mapped_column(String(5))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Channel(Versioned, Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[ChannelType] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ChannelWarehouse(Base):
    """A warehouse may serve a channel; `rank` keeps the order they were listed in."""

    __tablename__ = "channel_warehouses"
    __table_args__ = (Index("ix_channel_warehouses_warehouse_id", "warehouse_id"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(default=0)


class Supplier(Versioned, Base):
    __tablename__ = "suppliers"
    __table_args__ = (Index("ix_suppliers_country", "country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms: Mapped[str | None] = mapped_column(String(32))
    lead_time_days: Mapped[int | None]
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    address: Mapped[dict[str, Any] | None]
    country: Mapped[str | None] = mapped_column(String(2))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Customer(Versioned, Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_email", "email"), Index("ix_customers_name", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[CustomerType] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    emails: Mapped[list[str]] = mapped_column(default=list)
    phones: Mapped[list[str]] = mapped_column(default=list)
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    account_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    credit_currency: Mapped[str | None] = mapped_column(String(3))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
