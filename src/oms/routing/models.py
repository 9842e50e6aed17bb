"""Rule sets, routing plans and fulfillment orders, as stored.

Rule sets are versioned per scope: a channel, or the default (no channel) for
channels without their own. A change makes a new version; old versions are
kept. One version per scope is active at a time; until an admin makes one for
the default scope, `model.DEFAULT_RULE_SET` applies.

A routing plan is every decision made for one demand (an order's open lines):
the rules used, the strategy, the totals and the full trace. It is never
changed afterwards; a later plan for the same order is a new row.

Fulfillment order (the part of a plan one warehouse works on):

    planned → released → acknowledged → picking → packed → shipped
            ↘ rejected | cancelled

Routing makes them `planned`; releasing them to the WMS is the fulfillment
work's. Each line links the order line, the item, the units and the
reservation that holds them. A planned fulfillment order whose every line was
given back (its order lines cancelled) is `cancelled`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms.db import Base
from oms.kit import clock

DEFAULT_SCOPE = 0
"""`scope_id` of the default rule set (no channel)."""


class FulfillmentStatus(StrEnum):
    PLANNED = "planned"
    RELEASED = "released"
    ACKNOWLEDGED = "acknowledged"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class RoutingRuleSet(Base):
    """One version of a scope's rules; `scope_id` is the channel's id, or 0 for the default
    (a NULL would not take part in the unique key)."""

    __tablename__ = "routing_rule_sets"
    __table_args__ = (
        UniqueConstraint("scope_id", "version"),
        Index("ix_routing_rule_sets_active", "scope_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int]
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    version: Mapped[int]
    active: Mapped[bool] = mapped_column(default=False)
    rules: Mapped[dict[str, Any]]
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    activated_by: Mapped[str | None] = mapped_column(String(200))
    activated_at: Mapped[dt.datetime | None]


class RoutingPlan(Base):
    """What routing decided for one demand of an order, and why (the trace)."""

    __tablename__ = "routing_plans"
    __table_args__ = (Index("ix_routing_plans_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    demand_key: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule_sets.id"))
    """None: the built-in default rule set."""
    rule_set_version: Mapped[int]
    """0 for the built-in default rule set."""
    rules: Mapped[dict[str, Any]]
    """The rules as applied, so a plan explains itself whatever happens to its rule set."""
    strategy: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(40))
    """Why it was planned: intake, edit, …"""
    destination: Mapped[dict[str, Any]]
    units: Mapped[int]
    planned_units: Mapped[int]
    """Units reserved at a warehouse."""
    backordered_units: Mapped[int]
    """Units no warehouse could serve now (or refused by a concurrent reservation)."""
    hold_for_review: Mapped[bool] = mapped_column(default=False)
    shipments: Mapped[int]
    cost: Mapped[float]
    distance_km: Mapped[float]
    notes: Mapped[list[str]] = mapped_column(default=list)
    trace: Mapped[list[dict[str, Any]]]
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class FulfillmentOrder(Base):
    """The part of an order's plan one warehouse ships."""

    __tablename__ = "fulfillment_orders"
    __table_args__ = (
        Index("ix_fulfillment_orders_order", "order_id", "id"),
        Index("ix_fulfillment_orders_warehouse", "warehouse_id", "created_at"),
        Index("ix_fulfillment_orders_status", "status", "id"),
        Index("ix_fulfillment_orders_ship_by", "status", "ship_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    order_number: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("routing_plans.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[FulfillmentStatus] = mapped_column(String(12), default=FulfillmentStatus.PLANNED)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    version: Mapped[int] = mapped_column(default=1)
    # Execution (the fulfillment package's): when it went to the WMS and what came back.
    released_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    ship_by: Mapped[dt.datetime | None] = mapped_column(default=None)
    """The SLA deadline: the warehouse's cut-off the service level asks for (set on release)."""
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    wms_reference: Mapped[str | None] = mapped_column(String(100), default=None)
    reject_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def number(self) -> str:
        """`FO-000123`: drawn from the id, so making one locks no counter."""
        return fulfillment_number(self.id)


class FulfillmentOrderLine(Base):
    """Units of one order line a fulfillment order ships, held by one reservation."""

    __tablename__ = "fulfillment_order_lines"
    __table_args__ = (
        Index("ix_fulfillment_order_lines_order", "fulfillment_order_id", "id"),
        Index("ix_fulfillment_order_lines_reservation", "reservation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    line_number: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    """Units it still holds (to ship); shipped units move to `shipped`."""
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"))
    shipped: Mapped[int] = mapped_column(default=0)


class LineRefusal(Base):
    """A warehouse gave an order line's units back (it rejected or short-picked them):
    the backorder pass sends that line there again only once the warehouse's stock of
    the item was counted, adjusted, written off or replenished after this (the row is
    then deleted)."""

    __tablename__ = "line_refusals"
    __table_args__ = (Index("ix_line_refusals_line", "line_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    refused_at: Mapped[dt.datetime]
    after_movement: Mapped[int]
    """The largest ledger movement id of the item at the warehouse when it refused: a
    restock is a later one (ledger order, not clocks)."""


def fulfillment_number(fulfillment_order_id: int) -> str:
    """The number a fulfillment order is known by: `FO-` and its id, six digits at least."""
    return f"FO-{fulfillment_order_id:06d}"


def fulfillment_id(number: str) -> int | None:
    """The id a number (`FO-000123`, `fo-123` or `123`) names, or None when it names none."""
    text = number.strip().upper().removeprefix("FO-")
    return int(text) if text.isdigit() else None
