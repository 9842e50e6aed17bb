"""Rule sets as admins send and read them, and their conversion to the planner's `RuleSet`.

A rule set steers the planner: which filters a warehouse must pass, how
eligible warehouses are ranked, how a demand may be split, and what happens to
what cannot be served (see `planner.py` for what each one means). A field left
out takes the default rule set's value, so `{}` is the default rule set and
`{"split": "ship_complete"}` changes only the split policy.

Names are checked here, each bad one at its own path: an unknown filter or
ranking criterion, one listed twice, a ranking without any criterion, an
unknown split policy or fallback, `max_shipments` below 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Self, TypeVar

from pydantic import AfterValidator, Field

from oms.catalog.schemas import Code, Strict
from oms.routing.model import DEFAULT_RULE_SET, Fallback, Filter, Ranking, RuleSet, SplitPolicy

N = TypeVar("N", Filter, Ranking)


def _each_once(names: list[N]) -> list[N]:
    twice = sorted({str(name) for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"listed more than once: {', '.join(twice)}")
    return names


Filters = Annotated[list[Filter], AfterValidator(_each_once)]
Rankings = Annotated[list[Ranking], Field(min_length=1), AfterValidator(_each_once)]


class RuleSetRules(Strict):
    """The rules themselves: filters, ranking (first criterion first), split, fallback."""

    filters: Filters = Field(default_factory=lambda: list(DEFAULT_RULE_SET.filters))
    ranking: Rankings = Field(default_factory=lambda: list(DEFAULT_RULE_SET.ranking))
    split: SplitPolicy = DEFAULT_RULE_SET.split
    max_shipments: Annotated[int, Field(ge=1, le=1000)] | None = DEFAULT_RULE_SET.max_shipments
    """At most this many warehouses ship one demand; null: no limit."""
    fallback: Fallback = DEFAULT_RULE_SET.fallback

    def to_rule_set(self) -> RuleSet:
        """The planner's frozen `RuleSet` for these rules."""
        return RuleSet(
            filters=tuple(self.filters),
            ranking=tuple(self.ranking),
            split=self.split,
            max_shipments=self.max_shipments,
            fallback=self.fallback,
        )

    @classmethod
    def from_rule_set(cls, rules: RuleSet) -> Self:
        """The shape an admin reads back for the planner's `rules`."""
        return cls(
            filters=list(rules.filters),
            ranking=list(rules.ranking),
            split=rules.split,
            max_shipments=rules.max_shipments,
            fallback=rules.fallback,
        )


class RuleSetIn(RuleSetRules):
    """A new version of a channel's rule set, or of the default one (no channel)."""

    channel: Code | None = None
    """The channel's code; null: the default rule set, used by channels without their own."""
    note: Annotated[str, Field(max_length=500)] | None = None
    """Why the rules change, kept with the version."""


def describe(rules: RuleSet) -> Sequence[str]:
    """The rules in words, one line each, for the CLI and the console."""
    shipments = "no limit" if rules.max_shipments is None else str(rules.max_shipments)
    return (
        f"filters: {', '.join(rules.filters) or 'none'}",
        f"ranking: {', '.join(rules.ranking)}",
        f"split: {rules.split}",
        f"at most shipments: {shipments}",
        f"fallback: {rules.fallback}",
    )
