"""Pydantic shapes of inventory, in and out, with the JSON names the API promises."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from oms.catalog.schemas import Code, Sku, Strict

Quantity = Annotated[int, Field(gt=0, le=10_000_000)]
Note = Annotated[str, Field(max_length=2000)]
Reference = Annotated[str, Field(min_length=1, max_length=100)]


class Out(BaseModel):
    """Outputs read attributes as well as dicts."""

    model_config = ConfigDict(from_attributes=True)


# -- balances ------------------------------------------------------------------------


class InboundOut(Out):
    """Stock on its way to a warehouse: how much, when, and from which document."""

    quantity: int
    expected_at: dt.datetime | None
    source: str


class StockLineOut(Out):
    """One item at one warehouse: `available` = on hand − reserved − safety stock, never < 0."""

    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    inbound: int
    inbound_detail: list[InboundOut]
    reorder_point: int | None
    reorder_quantity: int | None
    min_quantity: int | None
    max_quantity: int | None
    below_reorder_point: bool


class StockTotals(BaseModel):
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    inbound: int


class ItemAvailabilityOut(BaseModel):
    """One item's stock per warehouse in the caller's scope, and their total."""

    sku: str
    warehouses: list[StockLineOut]
    total: StockTotals


# -- movements -----------------------------------------------------------------------


class AdjustmentIn(Strict):
    """A signed correction of on hand, with a reason code (`damaged`, `found`, `cycle_count`…)."""

    sku: Sku
    warehouse: Code
    quantity: Annotated[int, Field(ge=-10_000_000, le=10_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=50)]
    note: Note | None = None


class ReferenceOut(BaseModel):
    type: str
    id: str


class MovementOut(BaseModel):
    """One ledger row: what changed where, why, against which document, by whom, when."""

    id: int
    sku: str
    warehouse: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str | None
    note: str | None
    reference: ReferenceOut | None
    actor: str
    at: dt.datetime


# -- transfers -----------------------------------------------------------------------


class TransferLineIn(Strict):
    sku: Sku
    quantity: Quantity


class TransferIn(Strict):
    """Ship stock from `source` to `destination`; it is in transit until received."""

    source: Code
    destination: Code
    lines: Annotated[list[TransferLineIn], Field(min_length=1, max_length=1000)]
    expected_at: dt.datetime | None = None
    note: Note | None = None


class TransferLineOut(BaseModel):
    sku: str
    quantity: int


class TransferOut(BaseModel):
    id: int
    source: str
    destination: str
    status: str
    expected_at: dt.datetime | None
    note: str | None
    lines: list[TransferLineOut]
    created_at: dt.datetime
    received_at: dt.datetime | None
    actor: str


# -- reservations --------------------------------------------------------------------


class ReservationIn(Strict):
    """Hard without `expires_in_seconds`; soft (released when it expires) with it."""

    sku: Sku
    warehouse: Code
    quantity: Quantity
    reference: Reference
    expires_in_seconds: Annotated[int, Field(gt=0)] | None = None


class ReservationMoveIn(Strict):
    warehouse: Code


class ReservationConsumeIn(Strict):
    """Ship part or all of a reservation; `reference` names the shipment."""

    quantity: Quantity
    reference: Reference


class ReservationOut(BaseModel):
    id: int
    sku: str
    warehouse: str
    quantity: int
    consumed: int
    open_quantity: int
    reference: str
    kind: str
    status: str
    expires_at: dt.datetime | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    actor: str


# -- snapshots -----------------------------------------------------------------------


class SnapshotLineOut(BaseModel):
    """One item's count and what it meant: expected = on hand − moved since − in flight."""

    id: int
    sku: str
    counted: int
    in_flight: int
    on_hand: int
    moved_since: int
    expected: int
    difference: int
    reserved: int
    status: str
    short_of_reservations: bool
    decided_by: str | None
    decided_at: dt.datetime | None


class SnapshotOut(BaseModel):
    """A WMS stock snapshot: its status, the problems that stopped it, and the difference report."""

    id: int
    warehouse: str
    format: str
    status: str
    as_of: dt.datetime | None
    received_at: dt.datetime
    actor: str
    errors: list[dict[str, Any]] | None
    report: list[SnapshotLineOut]


# -- settings ------------------------------------------------------------------------


class SafetyStockIn(Strict):
    """Per item, per warehouse, or both (the most specific wins); `quantity: null` removes it."""

    sku: Sku | None = None
    warehouse: Code | None = None
    quantity: Annotated[int, Field(ge=0, le=10_000_000)] | None


class SafetyStockOut(BaseModel):
    sku: str | None
    warehouse: str | None
    quantity: int | None
    balances_updated: int


class ReorderIn(Strict):
    """Reorder point and quantity, or min and max, for one item at one warehouse."""

    sku: Sku
    warehouse: Code
    reorder_point: Annotated[int, Field(ge=0)] | None = None
    reorder_quantity: Annotated[int, Field(ge=0)] | None = None
    min_quantity: Annotated[int, Field(ge=0)] | None = None
    max_quantity: Annotated[int, Field(ge=0)] | None = None


class ReorderOut(BaseModel):
    sku: str
    warehouse: str
    reorder_point: int | None
    reorder_quantity: int | None
    min_quantity: int | None
    max_quantity: int | None


# -- channel availability ------------------------------------------------------------


class FeedEntryOut(Out):
    """What a channel may promise of one item, under the sequence it was published with."""

    sku: str
    atp: int
    seq: int
    updated_at: dt.datetime


class ChannelFeedOut(BaseModel):
    """A channel's availability feed; `seq` is the newest sequence published to it (the ETag)."""

    channel: str
    seq: int
    items: list[FeedEntryOut]
