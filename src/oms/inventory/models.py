"""Balances, the movement ledger, reservations, transfers, safety stock, reorder settings.

Ledger. Every change of `on_hand` or `reserved` is one append-only movement
row carrying both deltas; a balance always equals the sum of its movements.

    kind              on_hand   reserved   reference
    receipt              +q                 PO / ASN / receipt
    shipment             −q        −q       the consumed reservation
    adjustment           ±q                 reason code required
    transfer_out         −q                 transfer (source leg)
    transfer_in          +q                 transfer (destination leg)
    count_correction     ±q                 stock snapshot
    return_restock       +q                 return
    write_off            −q                 reason
    reserve                        +q       reservation
    release                        −q       reservation (released or expired)

Reservation: active ──release──► released
                    ──expire───► expired   (soft reservations past expires_at)
                    ──consume──► consumed  (shipped; partially consumed keeps the rest active)
                    ──move─────► (another warehouse, checked there like a new one)

Transfer: in_transit ──receive──► received (the in-transit quantity counts as
inbound at the destination until then).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.kit import clock


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    SHIPMENT = "shipment"
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    COUNT_CORRECTION = "count_correction"
    RETURN_RESTOCK = "return_restock"
    WRITE_OFF = "write_off"
    RESERVE = "reserve"
    RELEASE = "release"


class ReservationKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    CONSUMED = "consumed"


class TransferStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


class Balance(Base):
    """The stock of one item at one warehouse: the running sum of its ledger."""

    __tablename__ = "inventory_balances"
    __table_args__ = (
        UniqueConstraint("item_id", "warehouse_id"),
        Index("ix_inventory_balances_warehouse", "warehouse_id", "item_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    safety_stock: Mapped[int] = mapped_column(default=0)
    in_transit: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class Movement(Base):
    """One append-only ledger row."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        Index("ix_inventory_movements_item_warehouse", "item_id", "warehouse_id", "id"),
        Index("ix_inventory_movements_reference", "reference_type", "reference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[MovementKind] = mapped_column(String(20))
    on_hand_delta: Mapped[int] = mapped_column(default=0)
    reserved_delta: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    reference_type: Mapped[str | None] = mapped_column(String(30))
    reference_id: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_reference", "reference"),
        Index("ix_reservations_expiry", "status", "expires_at"),
        Index("ix_reservations_item_warehouse", "item_id", "warehouse_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]
    consumed: Mapped[int] = mapped_column(default=0)
    reference: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ReservationKind] = mapped_column(String(10))
    status: Mapped[ReservationStatus] = mapped_column(String(10), default=ReservationStatus.ACTIVE)
    expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[dt.datetime | None]
    actor: Mapped[str] = mapped_column(String(200))

    @property
    def open_quantity(self) -> int:
        """What this reservation still holds."""
        return self.quantity - self.consumed if self.status == ReservationStatus.ACTIVE else 0


class Transfer(Base):
    """A move of stock between two warehouses: shipped out at once, received later."""

    __tablename__ = "inventory_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    destination_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[TransferStatus] = mapped_column(String(12), default=TransferStatus.IN_TRANSIT)
    expected_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    received_at: Mapped[dt.datetime | None]
    actor: Mapped[str] = mapped_column(String(200))


class TransferLine(Base):
    __tablename__ = "inventory_transfer_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("inventory_transfers.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int]


class SafetyStockRule(Base):
    """Safety stock for an item, a warehouse, or one item at one warehouse (most specific wins)."""

    __tablename__ = "safety_stock_rules"
    __table_args__ = (UniqueConstraint("item_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]


class ReorderSetting(Base):
    """When and how much to buy for one item at one warehouse: reorder point/quantity or min/max."""

    __tablename__ = "reorder_settings"
    __table_args__ = (UniqueConstraint("item_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    reorder_point: Mapped[int | None]
    reorder_quantity: Mapped[int | None]
    min_quantity: Mapped[int | None]
    max_quantity: Mapped[int | None]


class AvailabilityMark(Base):
    """An item whose stock changed since channel availability was last published."""

    __tablename__ = "availability_marks"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    marked_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ChannelAvailability(Base):
    """The ATP last published to a channel for an item, with the sequence it was sent under."""

    __tablename__ = "channel_availability"
    __table_args__ = (Index("ix_channel_availability_seq", "channel_id", "seq"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    atp: Mapped[int]
    seq: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class SnapshotStatus(StrEnum):
    RECEIVED = "received"
    FAILED = "failed"
    APPLIED = "applied"
    PENDING_APPROVAL = "pending_approval"


class SnapshotLineStatus(StrEnum):
    MATCHED = "matched"
    APPLIED = "applied"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


class StockSnapshot(Base):
    """A WMS's count of a warehouse, kept raw before it is parsed."""

    __tablename__ = "stock_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    format: Mapped[str] = mapped_column(String(10))
    raw: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.datetime | None]
    status: Mapped[SnapshotStatus] = mapped_column(String(20), default=SnapshotStatus.RECEIVED)
    errors: Mapped[list[dict[str, Any]] | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(200))


class SnapshotLine(Base):
    """One item's count in a snapshot and what it meant for the ledger."""

    __tablename__ = "stock_snapshot_lines"
    __table_args__ = (Index("ix_stock_snapshot_lines_snapshot", "snapshot_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("stock_snapshots.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    counted: Mapped[int]
    in_flight: Mapped[int] = mapped_column(default=0)
    on_hand: Mapped[int]
    moved_since: Mapped[int] = mapped_column(default=0)
    expected: Mapped[int]
    difference: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    status: Mapped[SnapshotLineStatus] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None]


class ChannelAvailabilityConfig(Base):
    """What a channel's published availability was computed from: its warehouses and policy.

    When a channel gains or loses a warehouse, or its buffer changes, the
    fingerprint no longer matches and every stocked item is recounted for it.
    """

    __tablename__ = "channel_availability_configs"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
