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

`baseline` plans (the planner's, say) are HiGHS's first incumbent, so a plan
is at hand from the start, and they bound the result: it is never worse than
them on `costs.plan_objective`. Should the first solve end worse (fairness
traded fill, see below), it is solved again with one more row, the plain
objective (no fairness, no tie-break) at most the baseline's, in the time
left (at least a second); the row is dense, so it is only added when needed,
and the plan is then the fairest and cheapest of those no worse. Without a
baseline, fairness can cost money (above) and even fill: once G times the
tiers between two demands exceeds the backorder penalty, the one ahead keeps
a contested unit though more units of the one behind are left for it.

The solver stops at `time_limit_s` with the best plan found; the `Solution`
reports the status and the MIP gap ("Optimal" means proven within a relative
gap of 1e-7 of the fairness-weighted objective, or 5e-5 absolute).

The program is built in `optimizer_program.py`; its plans and traces are
worded in `optimizer_trace.py`.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import highspy

from oms.routing import costs as costing
from oms.routing import optimizer_program as mip
from oms.routing.model import (
    DEFAULT_RULE_SET,
    Candidate,
    CostModel,
    Demand,
    Plan,
    RuleSet,
)
from oms.routing.optimizer_trace import build_plan


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
    """(objective − bound) / objective, as HiGHS reports it; at most 1e-7 when "Optimal"."""
    seconds: float
    columns: int
    rows: int
    started_from_baseline: bool


def optimize(
    demands: Sequence[Demand],
    candidates_by_demand: Mapping[str, Sequence[Candidate]],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
    time_limit_s: float = 10.0,
    baseline: Sequence[Plan] | None = None,
) -> list[Plan]:
    """Plan every demand of the batch at once, optimally under the shared stock (module doc)."""
    return list(
        solve(
            demands,
            candidates_by_demand,
            rules=rules,
            costs=costs,
            time_limit_s=time_limit_s,
            baseline=baseline,
        ).plans
    )


def solve(
    demands: Sequence[Demand],
    candidates_by_demand: Mapping[str, Sequence[Candidate]],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
    time_limit_s: float = 10.0,
    baseline: Sequence[Plan] | None = None,
) -> Solution:
    """As `optimize`, with the solver's status, gap and time."""
    began = time.perf_counter()
    program = mip.Program()
    pool = mip.Pool.of(candidates_by_demand)
    tiers = fairness_tiers(demands)
    tier_count = max(tiers.values(), default=0) + 1
    step = _fairness_step(demands, candidates_by_demand, costs)
    built = [
        mip.build_demand(
            program,
            demand,
            candidates_by_demand.get(demand.key, ()),
            rules=rules,
            costs=costs,
            penalty=costs.backorder_penalty + step * (tier_count - 1 - tiers[demand.key]),
        )
        for demand in demands
    ]
    mip.add_batch_rows(program, built, pool, rules)
    run = _Run([], "Optimal", 0.0, 0.0, 0.0, started=False)
    if program.columns:
        run = _run(program, built, baseline, time_limit_s)
        if baseline is not None:
            keys = {d.key for d in demands}
            limit = costing.plan_objective([p for p in baseline if p.demand_key in keys], costs)
            if program.plain_objective(run.values) > limit + 1e-6:
                # Fairness traded fill for rank here: solve again, bounded by the baseline.
                program.no_worse_than(limit)
                left = time_limit_s - (time.perf_counter() - began)
                run = _run(program, built, baseline, max(left, 1.0))
    values = run.values
    if len(values) != program.columns:
        raise RuntimeError(f"HiGHS found no plan for the batch ({run.status})")
    used = mip.usage(built, values)
    plans = tuple(
        build_plan(
            b.outcome(values), used=used, pool=pool.stock, capacity=pool.capacity, costs=costs
        )
        for b in built
    )
    return Solution(
        plans=plans,
        status=run.status,
        objective=run.objective,
        bound=run.bound,
        mip_gap=run.gap,
        seconds=time.perf_counter() - began,
        columns=program.columns,
        rows=program.rows,
        started_from_baseline=run.started,
    )


@dataclass(frozen=True)
class _Run:
    values: list[float]
    status: str
    objective: float
    bound: float
    gap: float
    started: bool


def _run(
    program: mip.Program,
    built: Sequence[mip.BuiltDemand],
    baseline: Sequence[Plan] | None,
    time_limit_s: float,
) -> _Run:
    with _quiet_banner():
        highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("random_seed", 7)
    highs.setOptionValue("mip_rel_gap", 1e-7)
    highs.setOptionValue("mip_abs_gap", mip.TIE_BREAK / 2)
    program.pass_to(highs)
    started = baseline is not None and mip.start_from(highs, program, built, baseline)
    highs.run()
    info = highs.getInfo()
    return _Run(
        values=list(highs.getSolution().col_value),
        status=highs.modelStatusToString(highs.getModelStatus()),
        objective=info.objective_function_value,
        bound=info.mip_dual_bound,
        gap=info.mip_gap,
        started=started,
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
