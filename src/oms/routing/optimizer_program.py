"""The optimal strategy's program: columns, rows and a first incumbent (see `optimizer.py`).

Eligibility is the planner's, filter for filter and in its words; the
program's variables and constraints are described in `optimizer.py`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

from oms.routing import costs as costing
from oms.routing.model import (
    Candidate,
    CostModel,
    Demand,
    Fallback,
    Filter,
    Plan,
    Ranking,
    RuleSet,
    SplitPolicy,
)
from oms.routing.optimizer_trace import Outcome

TIE_BREAK = 1e-4
"""The largest tie-break cost of one shipment: far below a cent."""


# --- eligibility (the planner's filters) ------------------------------------------------------


def static_reasons(demand: Demand, candidate: Candidate, rules: RuleSet) -> list[str]:
    """The filters `candidate` fails for every line of `demand`, in the planner's words."""
    filters = set(rules.filters)
    reasons = []
    if Filter.SERVES_CHANNEL in filters and not candidate.serves_channel:
        reasons.append(f"does not serve channel {demand.channel}")
    country = demand.destination.country
    if (
        Filter.SHIPS_TO_COUNTRY in filters
        and candidate.ships_to is not None
        and country not in candidate.ships_to
    ):
        reasons.append(f"does not ship to {country}")
    if (
        Filter.BELOW_CAPACITY in filters
        and candidate.capacity_left is not None
        and candidate.capacity_left <= 0
    ):
        reasons.append("no capacity left today")
    return reasons


# --- the program ------------------------------------------------------------------------------


class Program:
    """Columns and rows gathered in Python lists, handed to HiGHS in one call."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.flat: list[float] = []
        """Each column's coefficient in `costs.plan_objective` (no fairness, no tie-break)."""
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.starts: list[int] = []
        self.index: list[int] = []
        self.value: list[float] = []

    @property
    def columns(self) -> int:
        return len(self.cost)

    @property
    def rows(self) -> int:
        return len(self.starts)

    def column(
        self, cost: float, upper: float, *, integer: bool = True, flat: float | None = None
    ) -> int:
        self.cost.append(cost)
        self.flat.append(cost if flat is None else flat)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        self.starts.append(len(self.index))
        for column, coefficient in terms:
            self.index.append(column)
            self.value.append(coefficient)
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def plain_objective(self, values: Sequence[float]) -> float:
        """`costs.plan_objective` of a solution."""
        return sum(c * v for c, v in zip(self.flat, values, strict=True))

    def no_worse_than(self, objective: float) -> None:
        """Keep `costs.plan_objective` of the result at or below `objective`."""
        terms = [(n, c) for n, c in enumerate(self.flat) if c]
        self.row(terms, -math.inf, objective + 1e-6)

    def pass_to(self, highs: highspy.Highs) -> None:
        inf = highspy.kHighsInf
        status = highs.passModel(
            self.columns,
            self.rows,
            len(self.index),
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMinimize),
            0.0,
            np.array(self.cost, dtype=np.float64),
            np.array(self.lower, dtype=np.float64),
            np.array([inf if math.isinf(u) else u for u in self.upper], dtype=np.float64),
            np.array(self.row_lower, dtype=np.float64),
            np.array(self.row_upper, dtype=np.float64),
            np.array(self.starts, dtype=np.int32),
            np.array(self.index, dtype=np.int32),
            np.array(self.value, dtype=np.float64),
            np.array(self.integer, dtype=np.int32),
        )
        if status != highspy.HighsStatus.kOk:
            raise RuntimeError(f"HiGHS refused the routing program: {status}")


@dataclass
class Pool:
    stock: dict[tuple[int, int], int]
    """(warehouse id, item id) → units the whole batch may draw."""
    capacity: dict[int, int]
    """warehouse id → demands it may still take today (absent: no limit)."""

    @classmethod
    def of(cls, candidates_by_demand: Mapping[str, Sequence[Candidate]]) -> Pool:
        stock: dict[tuple[int, int], int] = {}
        capacity: dict[int, int] = {}
        for candidates in candidates_by_demand.values():
            for c in candidates:
                for item_id, units in c.available.items():
                    key = (c.warehouse_id, item_id)
                    stock[key] = max(stock.get(key, 0), units)
                if c.capacity_left is not None:
                    capacity[c.warehouse_id] = min(
                        capacity.get(c.warehouse_id, c.capacity_left), c.capacity_left
                    )
        return cls(stock=stock, capacity=capacity)


@dataclass
class _Option:
    """One eligible (line, warehouse) pair and its columns."""

    warehouse_id: int
    x: int | None = None
    """Units column (None where the line ships whole: then `z` carries it)."""
    z: int | None = None
    cap: int = 0


@dataclass
class _Line:
    key: int
    item_id: int
    quantity: int
    options: dict[int, _Option] = field(default_factory=dict)
    left: int | None = None
    """Units-left column (`u`)."""
    left_whole: int | None = None
    """Whole-line-left column (`v`)."""


@dataclass
class BuiltDemand:
    demand: Demand
    candidates: Sequence[Candidate]
    rules: RuleSet
    lines: list[_Line]
    shipment: dict[int, int]
    """warehouse id → its `y` column."""
    complete: int | None = None
    """The ship_complete demand's nothing-planned column (`v[d]`)."""
    extra: int | None = None
    reasons: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    """(line key, warehouse id) → failed filters."""
    whole_able: set[int] = field(default_factory=set)

    def outcome(self, values: Sequence[float]) -> Outcome:
        def get(column: int | None) -> int:
            return 0 if column is None else round(values[column])

        taken: dict[tuple[int, int], int] = {}
        left: dict[int, int] = {}
        for line in self.lines:
            for wid, option in line.options.items():
                units = get(option.x) if option.x is not None else line.quantity * get(option.z)
                if self.complete is not None:
                    units = line.quantity * get(self.shipment.get(wid))
                if units:
                    taken[(line.key, wid)] = units
            served = sum(u for (k, _), u in taken.items() if k == line.key)
            left[line.key] = line.quantity - served
        shipping = {wid for wid, column in self.shipment.items() if get(column)}
        return Outcome(
            demand=self.demand,
            candidates=self.candidates,
            rules=self.rules,
            taken=taken,
            left=left,
            shipping=shipping,
            reasons=self.reasons,
            whole_able=self.whole_able,
        )


def build_demand(
    program: Program,
    demand: Demand,
    candidates: Sequence[Candidate],
    *,
    rules: RuleSet,
    costs: CostModel,
    penalty: float,
) -> BuiltDemand:
    filters = set(rules.filters)
    by_id = {c.warehouse_id: c for c in candidates}
    statics = {c.warehouse_id: static_reasons(demand, c, rules) for c in candidates}
    built = BuiltDemand(demand, candidates, rules, [], {})
    for line in demand.lines:
        for c in candidates:
            reasons = list(statics[c.warehouse_id])
            if Filter.HAZMAT_CAPABLE in filters and line.hazmat and not c.hazmat_capable:
                reasons.append("not hazmat capable")
            held = c.available.get(line.item_id, 0)
            whole_filter = (
                Filter.HOLDS_WHOLE_LINE in filters
                and rules.split is not SplitPolicy.SPLIT_WITHIN_LINE
            )
            if whole_filter and held < line.quantity:
                reasons.append(f"holds {held} of {line.quantity}")
            built.reasons[(line.key, c.warehouse_id)] = reasons
    if rules.split is SplitPolicy.SHIP_COMPLETE:
        _build_ship_complete(program, built, by_id, statics, costs, penalty)
    else:
        _build_line_by_line(program, built, by_id, costs, penalty)
    if len(built.shipment) > 1:
        if rules.max_shipments is not None and rules.max_shipments < len(built.shipment):
            program.row([(y, 1.0) for y in built.shipment.values()], 0.0, rules.max_shipments)
        if costs.split_penalty > 0:
            built.extra = program.column(costs.split_penalty, math.inf, integer=False)
            terms = [(built.extra, 1.0)] + [(y, -1.0) for y in built.shipment.values()]
            program.row(terms, -1.0, math.inf)
    return built


def _shipment_columns(
    program: Program,
    built: BuiltDemand,
    warehouse_ids: Sequence[int],
    by_id: Mapping[int, Candidate],
    costs: CostModel,
) -> None:
    demand = built.demand
    ranked = sorted(
        warehouse_ids, key=lambda wid: _rank_key(demand, by_id[wid], built.rules, costs)
    )
    for position, wid in enumerate(ranked):
        candidate = by_id[wid]
        km = costing.distance_km(demand.destination, candidate, costs)
        cost = costing.shipment_cost(km, demand.service_level, candidate, costs)
        tie = TIE_BREAK * position / max(1, len(ranked))
        built.shipment[wid] = program.column(cost + tie, 1.0, flat=cost)


def _build_ship_complete(
    program: Program,
    built: BuiltDemand,
    by_id: Mapping[int, Candidate],
    statics: Mapping[int, list[str]],
    costs: CostModel,
    penalty: float,
) -> None:
    demand = built.demand
    totals: dict[int, int] = defaultdict(int)
    for line in demand.lines:
        totals[line.item_id] += line.quantity
    able = [
        wid
        for wid, candidate in by_id.items()
        if demand.lines
        and not statics[wid]
        and all(not built.reasons[(line.key, wid)] for line in demand.lines)
        and all(candidate.available.get(i, 0) >= q for i, q in totals.items())
    ]
    built.whole_able = set(able)
    _shipment_columns(program, built, able, by_id, costs)
    units = sum(line.quantity for line in demand.lines)
    built.complete = program.column(penalty * units, 1.0, flat=costs.backorder_penalty * units)
    program.row([(built.complete, 1.0)] + [(y, 1.0) for y in built.shipment.values()], 1.0, 1.0)
    for line in demand.lines:
        built_line = _Line(line.key, line.item_id, line.quantity)
        for wid in able:
            built_line.options[wid] = _Option(wid, cap=line.quantity)
        built.lines.append(built_line)


def _build_line_by_line(
    program: Program,
    built: BuiltDemand,
    by_id: Mapping[int, Candidate],
    costs: CostModel,
    penalty: float,
) -> None:
    rules = built.rules
    by_line = rules.split is SplitPolicy.SPLIT_BY_LINE
    all_or_nothing = rules.fallback is Fallback.HOLD_FOR_REVIEW
    whole = by_line and (Filter.HOLDS_WHOLE_LINE in rules.filters or all_or_nothing)
    for line in built.demand.lines:
        built_line = _Line(line.key, line.item_id, line.quantity)
        for wid, candidate in by_id.items():
            if built.reasons[(line.key, wid)]:
                continue
            cap = min(line.quantity, candidate.available.get(line.item_id, 0))
            if cap <= 0 or (whole and cap < line.quantity):
                continue
            built_line.options[wid] = _Option(wid, cap=cap)
        built.lines.append(built_line)
    _shipment_columns(
        program, built, sorted({w for ln in built.lines for w in ln.options}), by_id, costs
    )
    for ln in built.lines:
        served: list[tuple[int, float]] = []
        for wid, option in ln.options.items():
            y = built.shipment[wid]
            if by_line:
                option.z = program.column(0.0, 1.0)
                program.row([(option.z, 1.0), (y, -1.0)], -math.inf, 0.0)
            if whole:
                assert option.z is not None
                served.append((option.z, float(ln.quantity)))
                continue
            option.x = program.column(0.0, option.cap)
            link = option.z if option.z is not None else y
            program.row([(option.x, 1.0), (link, -float(option.cap))], -math.inf, 0.0)
            served.append((option.x, 1.0))
        if by_line and len(ln.options) > 1:
            program.row([(o.z, 1.0) for o in ln.options.values() if o.z is not None], 0.0, 1.0)
        if all_or_nothing or whole:
            ln.left_whole = program.column(
                penalty * ln.quantity, 1.0, flat=costs.backorder_penalty * ln.quantity
            )
            served.append((ln.left_whole, float(ln.quantity)))
        else:
            ln.left = program.column(penalty, ln.quantity, flat=costs.backorder_penalty)
            served.append((ln.left, 1.0))
        program.row(served, ln.quantity, ln.quantity)


def add_batch_rows(
    program: Program, built: Sequence[BuiltDemand], pool: Pool, rules: RuleSet
) -> None:
    """Stock shared by the batch; capacity where the rule set filters on it."""
    draws: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
    most: dict[tuple[int, int], int] = defaultdict(int)
    for b in built:
        for ln in b.lines:
            for wid, option in ln.options.items():
                key = (wid, ln.item_id)
                if b.complete is not None:
                    draws[key].append((b.shipment[wid], float(ln.quantity)))
                elif option.x is not None:
                    draws[key].append((option.x, 1.0))
                elif option.z is not None:
                    draws[key].append((option.z, float(ln.quantity)))
                most[key] += option.cap
    for key, terms in draws.items():
        if most[key] > pool.stock.get(key, 0):
            program.row(terms, -math.inf, pool.stock.get(key, 0))
    if Filter.BELOW_CAPACITY in rules.filters:
        shipments: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for b in built:
            for wid, y in b.shipment.items():
                shipments[wid].append((y, 1.0))
        for wid, terms in shipments.items():
            limit = pool.capacity.get(wid)
            if limit is not None and len(terms) > limit:
                program.row(terms, -math.inf, limit)


def _rank_key(
    demand: Demand, candidate: Candidate, rules: RuleSet, costs: CostModel
) -> tuple[float | str, ...]:
    """The planner's ranking for the whole demand (the tie-break follows it)."""
    km = costing.distance_km(demand.destination, candidate, costs)
    key: list[float | str] = []
    for criterion in rules.ranking:
        if criterion is Ranking.DISTANCE:
            key.append(km)
        elif criterion is Ranking.PRIORITY:
            key.append(candidate.priority)
        elif criterion is Ranking.MOST_STOCK:
            key.append(-sum(candidate.available.get(line.item_id, 0) for line in demand.lines))
        else:
            key.append(costing.shipment_cost(km, demand.service_level, candidate, costs))
    return (*key, candidate.code, candidate.warehouse_id)


def usage(built: Sequence[BuiltDemand], values: Sequence[float]) -> dict[tuple[int, int], int]:
    """Units drawn per (warehouse, item) and, under key (warehouse, -1), demands shipped."""
    used: dict[tuple[int, int], int] = defaultdict(int)
    for b in built:
        outcome = b.outcome(values)
        items = {ln.key: ln.item_id for ln in b.lines}
        for (line_key, wid), units in outcome.taken.items():
            used[(wid, items[line_key])] += units
        for wid in outcome.shipping:
            used[(wid, -1)] += 1
    return used


# --- a first incumbent from given plans -------------------------------------------------------


def start_from(
    highs: highspy.Highs, program: Program, built: Sequence[BuiltDemand], start: Sequence[Plan]
) -> bool:
    """Hand `start` to HiGHS as a first solution; False where it does not fit the program."""
    plans = {p.demand_key: p for p in start}
    values = [0.0] * program.columns
    for b in built:
        plan = plans.get(b.demand.key)
        taken: dict[tuple[int, int], int] = defaultdict(int)
        for a in plan.assignments if plan is not None else ():
            taken[(a.line_key, a.warehouse_id)] += a.quantity
        shipping = {wid for (_, wid), q in taken.items() if q > 0}
        if not shipping <= set(b.shipment):
            return False
        for wid in shipping:
            values[b.shipment[wid]] = 1.0
        if b.extra is not None:
            values[b.extra] = max(0, len(shipping) - 1)
        if b.complete is not None:
            values[b.complete] = 0.0 if shipping else 1.0
            continue
        for ln in b.lines:
            served = 0
            for (line_key, wid), units in taken.items():
                if line_key != ln.key or units == 0:
                    continue
                option = ln.options.get(wid)
                if option is None:
                    return False
                if option.z is not None:
                    values[option.z] = 1.0
                if option.x is not None:
                    values[option.x] = units
                served += units
            if ln.left_whole is not None:
                values[ln.left_whole] = 0.0 if served else 1.0
            if ln.left is not None:
                values[ln.left] = ln.quantity - served
    solution = highspy.HighsSolution()
    solution.col_value = values
    solution.value_valid = True
    return bool(highs.setSolution(solution) == highspy.HighsStatus.kOk)
