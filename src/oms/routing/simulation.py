"""What-if: a rule set run over the stored orders of the last N days, changing nothing.

Both the proposed rules and each channel's active ones plan the same orders from the
same stock: available now plus what those orders hold (their allocations), as if none
of them had been routed yet. Only pure planning runs: no reservation, plan row,
fulfillment order, audit row or event is written.

The active rules are planned as production plans: greedy, one order at a time in the
order they were placed, each taking its units from the stock before the next is
planned. The proposed rules are planned by the strategy asked for:

- `greedy`: the same way as the active ones;
- `optimal`: the optimizer (`optimizer.py`, HiGHS) plans every order at once over the
  shared stock. It starts from the greedy plans of the same rules and is never worse
  than them on the objective (`costs.plan_objective`: cost, split penalties and the
  backorder penalty per unit left). Capacity is what the greedy simulation makes of it,
  a filter only (a warehouse with no daily capacity is not eligible; the orders of the
  window take none of it), so both strategies plan under the same limits. The solve
  stops after `OPTIMAL_TIME_LIMIT_S` with the best plan found by then; the report gives
  HiGHS's status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.channels import ChannelNotFound
from oms.catalog.models import Warehouse
from oms.catalog.schemas import Code, Strict
from oms.errors import NotFound
from oms.inventory import balances
from oms.kit import clock
from oms.routing import optimizer, places, planner, repository, rule_sets
from oms.routing.costs import DEFAULT_COST_MODEL, plan_objective
from oms.routing.model import Candidate, Demand, DemandLine, Plan, RuleSet, Strategy
from oms.routing.rules import RuleSetRules
from oms.routing.service import _candidate


class SimulationIn(Strict):
    """Rules to try (inline, or a stored version's id) over the last `days` of orders."""

    rules: RuleSetRules | None = None
    rule_set_id: int | None = None
    channel: Code | None = None
    """Only this channel's orders; null: every channel's."""
    days: Annotated[int, Field(ge=1, le=366)] = 7
    strategy: Strategy = Strategy.GREEDY
    """How the proposed rules are planned: greedy, order by order as production does, or
    optimal, every order at once (module doc)."""

    @model_validator(mode="after")
    def _one_rule_source(self) -> Self:
        if (self.rules is None) == (self.rule_set_id is None):
            raise ValueError("give either rules or rule_set_id")
        return self


class SimulatedTotals(BaseModel):
    orders: int = 0
    units: int = 0
    planned_units: int = 0
    backordered_units: int = 0
    fill_rate: float = 0.0
    shipments: int = 0
    split_orders: int = 0
    """Orders shipped by more than one warehouse."""
    held_for_review: int = 0
    cost: float = 0.0
    distance_km: float = 0.0
    objective: float = 0.0
    """What both strategies minimise: cost, split penalties and the backorder penalty per
    unit left (`costs.plan_objective`)."""


class SimulationOut(BaseModel):
    days: int
    channel: str | None
    since: dt.datetime
    strategy: Strategy
    """The strategy that planned the proposed figures; the active ones are always greedy's,
    as production plans orders."""
    solver_status: str | None = None
    """HiGHS's status for the optimal strategy ("Optimal", "Time limit reached", ...);
    null for greedy."""
    proposed: SimulatedTotals
    active: SimulatedTotals
    """The same orders under each channel's active rule set."""


OPTIMAL_TIME_LIMIT_S = 10.0
"""The most the optimal strategy solves in one simulation; it then reports the best plan
found (never worse than the greedy plans it starts from)."""


class SimulatedRuleSetNotFound(NotFound):
    def __init__(self, rule_set_id: int) -> None:
        super().__init__("routing rule set", rule_set_id, code="routing.rule_set_not_found")


def simulate(session: Session, request: SimulationIn, *, actor: Principal) -> SimulationOut:
    """Plan the stored orders of the last `days` under the proposed rules and under the
    active ones, from the same stock; report both. Writes nothing."""
    if request.rule_set_id is not None:
        stored = rule_sets.get_rule_set(session, request.rule_set_id, actor=actor)
        proposed = RuleSetRules.model_validate(stored.rules).to_rule_set()
    else:
        assert request.rules is not None
        proposed = request.rules.to_rule_set()
    channel_id = None
    if request.channel is not None:
        found = catalog.channels_by_codes(session, [request.channel]).get(request.channel)
        if found is None or not actor.sees_channel(found.code):
            raise ChannelNotFound(request.channel)
        channel_id = found.id
    since = clock.now() - dt.timedelta(days=request.days)
    rows = repository.stored_demands(session, since=since, channel_id=channel_id)
    if actor.channels is not None:
        visible = {c.id for c in catalog.channels_by_codes(session, actor.channels).values()}
        rows = [row for row in rows if row[2] in visible]
    demands = _demands(session, rows)
    channel_ids = sorted({d[1] for d in demands})
    warehouses = {c: repository.candidate_warehouses(session, c) for c in channel_ids}
    stock = _stock(session, rows, warehouses)
    active = {c: rule_sets.rules_for(session, c)[0] for c in channel_ids}
    status = None
    if request.strategy is Strategy.OPTIMAL:
        proposed_plans, status = _plan_optimally(demands, warehouses, stock, proposed)
    else:
        proposed_plans = _plan_greedily(demands, warehouses, dict(stock), lambda _: proposed)
    return SimulationOut(
        days=request.days,
        channel=request.channel,
        since=since,
        strategy=request.strategy,
        solver_status=status,
        proposed=_totals(demands, proposed_plans),
        active=_totals(
            demands, _plan_greedily(demands, warehouses, dict(stock), lambda c: active[c])
        ),
    )


def _demands(session: Session, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Demand, int]]:
    """The orders as the planner's demands, placed order, with their channel ids."""
    items = {r[10] for r in rows}
    hazmat = {i.id: i.hazmat for i in catalog.items_by_ids(session, sorted(items))}
    channels = {c.id: c.code for c in catalog.channels_by_ids(session, {r[2] for r in rows})}
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    demands = []
    for lines in grouped.values():
        first = lines[0]
        demands.append(
            (
                Demand(
                    key=first[1],
                    channel=channels.get(first[2], ""),
                    destination=places.destination_of(first[3]),
                    lines=tuple(
                        DemandLine(
                            key=line[8],
                            item_id=line[10],
                            sku=line[11],
                            quantity=int(line[12]),
                            hazmat=hazmat.get(line[10], False),
                        )
                        for line in lines
                    ),
                    service_level=str(first[4]),
                    priority=int(first[5]),
                    ship_by=first[6],
                    placed_at=first[7],
                ),
                int(first[2]),
            )
        )
    return demands


def _stock(
    session: Session,
    rows: Sequence[tuple[Any, ...]],
    warehouses: Mapping[int, list[tuple[Warehouse, int | None]]],
) -> dict[tuple[int, int], int]:
    """Available now plus what the orders hold, per (item id, warehouse id)."""
    warehouse_ids = sorted({w.id for found in warehouses.values() for w, _ in found})
    stock = balances.available_at(session, sorted({r[10] for r in rows}), warehouse_ids)
    for pair, units in repository.held_by_orders(session, sorted({r[0] for r in rows})).items():
        stock[pair] = stock.get(pair, 0) + units
    return stock


def _plan_greedily(
    demands: Sequence[tuple[Demand, int]],
    warehouses: Mapping[int, list[tuple[Warehouse, int | None]]],
    stock: dict[tuple[int, int], int],
    rules_of: Callable[[int], RuleSet],
) -> list[Plan]:
    """Each order planned by the planner under its channel's rules, in `demands` order, from
    what the ones before it left of `stock` (which it changes)."""
    plans = []
    for demand, channel_id in demands:
        items = {line.item_id for line in demand.lines}
        own = {pair: q for pair, q in stock.items() if pair[0] in items}
        candidates = [
            _candidate(w, rank, own, {}, already=False) for w, rank in warehouses[channel_id]
        ]
        plan = planner.plan(
            demand, candidates, rules=rules_of(channel_id), costs=DEFAULT_COST_MODEL
        )
        by_line = {line.key: line.item_id for line in demand.lines}
        for a in plan.assignments:
            if a.quantity > 0:
                pair = (by_line[a.line_key], a.warehouse_id)
                stock[pair] = stock.get(pair, 0) - a.quantity
        plans.append(plan)
    return plans


def _plan_optimally(
    demands: Sequence[tuple[Demand, int]],
    warehouses: Mapping[int, list[tuple[Warehouse, int | None]]],
    stock: Mapping[tuple[int, int], int],
    rules: RuleSet,
) -> tuple[list[Plan], str]:
    """Every order planned at once by the optimizer under `rules`, from `stock`, starting
    from (and never worse than) the greedy plans of the same rules; the plans in `demands`
    order and HiGHS's status."""
    baseline = _plan_greedily(demands, warehouses, dict(stock), lambda _: rules)
    candidates = {
        demand.key: _batch_candidates(demand, warehouses[channel_id], stock)
        for demand, channel_id in demands
    }
    solution = optimizer.solve(
        [demand for demand, _ in demands],
        candidates,
        rules=rules,
        costs=DEFAULT_COST_MODEL,
        time_limit_s=OPTIMAL_TIME_LIMIT_S,
        baseline=baseline,
    )
    return list(solution.plans), solution.status


def _batch_candidates(
    demand: Demand,
    warehouses: Sequence[tuple[Warehouse, int | None]],
    stock: Mapping[tuple[int, int], int],
) -> list[Candidate]:
    """The warehouses as `demand` sees them in the batch: the whole stock of its items, and
    capacity as the greedy simulation makes of it, a filter only (module doc)."""
    items = {line.item_id for line in demand.lines}
    own = {pair: q for pair, q in stock.items() if pair[0] in items}
    found = []
    for warehouse, rank in warehouses:
        candidate = _candidate(warehouse, rank, own, {}, already=False)
        if candidate.capacity_left is not None and candidate.capacity_left > 0:
            candidate = replace(candidate, capacity_left=None)
        found.append(candidate)
    return found


def _totals(demands: Sequence[tuple[Demand, int]], plans: Sequence[Plan]) -> SimulatedTotals:
    """The figures of the report, over `plans` (one per demand, in the same order)."""
    units = planned = shipments = splits = review = 0
    cost = distance = 0.0
    for (demand, _), plan in zip(demands, plans, strict=True):
        planned += sum(a.quantity for a in plan.assignments if a.quantity > 0)
        units += sum(line.quantity for line in demand.lines)
        shipments += plan.shipments
        splits += 1 if plan.shipments > 1 else 0
        review += 1 if plan.hold_for_review else 0
        cost += plan.cost
        distance += plan.distance_km
    return SimulatedTotals(
        orders=len(demands),
        units=units,
        planned_units=planned,
        backordered_units=units - planned,
        fill_rate=round(planned / units, 4) if units else 0.0,
        shipments=shipments,
        split_orders=splits,
        held_for_review=review,
        cost=round(cost, 2),
        distance_km=round(distance, 1),
        objective=round(plan_objective(plans, DEFAULT_COST_MODEL), 2),
    )
