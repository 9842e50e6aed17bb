"""The greedy planner: every filter, ranking and split policy, read through the trace."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.routing.costs import plan_cost
from oms.routing.model import (
    DEFAULT_RULE_SET,
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
    Ranking,
    RuleSet,
    SplitPolicy,
    Strategy,
)
from oms.routing.planner import plan

COSTS = CostModel(
    bands=(
        DistanceBand(max_km=100, cost={"standard": 4.0}),
        DistanceBand(max_km=1000, cost={"standard": 8.0}),
        DistanceBand(max_km=5000, cost={"standard": 15.0}),
    ),
    split_penalty=5.0,
)
PARIS = Destination(country="FR", latitude=48.8566, longitude=2.3522)
# Warehouses at known distances from Paris.
NEAR = (48.90, 2.40)  # ~6 km
MID = (45.76, 4.83)  # Lyon, ~390 km
FAR = (43.30, 5.37)  # Marseille, ~660 km

A, B, C = 10, 20, 30  # item ids


def warehouse(
    warehouse_id: int,
    at: tuple[float, float] = NEAR,
    *,
    stock: Mapping[int, int] | None = None,
    code: str | None = None,
    serves_channel: bool = True,
    ships_to: frozenset[str] | None = None,
    hazmat_capable: bool = False,
    capacity_left: int | None = None,
    priority: int = 0,
    handling_cost: float = 0.0,
) -> Candidate:
    return Candidate(
        warehouse_id=warehouse_id,
        code=code or f"W{warehouse_id}",
        country="FR",
        latitude=at[0],
        longitude=at[1],
        available=dict(stock or {}),
        serves_channel=serves_channel,
        ships_to=ships_to,
        hazmat_capable=hazmat_capable,
        capacity_left=capacity_left,
        priority=priority,
        handling_cost=handling_cost,
    )


def line(key: int, item_id: int = A, quantity: int = 1, *, hazmat: bool = False) -> DemandLine:
    return DemandLine(
        key=key, item_id=item_id, sku=f"SKU-{item_id}", quantity=quantity, hazmat=hazmat
    )


def demand(*lines: DemandLine, channel: str = "web") -> Demand:
    return Demand(key="SO-1", channel=channel, destination=PARIS, lines=lines or (line(1, A, 1),))


def rules(**changes: object) -> RuleSet:
    values: dict[str, object] = {
        "filters": DEFAULT_RULE_SET.filters,
        "ranking": DEFAULT_RULE_SET.ranking,
        "split": DEFAULT_RULE_SET.split,
        "max_shipments": DEFAULT_RULE_SET.max_shipments,
        "fallback": DEFAULT_RULE_SET.fallback,
    }
    values.update(changes)
    return RuleSet(**values)  # type: ignore[arg-type]


def run(
    the_demand: Demand, candidates: Sequence[Candidate], the_rules: RuleSet = DEFAULT_RULE_SET
) -> Plan:
    return plan(the_demand, candidates, rules=the_rules, costs=COSTS)


def seen(result: Plan, line_key: int, code: str) -> CandidateTrace:
    """How the planner saw warehouse `code` for line `line_key`."""
    trace = next(t for t in result.trace if t.line_key == line_key)
    return next(c for c in trace.candidates if c.code == code)


def shipped(result: Plan) -> list[tuple[int, str, int]]:
    """(line key, warehouse code, quantity) of every assignment."""
    codes = {c.warehouse_id: c.code for t in result.trace for c in t.candidates}
    return [(a.line_key, codes[a.warehouse_id], a.quantity) for a in result.assignments]


# --- filters ----------------------------------------------------------------------------------


def test_a_warehouse_that_does_not_serve_the_channel_is_not_eligible() -> None:
    closed = warehouse(1, NEAR, stock={A: 5}, serves_channel=False)
    open_ = warehouse(2, FAR, stock={A: 5})

    result = run(demand(line(1, A, 2), channel="amazon"), [closed, open_])

    assert seen(result, 1, "W1").eligible is False
    assert seen(result, 1, "W1").reasons == ("does not serve channel amazon",)
    assert seen(result, 1, "W1").why == "not eligible"
    assert shipped(result) == [(1, "W2", 2)]


def test_a_warehouse_that_does_not_ship_to_the_country_is_not_eligible() -> None:
    german_only = warehouse(1, NEAR, stock={A: 5}, ships_to=frozenset({"DE"}))
    french = warehouse(2, MID, stock={A: 5}, ships_to=frozenset({"DE", "FR"}))
    anywhere = warehouse(3, FAR, stock={A: 5})

    result = run(demand(line(1, A, 1)), [german_only, french, anywhere])

    assert seen(result, 1, "W1").reasons == ("does not ship to FR",)
    assert seen(result, 1, "W2").eligible is True
    assert seen(result, 1, "W3").eligible is True
    assert shipped(result) == [(1, "W2", 1)]


def test_a_hazmat_line_needs_a_hazmat_capable_warehouse() -> None:
    plain = warehouse(1, NEAR, stock={A: 5})
    capable = warehouse(2, FAR, stock={A: 5}, hazmat_capable=True)

    result = run(demand(line(1, A, 1, hazmat=True)), [plain, capable])

    assert seen(result, 1, "W1").reasons == ("not hazmat capable",)
    assert shipped(result) == [(1, "W2", 1)]


def test_a_line_without_hazmat_may_ship_from_any_warehouse() -> None:
    plain = warehouse(1, NEAR, stock={A: 5})

    result = run(demand(line(1, A, 1)), [plain])

    assert seen(result, 1, "W1").eligible is True
    assert shipped(result) == [(1, "W1", 1)]


def test_a_warehouse_without_capacity_left_today_is_not_eligible() -> None:
    full = warehouse(1, NEAR, stock={A: 5}, capacity_left=0)
    free = warehouse(2, FAR, stock={A: 5}, capacity_left=3)

    result = run(demand(line(1, A, 1)), [full, free])

    assert seen(result, 1, "W1").reasons == ("no capacity left today",)
    assert shipped(result) == [(1, "W2", 1)]


def test_one_order_of_capacity_left_is_enough_for_every_line_of_the_demand() -> None:
    last_slot = warehouse(1, NEAR, stock={A: 5, B: 5}, capacity_left=1)

    result = run(demand(line(1, A, 1), line(2, B, 1)), [last_slot])

    assert shipped(result) == [(1, "W1", 1), (2, "W1", 1)]
    assert seen(result, 2, "W1").eligible is True


def test_a_warehouse_holding_only_part_of_the_line_is_not_eligible() -> None:
    short = warehouse(1, NEAR, stock={A: 3})
    enough = warehouse(2, FAR, stock={A: 5})

    result = run(demand(line(1, A, 5)), [short, enough])

    assert seen(result, 1, "W1").reasons == ("holds 3 of 5",)
    assert shipped(result) == [(1, "W2", 5)]


def test_every_failed_filter_is_a_reason() -> None:
    hopeless = warehouse(
        1, NEAR, stock={A: 1}, serves_channel=False, ships_to=frozenset({"DE"}), capacity_left=0
    )

    result = run(demand(line(1, A, 2, hazmat=True)), [hopeless])

    assert seen(result, 1, "W1").reasons == (
        "does not serve channel web",
        "does not ship to FR",
        "no capacity left today",
        "not hazmat capable",
        "holds 1 of 2",
    )
    assert result.backordered == {1: 2}


def test_a_filter_left_out_of_the_rule_set_is_not_applied() -> None:
    closed = warehouse(1, NEAR, stock={A: 5}, serves_channel=False)
    without_channel = rules(filters=(Filter.HOLDS_WHOLE_LINE,))

    result = run(demand(line(1, A, 1)), [closed], without_channel)

    assert seen(result, 1, "W1").eligible is True
    assert shipped(result) == [(1, "W1", 1)]


# --- ranking ----------------------------------------------------------------------------------


def test_by_distance_the_nearest_eligible_warehouse_wins() -> None:
    far = warehouse(1, FAR, stock={A: 5})
    near = warehouse(2, NEAR, stock={A: 5})
    mid = warehouse(3, MID, stock={A: 5})

    result = run(demand(line(1, A, 1)), [far, near, mid], rules(ranking=(Ranking.DISTANCE,)))

    assert shipped(result) == [(1, "W2", 1)]
    assert seen(result, 1, "W2").why == "ranked 1st of 3 able to ship it all; took 1"
    assert seen(result, 1, "W3").why == "ranked 2nd of 3 able to ship it all"
    assert seen(result, 1, "W2").scores["distance_km"] < seen(result, 1, "W3").scores["distance_km"]


def test_by_priority_the_lowest_fixed_priority_wins_over_distance() -> None:
    near = warehouse(1, NEAR, stock={A: 5}, priority=2)
    far = warehouse(2, FAR, stock={A: 5}, priority=1)

    result = run(
        demand(line(1, A, 1)), [near, far], rules(ranking=(Ranking.PRIORITY, Ranking.DISTANCE))
    )

    assert shipped(result) == [(1, "W2", 1)]
    assert seen(result, 1, "W2").scores["priority"] == 1
    assert seen(result, 1, "W1").scores["priority"] == 2


def test_by_stock_the_warehouse_holding_most_wins() -> None:
    some = warehouse(1, NEAR, stock={A: 5})
    most = warehouse(2, FAR, stock={A: 9})

    result = run(demand(line(1, A, 2)), [some, most], rules(ranking=(Ranking.MOST_STOCK,)))

    assert shipped(result) == [(1, "W2", 2)]
    assert seen(result, 1, "W2").scores["stock"] == 9
    assert seen(result, 1, "W1").scores["stock"] == 5


def test_by_stock_a_later_line_ranks_by_what_earlier_lines_left() -> None:
    six = warehouse(1, NEAR, stock={A: 6})
    five = warehouse(2, NEAR, stock={A: 5})
    only_b = warehouse(3, FAR, stock={B: 1})
    by_stock = rules(ranking=(Ranking.MOST_STOCK,))

    result = run(demand(line(1, A, 3), line(2, A, 3), line(3, B, 1)), [six, five, only_b], by_stock)

    assert [c.code for c in result.trace[0].candidates[:2]] == ["W1", "W2"]
    assert [c.code for c in result.trace[1].candidates[:2]] == ["W2", "W1"]
    assert seen(result, 2, "W1").why == "ranked 2nd, already shipping part of this demand; took 3"
    assert seen(result, 2, "W2").why == "ranked 1st; line covered by W1"


def test_by_cost_the_cheapest_shipment_wins() -> None:
    dear = warehouse(1, NEAR, stock={A: 5}, handling_cost=10.0)
    cheap = warehouse(2, MID, stock={A: 5}, handling_cost=1.0)

    result = run(demand(line(1, A, 1)), [dear, cheap], rules(ranking=(Ranking.LOWEST_COST,)))

    assert shipped(result) == [(1, "W2", 1)]
    assert seen(result, 1, "W1").scores["cost"] == 4.0 + 10.0
    assert seen(result, 1, "W2").scores["cost"] == 8.0 + 1.0


def test_a_later_criterion_breaks_ties_of_an_earlier_one() -> None:
    first = warehouse(1, NEAR, stock={A: 5}, priority=1)
    second = warehouse(2, NEAR, stock={A: 9}, priority=1)

    result = run(
        demand(line(1, A, 1)),
        [first, second],
        rules(ranking=(Ranking.PRIORITY, Ranking.MOST_STOCK)),
    )

    assert shipped(result) == [(1, "W2", 1)]


def test_ties_are_broken_by_warehouse_code() -> None:
    zulu = warehouse(1, NEAR, stock={A: 5}, code="ZULU")
    alpha = warehouse(2, NEAR, stock={A: 5}, code="ALPHA")

    result = run(demand(line(1, A, 1)), [zulu, alpha])

    assert shipped(result) == [(1, "ALPHA", 1)]
    assert [c.code for c in result.trace[0].candidates] == ["ALPHA", "ZULU"]


def test_the_trace_scores_every_candidate_eligible_or_not() -> None:
    closed = warehouse(1, NEAR, stock={A: 7}, serves_channel=False, priority=3)

    result = run(demand(line(1, A, 1)), [closed])

    scores = seen(result, 1, "W1").scores
    assert set(scores) == {"distance_km", "priority", "stock", "cost"}
    assert scores["stock"] == 7
    assert scores["priority"] == 3
    assert scores["cost"] == 4.0
    assert scores["distance_km"] == pytest.approx(6.0, abs=0.5)


def test_the_trace_lists_candidates_in_rank_order() -> None:
    far = warehouse(1, FAR, stock={A: 5})
    near = warehouse(2, NEAR, stock={A: 5})
    mid = warehouse(3, MID, stock={A: 5})

    result = run(demand(line(1, A, 1)), [far, near, mid])

    assert [c.code for c in result.trace[0].candidates] == ["W2", "W3", "W1"]


# --- split policies ---------------------------------------------------------------------------


def test_ship_complete_sends_everything_from_one_warehouse_holding_every_line() -> None:
    near = warehouse(1, NEAR, stock={A: 5})
    far = warehouse(2, FAR, stock={A: 5, B: 5})
    ship_complete = rules(split=SplitPolicy.SHIP_COMPLETE)

    result = run(demand(line(1, A, 1), line(2, B, 1)), [near, far], ship_complete)

    assert shipped(result) == [(1, "W2", 1), (2, "W2", 1)]
    assert result.shipments == 1
    assert seen(result, 1, "W1").eligible is True
    assert seen(result, 1, "W1").why == "cannot ship the whole demand (line 2: holds 0 of 1)"
    assert seen(result, 2, "W1").reasons == ("holds 0 of 1",)


def test_ship_complete_without_a_warehouse_for_everything_backorders_every_line() -> None:
    only_a = warehouse(1, NEAR, stock={A: 5})
    only_b = warehouse(2, FAR, stock={B: 5})
    ship_complete = rules(split=SplitPolicy.SHIP_COMPLETE)

    result = run(demand(line(1, A, 1), line(2, B, 2)), [only_a, only_b], ship_complete)

    assert result.assignments == ()
    assert result.backordered == {1: 1, 2: 2}
    assert result.hold_for_review is False
    assert result.notes == ("no warehouse can ship the whole demand; every line backordered",)
    assert result.trace[1].backordered == 2


def test_ship_complete_counts_two_lines_of_one_item_together() -> None:
    five = warehouse(1, NEAR, stock={A: 5})
    ship_complete = rules(split=SplitPolicy.SHIP_COMPLETE)

    result = run(demand(line(1, A, 3), line(2, A, 3)), [five], ship_complete)

    assert result.assignments == ()
    assert seen(result, 1, "W1").reasons == ("holds 5 of 6",)


def test_split_by_line_ships_from_one_warehouse_when_one_holds_everything() -> None:
    near_a = warehouse(1, NEAR, stock={A: 5})
    far_all = warehouse(2, FAR, stock={A: 5, B: 5})

    result = run(demand(line(1, A, 1), line(2, B, 1)), [near_a, far_all])

    assert shipped(result) == [(1, "W2", 1), (2, "W2", 1)]
    assert result.trace[0].note == "W2 ships the whole demand"


def test_split_by_line_sends_lines_to_different_warehouses_when_none_holds_everything() -> None:
    only_a = warehouse(1, NEAR, stock={A: 5})
    only_b = warehouse(2, FAR, stock={B: 5})

    result = run(demand(line(1, A, 2), line(2, B, 3)), [only_a, only_b])

    assert shipped(result) == [(1, "W1", 2), (2, "W2", 3)]
    assert result.shipments == 2
    assert seen(result, 1, "W1").why == "ranked 1st; took 2"
    assert seen(result, 2, "W2").why == "ranked 1st; took 3"


def test_split_by_line_prefers_a_warehouse_already_shipping_part_of_the_demand() -> None:
    # W1 alone holds A; C is nearer at W3, but W1 ships anyway, so C goes with it.
    only_a = warehouse(1, MID, stock={A: 5, C: 5})
    nearest_c = warehouse(3, NEAR, stock={C: 5})
    only_b = warehouse(2, FAR, stock={B: 5})

    result = run(demand(line(1, A, 1), line(2, B, 1), line(3, C, 1)), [only_a, only_b, nearest_c])

    assert shipped(result) == [(1, "W1", 1), (2, "W2", 1), (3, "W1", 1)]
    assert seen(result, 3, "W1").why == "ranked 2nd, already shipping part of this demand; took 1"
    assert seen(result, 3, "W3").why == "ranked 1st; line covered by W1"


def test_split_by_line_never_shares_a_line_between_warehouses() -> None:
    three = warehouse(1, NEAR, stock={A: 3})
    two = warehouse(2, FAR, stock={A: 2})

    result = run(demand(line(1, A, 5)), [three, two])

    assert result.assignments == ()
    assert result.backordered == {1: 5}
    assert result.trace[0].note == "5 of 5 backordered"


def test_split_by_line_without_the_whole_line_filter_ships_what_the_best_one_holds() -> None:
    three = warehouse(1, NEAR, stock={A: 3})
    two = warehouse(2, FAR, stock={A: 2})
    no_whole_line = rules(filters=(Filter.SERVES_CHANNEL,))

    result = run(demand(line(1, A, 5)), [three, two], no_whole_line)

    assert shipped(result) == [(1, "W1", 3)]
    assert result.backordered == {1: 2}
    assert seen(result, 1, "W2").why == "ranked 2nd; holds 2 of 5; the line ships from W1 alone"


def test_split_within_line_takes_from_the_best_ranked_until_the_line_is_covered() -> None:
    three = warehouse(1, NEAR, stock={A: 3})
    one = warehouse(2, MID, stock={A: 1})
    four = warehouse(3, FAR, stock={A: 4})
    within = rules(split=SplitPolicy.SPLIT_WITHIN_LINE)

    result = run(demand(line(1, A, 5)), [three, one, four], within)

    assert shipped(result) == [(1, "W1", 3), (1, "W2", 1), (1, "W3", 1)]
    assert seen(result, 1, "W1").eligible is True
    assert seen(result, 1, "W1").reasons == ()
    assert seen(result, 1, "W3").why == "ranked 3rd; took 1"


def test_split_within_line_prefers_a_warehouse_holding_the_whole_line() -> None:
    three = warehouse(1, NEAR, stock={A: 3, B: 1})
    five = warehouse(2, FAR, stock={A: 5})
    within = rules(split=SplitPolicy.SPLIT_WITHIN_LINE)

    result = run(demand(line(1, A, 5), line(2, B, 1)), [three, five], within)

    assert shipped(result) == [(1, "W2", 5), (2, "W1", 1)]
    assert seen(result, 1, "W1").why == "ranked 1st; holds 3 of 5"


def test_at_most_n_shipments_leaves_what_the_chosen_warehouses_cannot_cover() -> None:
    only_a = warehouse(1, NEAR, stock={A: 5})
    only_b = warehouse(2, FAR, stock={B: 5})
    one_shipment = rules(max_shipments=1)

    result = run(demand(line(1, A, 1), line(2, B, 1)), [only_a, only_b], one_shipment)

    assert shipped(result) == [(1, "W1", 1)]
    assert result.backordered == {2: 1}
    assert seen(result, 2, "W2").why == "ranked 1st; would be shipment 2 of at most 1"


def test_at_most_n_shipments_caps_a_line_shared_between_warehouses() -> None:
    two = warehouse(1, NEAR, stock={A: 2})
    two_more = warehouse(2, MID, stock={A: 2})
    and_more = warehouse(3, FAR, stock={A: 2})
    within_two = rules(split=SplitPolicy.SPLIT_WITHIN_LINE, max_shipments=2)

    result = run(demand(line(1, A, 5)), [two, two_more, and_more], within_two)

    assert shipped(result) == [(1, "W1", 2), (1, "W2", 2)]
    assert result.backordered == {1: 1}
    assert seen(result, 1, "W3").why == "ranked 3rd; would be shipment 3 of at most 2"


# --- fallback ---------------------------------------------------------------------------------


def test_backorder_assigns_what_it_can_and_backorders_the_rest_per_line() -> None:
    three = warehouse(1, NEAR, stock={A: 3, B: 5})
    within = rules(split=SplitPolicy.SPLIT_WITHIN_LINE)

    result = run(demand(line(1, A, 5), line(2, B, 2)), [three], within)

    assert shipped(result) == [(1, "W1", 3), (2, "W1", 2)]
    assert result.backordered == {1: 2}
    assert result.hold_for_review is False
    assert result.trace[0].backordered == 2
    assert result.trace[0].note == "2 of 5 backordered"


def test_hold_for_review_assigns_nothing_to_a_line_it_cannot_serve_in_full() -> None:
    three = warehouse(1, NEAR, stock={A: 3, B: 5})
    within_or_hold = rules(split=SplitPolicy.SPLIT_WITHIN_LINE, fallback=Fallback.HOLD_FOR_REVIEW)

    result = run(demand(line(1, A, 5), line(2, B, 2)), [three], within_or_hold)

    assert result.hold_for_review is True
    assert shipped(result) == [(2, "W1", 2)]
    assert result.backordered == {1: 5}
    assert seen(result, 1, "W1").chosen is False
    assert seen(result, 1, "W1").why == (
        "ranked 1st; could take 3, but only 3 of 5 can be served: held"
    )
    assert result.notes == ("line 1 (SKU-10): only 3 of 5 can be served: held for review",)


def test_a_held_line_leaves_its_stock_for_the_later_lines() -> None:
    three = warehouse(1, NEAR, stock={A: 3})
    within_or_hold = rules(split=SplitPolicy.SPLIT_WITHIN_LINE, fallback=Fallback.HOLD_FOR_REVIEW)

    result = run(demand(line(1, A, 5), line(2, A, 2)), [three], within_or_hold)

    assert shipped(result) == [(2, "W1", 2)]
    assert seen(result, 2, "W1").scores["stock"] == 3


def test_ship_complete_held_for_review_assigns_nothing() -> None:
    only_a = warehouse(1, NEAR, stock={A: 5})
    complete_or_hold = rules(split=SplitPolicy.SHIP_COMPLETE, fallback=Fallback.HOLD_FOR_REVIEW)

    result = run(demand(line(1, A, 1), line(2, B, 1)), [only_a], complete_or_hold)

    assert result.hold_for_review is True
    assert result.assignments == ()
    assert result.backordered == {1: 1, 2: 1}


def test_a_demand_served_in_full_is_never_held() -> None:
    enough = warehouse(1, NEAR, stock={A: 5})
    or_hold = rules(fallback=Fallback.HOLD_FOR_REVIEW)

    result = run(demand(line(1, A, 5)), [enough], or_hold)

    assert result.hold_for_review is False
    assert result.backordered == {}


# --- stock, totals, defaults ------------------------------------------------------------------


def test_two_lines_of_one_item_share_its_stock() -> None:
    eight = warehouse(1, NEAR, stock={A: 8})
    five = warehouse(2, FAR, stock={A: 5})

    result = run(demand(line(1, A, 5), line(2, A, 5)), [eight, five])

    assert shipped(result) == [(1, "W1", 5), (2, "W2", 5)]
    assert seen(result, 2, "W1").reasons == ("holds 3 of 5",)
    assert seen(result, 2, "W1").scores["stock"] == 3


def test_the_plan_carries_cost_distance_and_shipments_from_the_cost_model() -> None:
    only_a = warehouse(1, NEAR, stock={A: 5}, handling_cost=1.0)
    only_b = warehouse(2, FAR, stock={B: 5}, handling_cost=2.0)
    candidates = [only_a, only_b]
    the_demand = demand(line(1, A, 1), line(2, B, 1))

    result = run(the_demand, candidates)

    expected = plan_cost(
        the_demand, {c.warehouse_id: c for c in candidates}, result.assignments, COSTS
    )
    assert result.shipments == 2
    assert result.cost == (4.0 + 1.0) + (8.0 + 2.0)
    assert result.distance_km == expected.distance_km
    assert result.strategy is Strategy.GREEDY


def test_the_default_rule_set_filters_by_channel_and_whole_line_nearest_first_backordering() -> (
    None
):
    assert DEFAULT_RULE_SET.filters == (
        Filter.SERVES_CHANNEL,
        Filter.SHIPS_TO_COUNTRY,
        Filter.HAZMAT_CAPABLE,
        Filter.BELOW_CAPACITY,
        Filter.HOLDS_WHOLE_LINE,
    )
    assert DEFAULT_RULE_SET.ranking[0] is Ranking.DISTANCE
    assert DEFAULT_RULE_SET.split is SplitPolicy.SPLIT_BY_LINE
    assert DEFAULT_RULE_SET.fallback is Fallback.BACKORDER


def test_under_the_default_rule_set_a_short_line_is_backordered_and_the_rest_ships() -> None:
    near = warehouse(1, NEAR, stock={A: 5, B: 1})
    far = warehouse(2, FAR, stock={A: 5})
    closed = warehouse(3, NEAR, stock={A: 9, B: 9}, serves_channel=False)

    result = plan(demand(line(1, A, 2), line(2, B, 3)), [far, near, closed], costs=COSTS)

    assert shipped(result) == [(1, "W1", 2)]
    assert result.backordered == {2: 3}
    assert result.hold_for_review is False


def test_without_candidates_every_line_is_backordered() -> None:
    result = run(demand(line(1, A, 2), line(2, B, 1)), [])

    assert result.assignments == ()
    assert result.backordered == {1: 2, 2: 1}
    assert result.shipments == 0


def test_the_same_input_gives_the_same_plan() -> None:
    candidates = [warehouse(i, NEAR, stock={A: 2, B: 1}) for i in range(1, 6)]
    the_demand = demand(line(1, A, 3), line(2, B, 2))
    within = rules(split=SplitPolicy.SPLIT_WITHIN_LINE)

    assert run(the_demand, candidates, within) == run(the_demand, candidates[::-1], within)


# --- invariants -------------------------------------------------------------------------------

SPOTS = [NEAR, MID, FAR, (50.63, 3.06), (47.22, -1.55)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Demand, list[Candidate], RuleSet]:
    items = [A, B, C]
    candidates = [
        warehouse(
            i,
            draw(st.sampled_from(SPOTS)),
            stock={item: draw(st.integers(0, 6)) for item in items},
            serves_channel=draw(st.booleans()),
            hazmat_capable=draw(st.booleans()),
            capacity_left=draw(st.sampled_from([None, 0, 1])),
            priority=draw(st.integers(0, 2)),
        )
        for i in range(1, draw(st.integers(0, 5)) + 1)
    ]
    lines = tuple(
        line(k, draw(st.sampled_from(items)), draw(st.integers(1, 8)), hazmat=draw(st.booleans()))
        for k in range(1, draw(st.integers(1, 5)) + 1)
    )
    the_rules = RuleSet(
        filters=tuple(draw(st.lists(st.sampled_from(list(Filter)), unique=True))),
        ranking=tuple(draw(st.lists(st.sampled_from(list(Ranking)), unique=True, min_size=1))),
        split=draw(st.sampled_from(list(SplitPolicy))),
        max_shipments=draw(st.sampled_from([None, 1, 2])),
        fallback=draw(st.sampled_from(list(Fallback))),
    )
    return demand(*lines), candidates, the_rules


@settings(max_examples=300)
@given(cases())
def test_a_plan_never_oversells_and_accounts_for_every_unit(
    case: tuple[Demand, list[Candidate], RuleSet],
) -> None:
    the_demand, candidates, the_rules = case

    result = run(the_demand, candidates, the_rules)

    by_id = {c.warehouse_id: c for c in candidates}
    taken: dict[tuple[int, int], int] = defaultdict(int)
    per_line: dict[int, int] = defaultdict(int)
    warehouses_per_line: dict[int, set[int]] = defaultdict(set)
    items = {ln.key: ln.item_id for ln in the_demand.lines}
    for a in result.assignments:
        assert a.quantity > 0
        taken[(a.warehouse_id, items[a.line_key])] += a.quantity
        per_line[a.line_key] += a.quantity
        warehouses_per_line[a.line_key].add(a.warehouse_id)
    for (wid, item), quantity in taken.items():
        assert quantity <= by_id[wid].available.get(item, 0)
    for ln in the_demand.lines:
        assert per_line[ln.key] + result.backordered.get(ln.key, 0) == ln.quantity
        if the_rules.fallback is Fallback.HOLD_FOR_REVIEW:
            assert per_line[ln.key] in (0, ln.quantity)
        if the_rules.split is not SplitPolicy.SPLIT_WITHIN_LINE:
            assert len(warehouses_per_line[ln.key]) <= 1
    shipments = {a.warehouse_id for a in result.assignments}
    assert result.shipments == len(shipments)
    if the_rules.max_shipments is not None:
        assert len(shipments) <= the_rules.max_shipments
    if the_rules.split is SplitPolicy.SHIP_COMPLETE:
        assert len(shipments) <= 1
        assert not result.assignments or result.backordered == {}
    assert result.hold_for_review == (
        the_rules.fallback is Fallback.HOLD_FOR_REVIEW and bool(result.backordered)
    )
    for trace in result.trace:
        chosen = {c.warehouse_id for c in trace.candidates if c.chosen}
        assert chosen == warehouses_per_line[trace.line_key]
        assert all(c.eligible for c in trace.candidates if c.chosen)
        assert len(trace.candidates) == len(candidates)
