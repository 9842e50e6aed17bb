"""The order status is one pure function of the lines' quantity buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.errors import InvalidTransition
from oms.orders.models import OrderStatus
from oms.orders.status import ALLOWED, Action, Buckets, derive, guard

S = OrderStatus


@st.composite
def buckets(draw: st.DrawFn) -> Buckets:
    """A line whose buckets add up to at most what was ordered."""
    ordered = draw(st.integers(1, 20))
    left = ordered
    parts = {}
    for name in ("cancelled", "delivered", "shipped", "released", "allocated", "backordered"):
        parts[name] = draw(st.integers(0, left))
        left -= parts[name]
    return Buckets(ordered=ordered, **parts)


lines = st.lists(buckets(), min_size=1, max_size=6)


@given(lines, st.booleans(), st.booleans())
def test_every_combination_of_buckets_maps_to_exactly_one_status(
    found: list[Buckets], accepted: bool, closed: bool
) -> None:
    assert derive(found, accepted=accepted, closed=closed) in set(OrderStatus)


@given(lines)
def test_an_order_is_cancelled_exactly_when_every_unit_is(found: list[Buckets]) -> None:
    status = derive(found, accepted=True, closed=False)

    all_cancelled = all(line.cancelled == line.ordered for line in found)
    assert (status == S.CANCELLED) == all_cancelled


@given(lines)
def test_delivered_means_every_live_unit_was_delivered(found: list[Buckets]) -> None:
    status = derive(found, accepted=True, closed=False)

    live = sum(line.ordered - line.cancelled for line in found)
    delivered = sum(line.delivered for line in found)
    assert (status == S.DELIVERED) == (live > 0 and delivered == live)


@given(lines)
def test_a_partial_status_means_its_stage_covers_some_live_units_but_not_all(
    found: list[Buckets],
) -> None:
    status = derive(found, accepted=True, closed=False)
    live = sum(line.ordered - line.cancelled for line in found)
    delivered = sum(line.delivered for line in found)
    shipped = delivered + sum(line.shipped for line in found)
    released = shipped + sum(line.released for line in found)
    allocated = released + sum(line.allocated for line in found)
    reached = {
        S.PARTIALLY_SHIPPED: shipped,
        S.PARTIALLY_RELEASED: released,
        S.PARTIALLY_ALLOCATED: allocated,
    }

    if status in reached:
        assert 0 < reached[status] < live


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (Buckets(ordered=3), S.OPEN),
        (Buckets(ordered=3, backordered=3), S.BACKORDERED),
        (Buckets(ordered=3, allocated=1, backordered=2), S.PARTIALLY_ALLOCATED),
        (Buckets(ordered=3, allocated=3), S.ALLOCATED),
        (Buckets(ordered=3, allocated=2, released=1), S.PARTIALLY_RELEASED),
        (Buckets(ordered=3, released=3), S.RELEASED),
        (Buckets(ordered=3, released=2, shipped=1), S.PARTIALLY_SHIPPED),
        (Buckets(ordered=3, shipped=2, delivered=1), S.SHIPPED),
        (Buckets(ordered=3, delivered=2, cancelled=1), S.DELIVERED),
        (Buckets(ordered=3, cancelled=3), S.CANCELLED),
    ],
)
def test_each_stage_has_its_status(line: Buckets, expected: OrderStatus) -> None:
    assert derive([line], accepted=True, closed=False) == expected


def test_an_order_not_yet_accepted_is_received() -> None:
    assert derive([Buckets(ordered=2)], accepted=False, closed=False) == S.RECEIVED


def test_a_closed_order_stays_closed() -> None:
    assert derive([Buckets(ordered=2, delivered=2)], accepted=True, closed=True) == S.CLOSED


def test_a_shipped_order_cannot_be_cancelled_and_says_why() -> None:
    with pytest.raises(InvalidTransition) as raised:
        guard(Action.CANCEL, S.SHIPPED, number="SO-000001")

    assert raised.value.code == "order.cannot_cancel_shipped"


def test_every_action_is_in_the_transition_table() -> None:
    assert set(ALLOWED) == set(Action)
