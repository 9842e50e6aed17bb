"""The planning contract: what the planner and the optimizer take and give back.

Plain frozen dataclasses; no session, no clock. Quantities are integers in the
item's unit of measure; costs are floats in one currency (the cost model's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Filter(StrEnum):
    """Rules a warehouse must pass to be a candidate for a line."""

    SERVES_CHANNEL = "serves_channel"
    SHIPS_TO_COUNTRY = "ships_to_country"
    HAZMAT_CAPABLE = "hazmat_capable"
    BELOW_CAPACITY = "below_capacity"
    HOLDS_WHOLE_LINE = "holds_whole_line"


class Ranking(StrEnum):
    """Orders eligible warehouses; the first criterion decides, the next breaks ties."""

    DISTANCE = "distance"
    PRIORITY = "priority"
    MOST_STOCK = "most_stock"
    LOWEST_COST = "lowest_cost"


class SplitPolicy(StrEnum):
    SHIP_COMPLETE = "ship_complete"
    """One warehouse ships every line, or nothing is planned (fallback)."""
    SPLIT_BY_LINE = "split_by_line"
    """Each line from one warehouse; lines may go to different warehouses."""
    SPLIT_WITHIN_LINE = "split_within_line"
    """A line may be shared between warehouses."""


class Fallback(StrEnum):
    BACKORDER = "backorder"
    HOLD_FOR_REVIEW = "hold_for_review"


class Strategy(StrEnum):
    GREEDY = "greedy"
    OPTIMAL = "optimal"


@dataclass(frozen=True)
class Destination:
    country: str
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = None
    region: str | None = None
    """State or province (as the address gives it); only said in the trace."""


@dataclass(frozen=True)
class DemandLine:
    """One line to plan: `key` is the caller's (an order line id)."""

    key: int
    item_id: int
    sku: str
    quantity: int
    hazmat: bool = False


@dataclass(frozen=True)
class Demand:
    """One order's open lines, where they go, and what decides fairness when stock is short."""

    key: str
    channel: str
    destination: Destination
    lines: tuple[DemandLine, ...]
    service_level: str = "standard"
    priority: int = 0
    ship_by: dt.datetime | None = None
    placed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Candidate:
    """A warehouse that might serve the demand, with what it has and can do today."""

    warehouse_id: int
    code: str
    country: str
    latitude: float | None
    longitude: float | None
    available: Mapping[int, int]
    """item id → units available now."""
    serves_channel: bool = True
    ships_to: frozenset[str] | None = None
    """Countries it ships to; None: anywhere."""
    hazmat_capable: bool = False
    capacity_left: int | None = None
    """Orders it can still take today; None: no limit."""
    priority: int = 0
    """Fixed rank: lower is preferred."""
    handling_cost: float = 0.0
    """Cost of one shipment leaving this warehouse."""


@dataclass(frozen=True)
class DistanceBand:
    """Shipping cost per shipment up to `max_km`, by service level."""

    max_km: float
    cost: Mapping[str, float]


@dataclass(frozen=True)
class CostModel:
    bands: tuple[DistanceBand, ...]
    split_penalty: float = 5.0
    """Added per shipment beyond the first."""
    unknown_distance_km: float = 1500.0
    """Distance assumed where coordinates are missing."""
    backorder_penalty: float = 1000.0
    """Per unit left unserved (backordered or held): far above any shipment's cost, so
    serving a unit always beats leaving it, and both strategies are judged alike."""


@dataclass(frozen=True)
class RuleSet:
    """What the planner may do: filters, ranking, splitting, and what happens to the rest."""

    filters: tuple[Filter, ...] = (
        Filter.SERVES_CHANNEL,
        Filter.SHIPS_TO_COUNTRY,
        Filter.HAZMAT_CAPABLE,
        Filter.BELOW_CAPACITY,
        Filter.HOLDS_WHOLE_LINE,
    )
    ranking: tuple[Ranking, ...] = (Ranking.DISTANCE, Ranking.PRIORITY)
    split: SplitPolicy = SplitPolicy.SPLIT_BY_LINE
    max_shipments: int | None = None
    fallback: Fallback = Fallback.BACKORDER


DEFAULT_RULE_SET = RuleSet()
"""Until an admin changes it: warehouses the channel may use that hold the whole
line, nearest to the ship-to first; split by line allowed; the rest backordered."""


@dataclass(frozen=True)
class Assignment:
    line_key: int
    warehouse_id: int
    quantity: int


@dataclass(frozen=True)
class CandidateTrace:
    """One warehouse as the planner saw it for one line."""

    warehouse_id: int
    code: str
    eligible: bool
    reasons: tuple[str, ...]
    """Why not eligible (each failed filter), or empty."""
    scores: Mapping[str, float]
    """The ranking components (distance_km, priority, stock, cost)."""
    chosen: bool
    why: str
    """Why chosen, or why passed over although eligible."""


@dataclass(frozen=True)
class LineTrace:
    line_key: int
    sku: str
    quantity: int
    candidates: tuple[CandidateTrace, ...]
    backordered: int
    note: str = ""


@dataclass(frozen=True)
class Plan:
    """The answer for one demand: assignments, what is left, and the trace that explains it."""

    demand_key: str
    assignments: tuple[Assignment, ...]
    backordered: Mapping[int, int]
    """line key → units no warehouse can serve now."""
    hold_for_review: bool
    trace: tuple[LineTrace, ...]
    strategy: Strategy = Strategy.GREEDY
    cost: float = 0.0
    distance_km: float = 0.0
    shipments: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
