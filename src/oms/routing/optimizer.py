"""The optimal strategy: one mixed-integer program over a batch of demands, solved by HiGHS.

Pure like the planner: plain data in, plans out, no session, no clock.

Input. `candidates_by_demand` maps each demand's key to the warehouses as that
demand sees them (the planner's input, one list per demand: `serves_channel`
is per channel). Stock and capacity are the *batch's*: every demand draws on
one pool per warehouse, keyed by `warehouse_id`. The pool of an item at a
warehouse is the largest `available` any demand sees there (a demand never
takes more than its own view); the capacity is the smallest `capacity_left`.

Eligibility is the planner's (`planner.py`), filter for filter and reason for
reason: serves_channel, ships_to_country, hazmat_capable (hazmat lines),
below_capacity (`capacity_left` above 0; in the batch, the warehouse takes at
most `capacity_left` demands), holds_whole_line (its own view holds the
line; under split_within_line only a preference, so not a filter here).

Variables, for eligible (line, warehouse) pairs only:

- `x[l,w]` integer units of line l shipped from w (a binary `z[l,w]` instead,
  worth the whole line, where a line can only ship whole from one warehouse:
  split_by_line with holds_whole_line, or the hold_for_review fallback);
- `z[l,w]` binary "line l ships from w" under split_by_line;
- `y[d,w]` binary "a shipment leaves w for demand d";
- `u[l]` integer units of l left unserved (binary "the whole line", `v[l]`,
  where lines are all or nothing), and `v[d]` under ship_complete;
- `e[d]` ≥ 0, the shipments of d beyond its first.

Constraints: every line's units are shipped or left (`Σ_w x + u = quantity`);
a line ships only with its demand's shipment (`x ≤ quantity·y`, `z ≤ y`);
split_by_line: `Σ_w z ≤ 1`; ship_complete: one warehouse able to ship every
line whole (as the planner decides it) or none, `Σ_w y + v[d] = 1`; at most N
shipments: `Σ_w y ≤ N`; stock: `Σ x ≤ pool[w][item]` across the batch;
capacity (below_capacity): `Σ_d y[d,w] ≤ capacity_left[w]`; `e[d] ≥ Σ_w y − 1`.

Objective, the planner's (`costs.plan_objective`) plus fairness:

    Σ y[d,w]·shipment_cost(d,w)  +  split_penalty·Σ e[d]
      + Σ u[l]·(backorder_penalty + G·(T − 1 − tier(d)))   +  a tie-break below a cent

Fairness is lexicographic. Demands are sorted by priority (higher first),
then ship-by (earlier first; none last), then placed-at (earlier first; none
last); equal keys share a tier, 0 being the most deserving of T tiers. A unit
left unserved for a demand one tier ahead costs G more, and G is larger than
any one shipment plus its split penalty in the batch, so no saving on
shipping can buy a unit away from a demand ranked ahead: when stock is short,
the higher priority wins, then the earlier ship-by, then the earlier order.
Between demands of one tier, cost decides. The tie-break (at most 1e-4 per
shipment) follows the rule set's ranking, so among equally cheap warehouses
the optimizer picks the one the planner would.

`start` plans (the planner's, say) are passed to HiGHS as a first incumbent,
so within the time limit the result is never worse than them on this
objective. The solver stops at `time_limit_s` with the best plan found; the
`Solution` reports the status and the MIP gap.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from oms.routing import costs as costing
from oms.routing.model import (
    DEFAULT_RULE_SET,
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
from oms.routing.optimizer_trace import Outcome, build_plan

TIE_BREAK = 1e-4
"""The largest tie-break cost of one shipment: far below a cent."""


@dataclass(frozen=True)
class Solution:
    """The plans of a batch, and how the solver got there."""

    plans: tuple[Plan, ...]
    status: str
    """HiGHS's model status: "Optimal", "Time limit reached", ..."""
    objective: float
    """The program's objective (costs, split and fairness-weighted backorder penalties)."""
    bound: float
    """The best lower bound HiGHS proved for it."""
    mip_gap: float
    """(objective − bound) / objective, as HiGHS reports it; 0 when proven optimal."""
    seconds: float
    columns: int
    rows: int
    started_from_given_plans: bool


def optimize(
    demands: Sequence[Demand],
    candidates_by_demand: Mapping[str, Sequence[Candidate]],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
    time_limit_s: float = 10.0,
    start: Sequence[Plan] | None = None,
) -> list[Plan]:
    """Plan every demand of the batch at once, optimally under the shared stock (module doc)."""
    return list(
        solve(
            demands,
            candidates_by_demand,
            rules=rules,
            costs=costs,
            time_limit_s=time_limit_s,
            start=start,
        ).plans
    )


def solve(
    demands: Sequence[Demand],
    candidates_by_demand: Mapping[str, Sequence[Candidate]],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
    time_limit_s: float = 10.0,
    start: Sequence[Plan] | None = None,
) -> Solution:
    """As `optimize`, with the solver's status, gap and time."""
    began = time.perf_counter()
    program = _Program()
    pool = _Pool.of(candidates_by_demand)
    tiers = fairness_tiers(demands)
    tier_count = max(tiers.values(), default=0) + 1
    step = _fairness_step(demands, candidates_by_demand, costs)
    built = [
        _build_demand(
            program,
            demand,
            candidates_by_demand.get(demand.key, ()),
            rules=rules,
            costs=costs,
            penalty=costs.backorder_penalty + step * (tier_count - 1 - tiers[demand.key]),
        )
        for demand in demands
    ]
    _add_batch_rows(program, built, pool, rules)
    started = False
    with _quiet_banner():
        highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("random_seed", 7)
    highs.setOptionValue("mip_rel_gap", 1e-7)
    highs.setOptionValue("mip_abs_gap", TIE_BREAK / 2)
    if program.columns:
        program.pass_to(highs)
        if start is not None:
            started = _start_from(highs, program, built, start)
        highs.run()
        values = list(highs.getSolution().col_value)
        status = highs.modelStatusToString(highs.getModelStatus())
        info = highs.getInfo()
        objective, bound, gap = info.objective_function_value, info.mip_dual_bound, info.mip_gap
    else:
        values, status, objective, bound, gap = [], "Optimal", 0.0, 0.0, 0.0
    if len(values) != program.columns:
        raise RuntimeError(f"HiGHS found no plan for the batch ({status})")
    used = _usage(built, values)
    plans = tuple(
        build_plan(
            b.outcome(values), used=used, pool=pool.stock, capacity=pool.capacity, costs=costs
        )
        for b in built
    )
    return Solution(
        plans=plans,
        status=status,
        objective=objective,
        bound=bound,
        mip_gap=gap,
        seconds=time.perf_counter() - began,
        columns=program.columns,
        rows=program.rows,
        started_from_given_plans=started,
    )


def fairness_key(demand: Demand) -> tuple[Any, ...]:
    """Who wins short stock: higher priority, then earlier ship-by, then earlier placed-at."""
    far = (1, 0.0)
    ship_by = far if demand.ship_by is None else (0, demand.ship_by.timestamp())
    placed = far if demand.placed_at is None else (0, demand.placed_at.timestamp())
    return (-demand.priority, ship_by, placed)


def fairness_tiers(demands: Sequence[Demand]) -> dict[str, int]:
    """Each demand's tier: 0 for the most deserving; demands with equal keys share one."""
    keys = sorted({fairness_key(d) for d in demands})
    tier_of = {key: n for n, key in enumerate(keys)}
    return {d.key: tier_of[fairness_key(d)] for d in demands}


def in_fairness_order(demands: Sequence[Demand]) -> list[Demand]:
    """The demands, most deserving first (ties by key, so the order is total)."""
    return sorted(demands, key=lambda d: (fairness_key(d), d.key))


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


class _Program:
    """Columns and rows gathered in Python lists, handed to HiGHS in one call."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
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

    def column(self, cost: float, upper: float, *, integer: bool = True) -> int:
        self.cost.append(cost)
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
class _Pool:
    stock: dict[tuple[int, int], int]
    """(warehouse id, item id) → units the whole batch may draw."""
    capacity: dict[int, int]
    """warehouse id → demands it may still take today (absent: no limit)."""

    @classmethod
    def of(cls, candidates_by_demand: Mapping[str, Sequence[Candidate]]) -> _Pool:
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
class _BuiltDemand:
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


def _build_demand(
    program: _Program,
    demand: Demand,
    candidates: Sequence[Candidate],
    *,
    rules: RuleSet,
    costs: CostModel,
    penalty: float,
) -> _BuiltDemand:
    filters = set(rules.filters)
    by_id = {c.warehouse_id: c for c in candidates}
    statics = {c.warehouse_id: static_reasons(demand, c, rules) for c in candidates}
    built = _BuiltDemand(demand, candidates, rules, [], {})
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
    program: _Program,
    built: _BuiltDemand,
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
        built.shipment[wid] = program.column(cost + tie, 1.0)


def _build_ship_complete(
    program: _Program,
    built: _BuiltDemand,
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
    built.complete = program.column(penalty * units, 1.0)
    program.row([(built.complete, 1.0)] + [(y, 1.0) for y in built.shipment.values()], 1.0, 1.0)
    for line in demand.lines:
        built_line = _Line(line.key, line.item_id, line.quantity)
        for wid in able:
            built_line.options[wid] = _Option(wid, cap=line.quantity)
        built.lines.append(built_line)


def _build_line_by_line(
    program: _Program,
    built: _BuiltDemand,
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
            ln.left_whole = program.column(penalty * ln.quantity, 1.0)
            served.append((ln.left_whole, float(ln.quantity)))
        else:
            ln.left = program.column(penalty, ln.quantity)
            served.append((ln.left, 1.0))
        program.row(served, ln.quantity, ln.quantity)


def _add_batch_rows(
    program: _Program, built: Sequence[_BuiltDemand], pool: _Pool, rules: RuleSet
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


def _fairness_step(
    demands: Sequence[Demand],
    candidates_by_demand: Mapping[str, Sequence[Candidate]],
    costs: CostModel,
) -> float:
    """G: more than any single shipment of the batch plus its split penalty."""
    dearest = 0.0
    for demand in demands:
        for candidate in candidates_by_demand.get(demand.key, ()):
            km = costing.distance_km(demand.destination, candidate, costs)
            dearest = max(
                dearest, costing.shipment_cost(km, demand.service_level, candidate, costs)
            )
    return math.ceil(dearest + costs.split_penalty + 1.0)


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


def _usage(built: Sequence[_BuiltDemand], values: Sequence[float]) -> dict[tuple[int, int], int]:
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


def _start_from(
    highs: highspy.Highs, program: _Program, built: Sequence[_BuiltDemand], start: Sequence[Plan]
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


@contextmanager
def _quiet_banner() -> Iterator[None]:
    """HiGHS prints a banner on stdout as its first solver is made; keep the output clean."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout file descriptor: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
