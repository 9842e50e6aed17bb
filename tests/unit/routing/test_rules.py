"""Rule sets as admins send them: every name checked, and a faithful round trip to the planner."""

from __future__ import annotations

from typing import Any

import pytest

from oms.errors import ValidationFailed
from oms.kit.validation import parse
from oms.routing.model import DEFAULT_RULE_SET, Fallback, Filter, Ranking, RuleSet, SplitPolicy
from oms.routing.rules import RuleSetIn, RuleSetRules, describe


def problems(data: dict[str, Any]) -> dict[str, str]:
    """Field path → message of every problem `data` has as a rule set."""
    with pytest.raises(ValidationFailed) as caught:
        parse(RuleSetIn, data)
    return {p.path: p.message for p in caught.value.problems}


def test_an_empty_rule_set_is_the_default_rule_set() -> None:
    assert parse(RuleSetIn, {}).to_rule_set() == DEFAULT_RULE_SET


def test_a_field_left_out_keeps_the_default() -> None:
    rules = parse(RuleSetIn, {"split": "ship_complete"}).to_rule_set()

    assert rules.split is SplitPolicy.SHIP_COMPLETE
    assert rules.filters == DEFAULT_RULE_SET.filters
    assert rules.ranking == DEFAULT_RULE_SET.ranking


def test_a_full_rule_set_converts_to_the_planners_rules() -> None:
    rules = parse(
        RuleSetIn,
        {
            "channel": "web",
            "filters": ["hazmat_capable", "serves_channel"],
            "ranking": ["lowest_cost", "distance"],
            "split": "split_within_line",
            "max_shipments": 2,
            "fallback": "hold_for_review",
        },
    ).to_rule_set()

    assert rules == RuleSet(
        filters=(Filter.HAZMAT_CAPABLE, Filter.SERVES_CHANNEL),
        ranking=(Ranking.LOWEST_COST, Ranking.DISTANCE),
        split=SplitPolicy.SPLIT_WITHIN_LINE,
        max_shipments=2,
        fallback=Fallback.HOLD_FOR_REVIEW,
    )


def test_no_filters_at_all_is_allowed() -> None:
    assert parse(RuleSetIn, {"filters": []}).to_rule_set().filters == ()


def test_the_planners_rules_round_trip_through_the_admin_shape() -> None:
    rules = RuleSet(
        filters=(Filter.BELOW_CAPACITY,),
        ranking=(Ranking.MOST_STOCK, Ranking.PRIORITY),
        split=SplitPolicy.SHIP_COMPLETE,
        max_shipments=1,
        fallback=Fallback.HOLD_FOR_REVIEW,
    )

    shape = RuleSetRules.from_rule_set(rules)

    assert RuleSetRules.model_validate(shape.model_dump(mode="json")).to_rule_set() == rules


def test_the_admin_shape_speaks_the_rule_names() -> None:
    dumped = RuleSetRules.from_rule_set(DEFAULT_RULE_SET).model_dump(mode="json")

    assert dumped["ranking"] == ["distance", "priority"]
    assert dumped["split"] == "split_by_line"
    assert dumped["fallback"] == "backorder"


def test_an_unknown_filter_is_refused_at_its_position() -> None:
    found = problems({"filters": ["serves_channel", "is_open"]})

    assert set(found) == {"filters[1]"}
    assert "holds_whole_line" in found["filters[1]"]


def test_an_unknown_ranking_criterion_is_refused_at_its_position() -> None:
    assert set(problems({"ranking": ["distance", "fastest"]})) == {"ranking[1]"}


def test_a_filter_listed_twice_is_refused() -> None:
    found = problems({"filters": ["serves_channel", "serves_channel"]})

    assert found == {"filters": "listed more than once: serves_channel"}


def test_a_ranking_criterion_listed_twice_is_refused() -> None:
    found = problems({"ranking": ["distance", "priority", "distance"]})

    assert found == {"ranking": "listed more than once: distance"}


def test_a_ranking_needs_at_least_one_criterion() -> None:
    assert set(problems({"ranking": []})) == {"ranking"}


def test_an_unknown_split_policy_is_refused() -> None:
    found = problems({"split": "split_anyhow"})

    assert "ship_complete" in found["split"]


def test_max_shipments_below_one_is_refused() -> None:
    assert set(problems({"max_shipments": 0})) == {"max_shipments"}


def test_max_shipments_may_be_unlimited() -> None:
    assert parse(RuleSetIn, {"max_shipments": None}).to_rule_set().max_shipments is None


def test_an_unknown_fallback_is_refused() -> None:
    assert set(problems({"fallback": "cancel"})) == {"fallback"}


def test_an_unknown_field_is_refused() -> None:
    assert set(problems({"splitting": "ship_complete"})) == {"splitting"}


def test_every_problem_is_named_at_once() -> None:
    found = problems({"ranking": [], "max_shipments": 0, "fallback": "cancel"})

    assert set(found) == {"ranking", "max_shipments", "fallback"}


def test_a_channel_code_is_checked() -> None:
    assert set(problems({"channel": "not a code"})) == {"channel"}


def test_rules_in_words_name_every_part() -> None:
    assert describe(DEFAULT_RULE_SET) == (
        "filters: serves_channel, ships_to_country, hazmat_capable, below_capacity, "
        "holds_whole_line",
        "ranking: distance, priority",
        "split: split_by_line",
        "at most shipments: no limit",
        "fallback: backorder",
    )
