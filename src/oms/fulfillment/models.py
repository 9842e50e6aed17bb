"""Fulfillment as stored: WMS connections and messages, shipments with their packages and
tracking events, tracking providers' secrets, and returns.

A fulfillment order (routing's table) is released to its warehouse's WMS and worked on
there:

    planned ─release─► released ─ack─► acknowledged ─► picking ─► packed ─► shipped
                                   └─► rejected (the rest goes back to routing)

Each WMS message (ack, status, shipment, return receipt) is kept once per warehouse and
message id: a second delivery of the same id changes nothing, and a status older than the
fulfillment order's (packed after shipped) is kept as `ignored`, never applied.

A shipment is what left a warehouse for one fulfillment order: packages (each with its
tracking number and its own tracking status and events) and the lines shipped. Package
tracking statuses are DOMAIN.md's normalized set; a shipment is delivered when every
package is.

Return (RMA):

    requested ─► authorized ─► received ─► inspected ─► restocked | scrapped ─► closed
            └─► rejected

Inspection decides per line how many units are resellable (a return-restock movement)
and how many damaged (a write-off); the return reads `restocked` when any unit went back
to stock, else `scrapped`.
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


class ReleaseMode(StrEnum):
    IMMEDIATE = "immediate"
    """A fulfillment order goes to the WMS as soon as nothing holds it."""
    WAVES = "waves"
    """Fulfillment orders go in waves at the connection's times (warehouse local time)."""


class ShortShipPolicy(StrEnum):
    REROUTE = "reroute"
    """Units a warehouse did not ship are routed again without that warehouse."""
    BACKORDER = "backorder"
    """Units a warehouse did not ship wait as backorders."""


class WmsConnection(Base):
    """How one warehouse's WMS is reached, and its release and short-ship rules.

    Pushing is a webhook subscription of the outbox (signed, retried, logged) to the
    warehouse's topics (`wms.<code>.*`); without one, the WMS pulls released work."""

    __tablename__ = "wms_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), unique=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    release_mode: Mapped[ReleaseMode] = mapped_column(String(12), default=ReleaseMode.IMMEDIATE)
    wave_times: Mapped[list[str]] = mapped_column(default=list)
    """`HH:MM` in the warehouse's time zone, for `waves`."""
    short_ship: Mapped[ShortShipPolicy] = mapped_column(String(12), default=ShortShipPolicy.REROUTE)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    version: Mapped[int] = mapped_column(default=1)


class MessageOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    """Out of order (older than what the fulfillment order already is): logged, not applied."""
    REFUSED = "refused"


class WmsMessage(Base):
    """One message a WMS sent, kept once per warehouse and message id."""

    __tablename__ = "wms_messages"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "message_id"),
        Index("ix_wms_messages_fulfillment_order", "fulfillment_order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    message_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    fulfillment_order_id: Mapped[int | None] = mapped_column(ForeignKey("fulfillment_orders.id"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_messages.id"))
    outcome: Mapped[MessageOutcome] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    body: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class TrackingStatus(StrEnum):
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class Shipment(Base):
    """What left a warehouse for one fulfillment order."""

    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_order", "order_id", "id"),
        Index("ix_shipments_fulfillment_order", "fulfillment_order_id", "id"),
        Index("ix_shipments_warehouse", "warehouse_id", "shipped_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    carrier: Mapped[str] = mapped_column(String(40))
    """Normalized carrier code (`UPS`, `FEDEX`, …)."""
    carrier_name: Mapped[str] = mapped_column(String(100))
    scac: Mapped[str | None] = mapped_column(String(4))
    service: Mapped[str] = mapped_column(String(60))
    """Normalized service code (`GROUND`, `NEXT_DAY_AIR`, …)."""
    status: Mapped[TrackingStatus] = mapped_column(String(24), default=TrackingStatus.PRE_TRANSIT)
    """The least advanced of its packages' statuses (delivered once every package is)."""
    message_id: Mapped[str] = mapped_column(String(100))
    shipped_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    @property
    def number(self) -> str:
        return shipment_number(self.id)


class ShipmentPackage(Base):
    __tablename__ = "shipment_packages"
    __table_args__ = (
        Index("ix_shipment_packages_shipment", "shipment_id", "id"),
        Index("ix_shipment_packages_tracking", "tracking_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    tracking_number: Mapped[str] = mapped_column(String(64))
    weight: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    weight_unit: Mapped[str | None] = mapped_column(String(4))
    sscc: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[TrackingStatus] = mapped_column(String(24), default=TrackingStatus.PRE_TRANSIT)
    status_at: Mapped[dt.datetime | None]
    estimated_delivery: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        Index("ix_shipment_lines_shipment", "shipment_id", "id"),
        Index("ix_shipment_lines_order_line", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    line_number: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]


class TrackingEvent(Base):
    """One carrier event of a package, normalized; `fingerprint` keeps a re-sent event out."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("package_id", "fingerprint"),
        Index("ix_tracking_events_package", "package_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("shipment_packages.id"))
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[TrackingStatus] = mapped_column(String(24))
    raw_status: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[dt.datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_messages.id"))
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class TrackingProvider(Base):
    """A tracking provider's webhook secret, set by an admin; none: unsigned events are
    accepted and logged as unsigned."""

    __tablename__ = "tracking_providers"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    secret: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    RECEIVED = "received"
    INSPECTED = "inspected"
    RESTOCKED = "restocked"
    SCRAPPED = "scrapped"
    CLOSED = "closed"
    REJECTED = "rejected"


class ShippingRefund(StrEnum):
    NONE = "none"
    FULL = "full"
    """The order's whole shipping charge, when every shipped unit comes back."""
    PRORATED = "prorated"
    """The shipping charge in proportion to the value returned."""


class Return(Base):
    """A return (RMA) of shipped lines of one order."""

    __tablename__ = "returns"
    __table_args__ = (
        Index("ix_returns_order", "order_id", "id"),
        Index("ix_returns_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    order_number: Mapped[str] = mapped_column(String(40))
    status: Mapped[ReturnStatus] = mapped_column(String(12), default=ReturnStatus.REQUESTED)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    """Where the goods are to come back."""
    reason: Mapped[str | None] = mapped_column(Text)
    shipping_refund: Mapped[ShippingRefund] = mapped_column(String(12), default=ShippingRefund.NONE)
    currency: Mapped[str] = mapped_column(String(3))
    refund_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    authorized_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime | None]
    inspected_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    @property
    def number(self) -> str:
        return return_number(self.id)


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (
        Index("ix_return_lines_return", "return_id", "id"),
        Index("ix_return_lines_order_line", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    line_number: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    """Units authorized to come back."""
    reason: Mapped[str | None] = mapped_column(Text)
    received: Mapped[int] = mapped_column(default=0)
    resellable: Mapped[int] = mapped_column(default=0)
    damaged: Mapped[int] = mapped_column(default=0)
    refund_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


def shipment_number(shipment_id: int) -> str:
    return f"SH-{shipment_id:06d}"


def return_number(return_id: int) -> str:
    return f"RMA-{return_id:06d}"


def number_id(number: str, prefix: str) -> int | None:
    """The id a number (`SH-000123`, `sh-123` or `123`) names, or None."""
    text = number.strip().upper().removeprefix(f"{prefix}-")
    return int(text) if text.isdigit() else None
