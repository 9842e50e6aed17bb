"""Sales orders, their lines, holds, allocations and timeline.

Status, derived from the lines (see `status.derive`):

    received → open → backordered | partially_allocated | allocated
             → partially_released | released → partially_shipped | shipped
             → delivered → closed;  cancelled when every unit is cancelled.

A line's units are in exactly one bucket at a time: open (not yet allocated or
backordered), allocated (reserved at a warehouse), backordered, released (sent
to a warehouse), shipped, delivered, or cancelled. `returned` counts units that
came back after shipping; they stay counted as shipped or delivered.

Holds (payment, fraud, address, credit, manual) stop release, several at once;
each is placed and released by someone, with a reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.kit import clock

Money = Numeric(18, 4)


class OrderStatus(StrEnum):
    RECEIVED = "received"
    OPEN = "open"
    BACKORDERED = "backordered"
    PARTIALLY_ALLOCATED = "partially_allocated"
    ALLOCATED = "allocated"
    PARTIALLY_RELEASED = "partially_released"
    RELEASED = "released"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPEDITED = "expedited"
    OVERNIGHT = "overnight"
    PICKUP = "pickup"


class HoldType(StrEnum):
    PAYMENT = "payment"
    FRAUD = "fraud"
    ADDRESS = "address"
    CREDIT = "credit"
    MANUAL = "manual"


class SalesOrder(Base):
    __tablename__ = "sales_orders"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_sales_orders_status", "status", "id"),
        Index("ix_sales_orders_placed_at", "placed_at", "id"),
        Index("ix_sales_orders_customer", "customer_id", "id"),
        Index("ix_sales_orders_customer_email", "customer_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    bill_to: Mapped[dict[str, Any] | None]
    ship_to: Mapped[dict[str, Any]]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Money)
    discount_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    shipping_charge: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Money)
    service_level: Mapped[ServiceLevel] = mapped_column(String(12), default=ServiceLevel.STANDARD)
    ship_by: Mapped[dt.datetime | None]
    deliver_by: Mapped[dt.datetime | None]
    priority: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    gift: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[OrderStatus] = mapped_column(String(20), default=OrderStatus.RECEIVED)
    accepted: Mapped[bool] = mapped_column(default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_messages.id"))
    placed_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)


class OrderLine(Base):
    __tablename__ = "sales_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_number"),
        Index("ix_sales_order_lines_item", "item_id", "order_id"),
        Index("ix_sales_order_lines_sku", "sku", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    line_number: Mapped[int]
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    allocated: Mapped[int] = mapped_column(default=0)
    backordered: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
    shipped: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)
    returned: Mapped[int] = mapped_column(default=0)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    @property
    def open(self) -> int:
        """Units neither allocated, backordered, released, shipped, delivered nor cancelled."""
        return self.quantity - (
            self.allocated
            + self.backordered
            + self.released
            + self.shipped
            + self.delivered
            + self.cancelled
        )

    @property
    def net_amount(self) -> Decimal:
        """What the line charges for its units not cancelled: price × quantity − discount + tax."""
        return self.unit_price * (self.quantity - self.cancelled) - self.discount + self.tax


class OrderHold(Base):
    __tablename__ = "sales_order_holds"
    __table_args__ = (
        Index("ix_sales_order_holds_order", "order_id", "released_at"),
        Index("ix_sales_order_holds_type", "type", "released_at", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    type: Mapped[HoldType] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[dt.datetime | None]
    release_note: Mapped[str | None] = mapped_column(Text)

    @property
    def active(self) -> bool:
        return self.released_at is None


class OrderAllocation(Base):
    """Units of one line reserved at one warehouse, through one reservation."""

    __tablename__ = "sales_order_allocations"
    __table_args__ = (Index("ix_sales_order_allocations_line", "line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"))
    quantity: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class OrderEvent(Base):
    """The order's timeline: one row per action, with who, when and what."""

    __tablename__ = "sales_order_events"
    __table_args__ = (Index("ix_sales_order_events_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
