"""Routing as the API and the CLI show it: rule set versions, plans with traces, fulfillment
orders with their lines. (Rule sets as admins send them are in `rules.py`.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from oms.routing.models import FulfillmentStatus
from oms.routing.rules import RuleSetRules


class RuleSetOut(BaseModel):
    """One version of a rule set; `version` is its ETag (a version never changes)."""

    id: int
    channel: str | None
    """null: the default rule set, for channels without their own."""
    version: int
    active: bool
    rules: RuleSetRules
    description: list[str]
    note: str | None
    created_by: str
    created_at: dt.datetime
    activated_by: str | None
    activated_at: dt.datetime | None


class ScoresOut(BaseModel):
    distance_km: float
    priority: float
    stock: float
    cost: float


class CandidateTraceOut(BaseModel):
    """One warehouse as the planner saw it for one line."""

    warehouse: str
    eligible: bool
    reasons: list[str]
    """Why not eligible: each filter it failed."""
    scores: ScoresOut
    chosen: bool
    why: str


class LineTraceOut(BaseModel):
    line_id: int
    line_number: int | None
    sku: str
    quantity: int
    backordered: int
    note: str
    candidates: list[CandidateTraceOut]


class PlanOut(BaseModel):
    """One plan made for an order: which rules, what was decided, and why (the trace)."""

    id: int
    order_id: int
    order_number: str
    reason: str
    strategy: str
    rule_set_id: int | None
    rule_set_version: int
    """0: the built-in default rule set."""
    rules: RuleSetRules
    destination: dict[str, Any]
    units: int
    planned_units: int
    backordered_units: int
    hold_for_review: bool
    shipments: int
    cost: float
    distance_km: float
    notes: list[str]
    fulfillment_orders: list[str]
    trace: list[LineTraceOut]
    actor: str
    created_at: dt.datetime


class FulfillmentLineOut(BaseModel):
    line_number: int
    order_line_id: int
    sku: str
    quantity: int
    """Units still to ship."""
    shipped: int = 0
    reservation_id: int


class FulfillmentOrderOut(BaseModel):
    """The part of a sales order one warehouse ships; `version` is its ETag."""

    id: int
    number: str
    order_id: int
    order_number: str
    channel: str
    warehouse: str
    status: FulfillmentStatus
    plan_id: int
    units: int
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    released_at: dt.datetime | None = None
    ship_by: dt.datetime | None = None
    """The SLA deadline, set on release."""
    acknowledged_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    wms_reference: str | None = None
    reject_reason: str | None = None
    lines: list[FulfillmentLineOut]
