"""The optimal strategy: one program over a batch, fair when stock is short, never worse."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.routing import batches, optimizer
from oms.routing.costs import plan_objective
from oms.routing.model import (
    Candidate,
    CandidateTrace,
    CostModel,
    Demand,
    DemandLine,
    Destination,
    DistanceBand,
    Fallback,
    Filter,
    Plan,
    RuleSet,
    SplitPolicy,
    Strategy,
)
from oms.routing.planner import plan as plan_greedily

COSTS = CostModel(
    bands=(
        DistanceBand(max_km=100, cost={"standard": 4.0}),
        DistanceBand(max_km=1000, cost={"standard": 8.0}),
        DistanceBand(max_km=5000, cost={"standard": 15.0}),
    ),
    split_penalty=5.0,
)
DALLAS = Destination(country="US", latitude=32.78, longitude=-96.80)
NEAR = (32.90, -96.90)  # ~16 km from Dallas
MID = (29.76, -95.37)  # Houston, ~360 km
FAR = (33.75, -84.39)  # Atlanta, ~1,160 km
A, B = 10, 20  # item ids
NOON = dt.datetime(2025, 3, 3, 12, 0, tzinfo=dt.UTC)


def warehouse(
    warehouse_id: int,
    at: tuple[float, float] = NEAR,
    *,
    stock: Mapping[int, int] | None = None,
    serves_channel: bool = True,
    hazmat_capable: bool = False,
    capacity_left: int | None = None,
    handling_cost: float = 0.0,
) -> Candidate:
    return Candidate(
        warehouse_id=warehouse_id,
        code=f"W{warehouse_id}",
        country="US",
        latitude=at[0],
        longitude=at[1],
        available=dict(stock or {}),
        serves_channel=serves_channel,
        hazmat_capable=hazmat_capable,
        capacity_left=capacity_left,
        handling_cost=handling_cost,
    )


def line(key: int, item_id: int = A, quantity: int = 1, *, hazmat: bool = False) -> DemandLine:
    return DemandLine(
        key=key, item_id=item_id, sku=f"SKU-{item_id}", quantity=quantity, hazmat=hazmat
    )


def demand(
    key: str,
    *lines: DemandLine,
    priority: int = 0,
    ship_by: dt.datetime | None = None,
    placed_at: dt.datetime | None = NOON,
    destination: Destination = DALLAS,
) -> Demand:
    return Demand(
        key=key,
        channel="web",
        destination=destination,
        lines=lines,
        priority=priority,
        ship_by=ship_by,
        placed_at=placed_at,
    )


def optimize(
    demands: Sequence[Demand], candidates: Sequence[Candidate], rules: RuleSet = RuleSet()
) -> dict[str, Plan]:
    plans = optimizer.optimize(
        demands, {d.key: candidates for d in demands}, rules=rules, costs=COSTS
    )
    return {p.demand_key: p for p in plans}


def taken(plan: Plan) -> set[tuple[int, int, int]]:
    return {(a.line_key, a.warehouse_id, a.quantity) for a in plan.assignments}


def entry(plan: Plan, line_key: int, warehouse_id: int) -> CandidateTrace:
    trace = next(t for t in plan.trace if t.line_key == line_key)
    return next(c for c in trace.candidates if c.warehouse_id == warehouse_id)


# --- where greedy is optimal, both agree ------------------------------------------------------

AGREEING_CASES = {
    "the nearest warehouse holding the line": (
        [demand("D1", line(1, A, 2))],
        [warehouse(1, FAR, stock={A: 5}), warehouse(2, NEAR, stock={A: 5})],
        RuleSet(),
    ),
    "one warehouse ships the whole demand": (
        [demand("D1", line(1, A), line(2, B))],
        [
            warehouse(1, NEAR, stock={A: 5}),
            warehouse(2, MID, stock={A: 5, B: 5}),
            warehouse(3, NEAR, stock={B: 5}),
        ],
        RuleSet(),
    ),
    "lines split where no warehouse holds both": (
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5}), warehouse(2, MID, stock={B: 5})],
        RuleSet(),
    ),
    "a line split within itself": (
        [demand("D1", line(1, A, 6))],
        [warehouse(1, NEAR, stock={A: 4}), warehouse(2, MID, stock={A: 4})],
        RuleSet(split=SplitPolicy.SPLIT_WITHIN_LINE),
    ),
    "ship complete from the one warehouse able to": (
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5}), warehouse(2, FAR, stock={A: 1, B: 1})],
        RuleSet(split=SplitPolicy.SHIP_COMPLETE),
    ),
    "two demands that do not compete": (
        [demand("D1", line(1, A, 2)), demand("D2", line(2, B, 3))],
        [warehouse(1, NEAR, stock={A: 2}), warehouse(2, MID, stock={B: 9})],
        RuleSet(),
    ),
    "a short line backordered": (
        [demand("D1", line(1, A, 5))],
        [warehouse(1, NEAR, stock={A: 2})],
        RuleSet(),
    ),
}


@pytest.mark.parametrize("case", AGREEING_CASES, ids=list(AGREEING_CASES))
def test_where_greedy_is_optimal_both_strategies_agree(case: str) -> None:
    demands, candidates, rules = AGREEING_CASES[case]

    optimal = optimize(demands, candidates, rules)

    for d in demands:
        greedy = plan_greedily(d, candidates, rules=rules, costs=COSTS)
        assert taken(optimal[d.key]) == taken(greedy)
        assert optimal[d.key].backordered == greedy.backordered
        assert plan_objective(optimal[d.key], COSTS) == pytest.approx(plan_objective(greedy, COSTS))


# --- fairness ---------------------------------------------------------------------------------


def test_when_stock_is_short_the_higher_priority_demand_wins_though_it_costs_more() -> None:
    near_customer = demand("LOW", line(1, A, 2), priority=0)
    far_customer = demand(
        "HIGH", line(2, A, 2), priority=1, destination=Destination("US", 33.75, -84.39)
    )

    plans = optimize([near_customer, far_customer], [warehouse(1, NEAR, stock={A: 3})])

    assert taken(plans["HIGH"]) == {(2, 1, 2)}
    assert plans["LOW"].backordered == {1: 2}


def test_between_equal_priorities_the_earlier_ship_by_wins() -> None:
    later = demand("LATER", line(1, A, 2), ship_by=NOON + dt.timedelta(days=3))
    sooner = demand(
        "SOONER",
        line(2, A, 2),
        ship_by=NOON + dt.timedelta(days=1),
        destination=Destination("US", 33.75, -84.39),
    )

    plans = optimize([later, sooner], [warehouse(1, NEAR, stock={A: 2})])

    assert taken(plans["SOONER"]) == {(2, 1, 2)}
    assert plans["LATER"].backordered == {1: 2}


def test_between_equal_ship_by_dates_the_earlier_order_wins() -> None:
    ship_by = NOON + dt.timedelta(days=2)
    newer = demand("NEWER", line(1, A, 2), ship_by=ship_by, placed_at=NOON)
    older = demand(
        "OLDER",
        line(2, A, 2),
        ship_by=ship_by,
        placed_at=NOON - dt.timedelta(hours=5),
        destination=Destination("US", 33.75, -84.39),
    )

    plans = optimize([newer, older], [warehouse(1, NEAR, stock={A: 2})])

    assert taken(plans["OLDER"]) == {(2, 1, 2)}
    assert plans["NEWER"].backordered == {1: 2}


def test_priority_outranks_an_earlier_ship_by() -> None:
    urgent = demand("URGENT", line(1, A), ship_by=NOON)
    important = demand("IMPORTANT", line(2, A), priority=2, ship_by=NOON + dt.timedelta(days=9))

    plans = optimize([urgent, important], [warehouse(1, NEAR, stock={A: 1})])

    assert taken(plans["IMPORTANT"]) == {(2, 1, 1)}


def test_fairness_tiers_put_priority_then_ship_by_then_placed_at_and_share_equal_keys() -> None:
    demands = [
        demand("a", priority=0, ship_by=NOON, placed_at=NOON),
        demand("b", priority=1, ship_by=None, placed_at=None),
        demand("c", priority=0, ship_by=NOON, placed_at=NOON - dt.timedelta(hours=1)),
        demand("d", priority=0, ship_by=None, placed_at=NOON),
        demand("e", priority=0, ship_by=NOON, placed_at=NOON),
    ]

    assert optimizer.fairness_tiers(demands) == {"b": 0, "c": 1, "a": 2, "e": 2, "d": 3}


def test_between_equal_tiers_the_cheaper_plan_wins() -> None:
    near_customer = demand("NEAR", line(1, A))
    far_customer = demand("FAR", line(2, A), destination=Destination("US", 33.75, -84.39))

    plans = optimize([near_customer, far_customer], [warehouse(1, NEAR, stock={A: 1})])

    assert taken(plans["NEAR"]) == {(1, 1, 1)}


# --- the batch shares stock and capacity ------------------------------------------------------


def test_stock_is_shared_by_the_batch_and_never_oversold() -> None:
    demands = [
        demand(f"D{n}", line(n, A, 2), placed_at=NOON + dt.timedelta(minutes=n)) for n in range(5)
    ]

    plans = optimize(demands, [warehouse(1, NEAR, stock={A: 5}), warehouse(2, FAR, stock={A: 2})])

    shipped = sum(a.quantity for p in plans.values() for a in p.assignments)
    assert shipped == 6
    assert sum(sum(p.backordered.values()) for p in plans.values()) == 4


def test_a_warehouse_takes_no_more_demands_than_its_capacity_left() -> None:
    demands = [demand("D1", line(1, A)), demand("D2", line(2, A))]

    plans = optimize(
        demands,
        [warehouse(1, NEAR, stock={A: 5}, capacity_left=1), warehouse(2, FAR, stock={A: 5})],
    )

    assert sorted(a.warehouse_id for p in plans.values() for a in p.assignments) == [1, 2]


def test_capacity_is_not_a_limit_when_the_rule_set_does_not_filter_on_it() -> None:
    demands = [demand("D1", line(1, A)), demand("D2", line(2, A))]
    rules = RuleSet(filters=(Filter.SERVES_CHANNEL, Filter.HOLDS_WHOLE_LINE))

    plans = optimize(
        demands,
        [warehouse(1, NEAR, stock={A: 5}, capacity_left=1), warehouse(2, FAR, stock={A: 5})],
        rules,
    )

    assert [a.warehouse_id for p in plans.values() for a in p.assignments] == [1, 1]


# --- filters and split policies ---------------------------------------------------------------


def test_an_ineligible_warehouse_ships_nothing_and_the_trace_says_why() -> None:
    hazardous = demand("D1", line(1, A, hazmat=True))

    plans = optimize(
        [hazardous],
        [
            warehouse(1, NEAR, stock={A: 5}, serves_channel=False),
            warehouse(2, NEAR, stock={A: 5}),
            warehouse(3, FAR, stock={A: 5}, hazmat_capable=True),
        ],
    )

    assert taken(plans["D1"]) == {(1, 3, 1)}
    assert entry(plans["D1"], 1, 1).reasons == ("does not serve channel web", "not hazmat capable")
    assert entry(plans["D1"], 1, 2).reasons == ("not hazmat capable",)


def test_split_by_line_ships_each_line_from_one_warehouse() -> None:
    rules = RuleSet(filters=(Filter.SERVES_CHANNEL,))

    plans = optimize(
        [demand("D1", line(1, A, 6))],
        [warehouse(1, NEAR, stock={A: 4}), warehouse(2, MID, stock={A: 3})],
        rules,
    )

    assert taken(plans["D1"]) == {(1, 1, 4)}
    assert plans["D1"].backordered == {1: 2}


def test_split_within_line_shares_a_line_between_warehouses() -> None:
    rules = RuleSet(split=SplitPolicy.SPLIT_WITHIN_LINE)

    plans = optimize(
        [demand("D1", line(1, A, 6))],
        [warehouse(1, NEAR, stock={A: 4}), warehouse(2, MID, stock={A: 3})],
        rules,
    )

    assert taken(plans["D1"]) == {(1, 1, 4), (1, 2, 2)}
    assert plans["D1"].shipments == 2


def test_ship_complete_plans_nothing_when_no_warehouse_holds_every_line() -> None:
    rules = RuleSet(split=SplitPolicy.SHIP_COMPLETE)

    plans = optimize(
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5}), warehouse(2, NEAR, stock={B: 5})],
        rules,
    )

    assert plans["D1"].assignments == ()
    assert plans["D1"].backordered == {1: 1, 2: 1}


def test_at_most_n_shipments_leaves_what_a_further_warehouse_would_ship() -> None:
    rules = RuleSet(max_shipments=1)

    plans = optimize(
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5}), warehouse(2, MID, stock={B: 5})],
        rules,
    )

    assert plans["D1"].shipments == 1
    assert sum(plans["D1"].backordered.values()) == 1


def test_the_split_penalty_keeps_a_demand_in_one_dearer_shipment() -> None:
    plans = optimize(
        [demand("D1", line(1, A), line(2, B))],
        [
            warehouse(1, NEAR, stock={A: 5}),
            warehouse(2, NEAR, stock={B: 5}),
            warehouse(3, MID, stock={A: 5, B: 5}),
        ],
        RuleSet(ranking=()),
    )

    # One shipment at 8.0 beats two at 4.0 + 4.0 + a 5.0 split penalty.
    assert taken(plans["D1"]) == {(1, 3, 1), (2, 3, 1)}


def test_hold_for_review_leaves_a_short_line_whole_and_holds_the_plan() -> None:
    rules = RuleSet(split=SplitPolicy.SPLIT_WITHIN_LINE, fallback=Fallback.HOLD_FOR_REVIEW)

    plans = optimize(
        [demand("D1", line(1, A, 5), line(2, B))],
        [warehouse(1, NEAR, stock={A: 3, B: 1})],
        rules,
    )

    assert taken(plans["D1"]) == {(2, 1, 1)}
    assert plans["D1"].backordered == {1: 5}
    assert plans["D1"].hold_for_review


def test_a_demand_without_candidates_is_backordered_whole() -> None:
    plans = optimizer.optimize([demand("D1", line(1, A, 3))], {}, costs=COSTS)

    assert plans[0].assignments == ()
    assert plans[0].backordered == {1: 3}


def test_an_empty_batch_has_no_plans() -> None:
    assert optimizer.optimize([], {}, costs=COSTS) == []


# --- plans and traces -------------------------------------------------------------------------


def test_a_plan_carries_its_cost_distance_shipments_and_strategy() -> None:
    plans = optimize(
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5}, handling_cost=1.5), warehouse(2, MID, stock={B: 5})],
    )

    plan = plans["D1"]
    assert plan.strategy is Strategy.OPTIMAL
    assert (plan.shipments, plan.cost) == (2, pytest.approx(4.0 + 1.5 + 8.0))
    assert 370 < plan.distance_km < 400


def test_the_trace_lists_every_candidate_of_every_line_with_its_scores() -> None:
    plans = optimize(
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5}), warehouse(2, FAR, stock={B: 5})],
    )

    for trace in plans["D1"].trace:
        assert [c.warehouse_id for c in trace.candidates] == [1, 2]
        assert set(trace.candidates[0].scores) == {"distance_km", "priority", "stock", "cost"}


def test_the_chosen_warehouse_is_said_chosen_by_the_optimal_plan() -> None:
    plans = optimize([demand("D1", line(1, A, 2))], [warehouse(1, NEAR, stock={A: 5})])

    chosen = entry(plans["D1"], 1, 1)
    assert chosen.chosen
    assert chosen.why == "chosen by the optimal plan; took 2"


def test_a_dearer_warehouse_is_said_dearer_than_the_chosen_one() -> None:
    plans = optimize(
        [demand("D1", line(1, A))],
        [warehouse(1, NEAR, stock={A: 5}), warehouse(2, FAR, stock={A: 5})],
    )

    assert entry(plans["D1"], 1, 2).why == "not chosen: dearer than W1"


def test_an_equally_cheap_warehouse_passed_over_is_a_cheaper_combination_elsewhere() -> None:
    plans = optimize(
        [demand("D1", line(1, A), line(2, B))],
        [warehouse(1, NEAR, stock={A: 5, B: 5}), warehouse(2, NEAR, stock={A: 5})],
        RuleSet(ranking=()),
    )

    assert entry(plans["D1"], 1, 2).why == "not chosen: cheaper combination elsewhere"


def test_stock_taken_by_a_demand_ranked_ahead_is_said_gone_to_other_demands() -> None:
    plans = optimize(
        [demand("LOW", line(1, A)), demand("HIGH", line(2, A), priority=1)],
        [warehouse(1, NEAR, stock={A: 1})],
    )

    trace = plans["LOW"].trace[0]
    assert trace.backordered == 1
    assert trace.candidates[0].why == "not chosen: its stock went to other demands of the batch"


def test_a_backordered_line_has_a_note() -> None:
    plans = optimize([demand("D1", line(1, A, 5))], [warehouse(1, NEAR, stock={A: 2})])

    assert plans["D1"].trace[0].note == "5 of 5 backordered"


# --- against greedy on a generated batch ------------------------------------------------------


def test_on_a_generated_batch_the_optimal_plan_is_never_worse_than_greedy() -> None:
    batch = batches.generate_batch(120, warehouses=6, skus=40, seed=11)
    candidates = batch.candidates_by_demand()
    greedy = batches.plan_greedily(batch.demands, candidates, costs=batch.costs)

    solution = optimizer.solve(
        batch.demands, candidates, costs=batch.costs, time_limit_s=30, baseline=greedy
    )

    assert solution.started_from_baseline
    assert plan_objective(solution.plans, batch.costs) <= plan_objective(greedy, batch.costs)


def test_the_solution_reports_status_gap_and_size() -> None:
    batch = batches.generate_batch(30, warehouses=4, skus=10, seed=3)

    solution = optimizer.solve(batch.demands, batch.candidates_by_demand(), costs=batch.costs)

    assert solution.status == "Optimal"
    assert solution.mip_gap == pytest.approx(0.0, abs=1e-6)
    assert solution.columns > 0
    assert solution.rows > 0


def test_the_objective_charges_the_backorder_penalty_per_unit_left() -> None:
    plans = optimize([demand("D1", line(1, A, 5))], [warehouse(1, NEAR, stock={A: 2})])

    assert plan_objective(plans["D1"], COSTS) == 5 * COSTS.backorder_penalty


RULE_SETS = st.sampled_from(
    [
        RuleSet(),
        RuleSet(split=SplitPolicy.SPLIT_WITHIN_LINE),
        RuleSet(split=SplitPolicy.SHIP_COMPLETE),
        RuleSet(filters=(Filter.SERVES_CHANNEL, Filter.BELOW_CAPACITY)),
        RuleSet(fallback=Fallback.HOLD_FOR_REVIEW, max_shipments=1),
    ]
)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), orders=st.integers(1, 25), rules=RULE_SETS)
def test_no_plan_oversells_and_every_unit_is_served_or_left(
    seed: int, orders: int, rules: RuleSet
) -> None:
    batch = batches.generate_batch(orders, warehouses=4, skus=6, seed=seed)
    candidates = batch.candidates_by_demand()
    greedy = batches.plan_greedily(batch.demands, candidates, rules=rules, costs=batch.costs)

    solution = optimizer.solve(
        batch.demands, candidates, rules=rules, costs=batch.costs, baseline=greedy
    )

    drawn: dict[tuple[int, int], int] = defaultdict(int)
    for d, plan in zip(batch.demands, solution.plans, strict=True):
        items = {ln.key: ln.item_id for ln in d.lines}
        for ln in d.lines:
            served = sum(a.quantity for a in plan.assignments if a.line_key == ln.key)
            assert served + plan.backordered.get(ln.key, 0) == ln.quantity
        for a in plan.assignments:
            drawn[(a.warehouse_id, items[a.line_key])] += a.quantity
    stock = {(w.warehouse_id, i): q for w in batch.warehouses for i, q in w.available.items()}
    assert all(units <= stock.get(key, 0) for key, units in drawn.items())
    assert solution.started_from_baseline
    assert plan_objective(solution.plans, batch.costs) <= plan_objective(greedy, batch.costs) + 1e-6


# --- a baseline bounds the result -------------------------------------------------------------

CHEAP_BACKORDERS = CostModel(bands=COSTS.bands, split_penalty=5.0, backorder_penalty=5.0)
"""A unit left costs less than a fairness tier step (G = 15 + 5 + 1): fairness can trade fill."""


def _trade() -> tuple[list[Demand], dict[str, list[Candidate]], RuleSet]:
    """HIGH wants 5 of A, LOW 4; W1 (3 units) serves HIGH only, W2 (4 units) both."""
    rules = RuleSet(filters=(Filter.SERVES_CHANNEL,))
    high = demand("HIGH", line(1, A, 5), priority=1)
    low = demand("LOW", line(2, A, 4))
    w1, w2 = warehouse(1, NEAR, stock={A: 3}), warehouse(2, FAR, stock={A: 4})
    hidden = warehouse(1, NEAR, stock={A: 3}, serves_channel=False)
    return [high, low], {"HIGH": [w1, w2], "LOW": [hidden, w2]}, rules


def test_without_a_baseline_a_demand_ranked_ahead_keeps_units_at_the_cost_of_fill() -> None:
    demands, candidates, rules = _trade()

    plans = optimizer.optimize(demands, candidates, rules=rules, costs=CHEAP_BACKORDERS)

    assert [(a.warehouse_id, a.quantity) for a in plans[0].assignments] == [(2, 4)]
    assert plans[1].backordered == {2: 4}


def test_with_a_baseline_the_optimal_plan_is_never_worse_on_the_objective() -> None:
    demands, candidates, rules = _trade()
    greedy = batches.plan_greedily(demands, candidates, rules=rules, costs=CHEAP_BACKORDERS)

    plans = optimizer.optimize(
        demands, candidates, rules=rules, costs=CHEAP_BACKORDERS, baseline=greedy
    )

    assert plan_objective(plans, CHEAP_BACKORDERS) <= plan_objective(greedy, CHEAP_BACKORDERS)
    assert [(a.warehouse_id, a.quantity) for a in plans[1].assignments] == [(2, 4)]
