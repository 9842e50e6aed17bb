"""Routing an order on intake: the channel's rule set over the real network and stock, the
plan stored with its trace, reservations, and a planned fulfillment order per warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.catalog import repository as catalog
from oms.db import Database
from oms.kit import clock
from oms.kit.paging import PageRequest
from oms.kit.validation import parse
from oms.orders import allocation, edits, lifecycle, repository
from oms.orders.edits import OrderEdit
from oms.orders.models import HoldType
from oms.routing import service as routing
from oms.routing.models import FulfillmentStatus
from oms.routing.schemas import LineTraceOut, PlanOut
from tests.integration.orders import factories as orders
from tests.integration.routing import factories


@pytest.fixture
def network(db: Database) -> Database:
    with db.transaction() as session:
        factories.network(session)
    return db


def only_plan(session: Session, order_id: int) -> PlanOut:
    [plan] = routing.plans_of_order(session, order_id)
    return plan


def line_trace(plan: PlanOut, line_number: int = 1) -> LineTraceOut:
    [found] = [line for line in plan.trace if line.line_number == line_number]
    return found


def warehouses_of(session: Session, order_id: int) -> list[tuple[str, int]]:
    """(warehouse code, units) of the order's allocations."""
    codes = {w.id: w.code for w in catalog.all_warehouses(session)}
    return [
        (codes[a.warehouse_id], a.quantity)
        for a in repository.allocations_of_order(session, order_id)
    ]


def test_the_default_rule_set_picks_the_nearest_warehouse_of_the_channel_holding_the_whole_line(
    network: Database,
) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 3)])

    with network.transaction() as session:
        assert warehouses_of(session, order_id) == [("DAL", 3)]
        plan = only_plan(session, order_id)
        assert (plan.rule_set_version, plan.strategy, plan.reason) == (0, "greedy", "intake")
        by_code = {c.warehouse: c for c in line_trace(plan).candidates}
        assert by_code["DAL"].chosen
        assert by_code["DAL"].eligible
        assert by_code["EDI"].reasons == ["holds 2 of 3"]
        assert by_code["MEM"].reasons == ["does not serve channel web"]
        assert not by_code["RNO"].chosen
        assert by_code["RNO"].eligible
        assert "ranked 2nd" in by_code["RNO"].why
        assert by_code["EDI"].scores.distance_km < by_code["DAL"].scores.distance_km
        assert by_code["DAL"].scores.distance_km < by_code["RNO"].scores.distance_km


def test_the_trace_lists_candidates_in_rank_order_with_their_scores(network: Database) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 3)])

    with network.transaction() as session:
        candidates = line_trace(only_plan(session, order_id)).candidates
        assert [c.warehouse for c in candidates] == ["EDI", "MEM", "DAL", "RNO"]
        assert [c.scores.priority for c in candidates] == [2, routing.UNLINKED_PRIORITY, 1, 0]
        assert [c.scores.stock for c in candidates] == [2, 9, 5, 9]


def test_a_channel_rule_set_ranking_by_priority_changes_the_choice(network: Database) -> None:
    with network.transaction() as session:
        orders.rule_set(session, "web", ranking=["priority"])
        order_id = factories.order(session, lines=[("ABC-1", 3)])

    with network.transaction() as session:
        assert warehouses_of(session, order_id) == [("RNO", 3)]
        plan = only_plan(session, order_id)
        assert plan.rule_set_version == 1
        assert plan.rules.ranking == ["priority"]


def test_the_default_rule_set_stored_by_an_admin_applies_to_a_channel_without_its_own(
    network: Database,
) -> None:
    with network.transaction() as session:
        orders.rule_set(session, None, ranking=["most_stock", "distance"])
        order_id = factories.order(session, lines=[("ABC-1", 3)])

    with network.transaction() as session:
        assert warehouses_of(session, order_id) == [("RNO", 3)]
        assert only_plan(session, order_id).rule_set_version == 1


def test_lines_going_to_two_warehouses_make_a_fulfillment_order_each_with_their_lines(
    network: Database,
) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 7), ("XYZ-9", 4)])

    with network.transaction() as session:
        made = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        assert [(fo.warehouse, fo.status, fo.units) for fo in made] == [
            ("DAL", FulfillmentStatus.PLANNED, 4),
            ("RNO", FulfillmentStatus.PLANNED, 7),
        ]
        assert [(line.line_number, line.sku, line.quantity) for line in made[0].lines] == [
            (2, "XYZ-9", 4)
        ]
        assert [(line.line_number, line.sku, line.quantity) for line in made[1].lines] == [
            (1, "ABC-1", 7)
        ]
        assert made[0].number == f"FO-{made[0].id:06d}"
        assert only_plan(session, order_id).fulfillment_orders == [fo.number for fo in made]
        assert orders.ledger_holds(session)


def test_one_warehouse_holding_every_line_ships_them_all_in_one_fulfillment_order(
    network: Database,
) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 3), ("XYZ-9", 1)])

    with network.transaction() as session:
        [made] = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        assert (made.warehouse, [line.sku for line in made.lines]) == ("DAL", ["ABC-1", "XYZ-9"])


def test_each_fulfillment_order_line_holds_its_own_reservation(network: Database) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 3), ("XYZ-9", 1)])

    with network.transaction() as session:
        [made] = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        reserved = {a.reservation_id for a in repository.allocations_of_order(session, order_id)}
        assert {line.reservation_id for line in made.lines} == reserved


def test_what_no_warehouse_holds_whole_is_backordered_and_said_in_the_trace(
    network: Database,
) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("XYZ-9", 6)])

    with network.transaction() as session:
        _, [line] = orders.stored(session, order_id)
        assert (line.allocated, line.backordered) == (0, 6)
        plan = only_plan(session, order_id)
        assert (plan.planned_units, plan.backordered_units, plan.fulfillment_orders) == (0, 6, [])
        assert line_trace(plan).note == "6 of 6 backordered"


def test_a_hazmat_line_goes_only_to_a_hazmat_capable_warehouse(db: Database) -> None:
    with db.transaction() as session:
        factories.network(
            session,
            on_hand={("BAT-1", "DAL"): 5, ("BAT-1", "RNO"): 5},
            warehouse_settings={"RNO": {"attributes": {"hazmat_capable": True}}},
        )
        order_id = factories.order(session, lines=[("BAT-1", 2)])

    with db.transaction() as session:
        assert warehouses_of(session, order_id) == [("RNO", 2)]
        by_code = {c.warehouse: c for c in line_trace(only_plan(session, order_id)).candidates}
        assert "not hazmat capable" in by_code["DAL"].reasons


def test_a_warehouse_whose_capacity_today_is_taken_by_planned_orders_is_passed_over(
    db: Database,
) -> None:
    with db.transaction() as session:
        factories.network(session, warehouse_settings={"EDI": {"daily_capacity": 1}})
        first = factories.order(session, "1001", lines=[("ABC-1", 1)])
        second = factories.order(session, "1002", lines=[("ABC-1", 1)])

    with db.transaction() as session:
        assert warehouses_of(session, first) == [("EDI", 1)]
        assert warehouses_of(session, second) == [("DAL", 1)]
        by_code = {c.warehouse: c for c in line_trace(only_plan(session, second)).candidates}
        assert by_code["EDI"].reasons == ["no capacity left today"]


@pytest.fixture
def set_clock() -> Iterator[Callable[[str], None]]:
    """Sets the time Item OMS's clock tells (ISO 8601, UTC)."""

    def at(moment: str) -> None:
        now = dt.datetime.fromisoformat(moment)
        clock.set_clock(lambda: now)

    yield at
    clock.set_clock(None)


def test_a_warehouses_capacity_counts_its_own_day_not_the_utc_day(
    db: Database, set_clock: Callable[[str], None]
) -> None:
    settings = {"daily_capacity": 1, "timezone": "America/Chicago"}
    with db.transaction() as session:
        factories.network(session, warehouse_settings={"EDI": settings})
    set_clock("2026-11-26T23:00:00+00:00")  # 17:00 in Chicago, 26 November
    with db.transaction() as session:
        first = factories.order(session, "1001", lines=[("ABC-1", 1)])
    set_clock("2026-11-27T05:00:00+00:00")  # a new day in UTC; 23:00 of the same in Chicago
    with db.transaction() as session:
        second = factories.order(session, "1002", lines=[("ABC-1", 1)])

    with db.transaction() as session:
        assert warehouses_of(session, first) == [("EDI", 1)]
        assert warehouses_of(session, second) == [("DAL", 1)]


def test_a_warehouse_that_does_not_ship_to_the_country_is_passed_over(db: Database) -> None:
    with db.transaction() as session:
        factories.network(session, warehouse_settings={"DAL": {"attributes": {"ships_to": ["CA"]}}})
        order_id = factories.order(session, lines=[("ABC-1", 3)])

    with db.transaction() as session:
        assert warehouses_of(session, order_id) == [("RNO", 3)]
        by_code = {c.warehouse: c for c in line_trace(only_plan(session, order_id)).candidates}
        assert by_code["DAL"].reasons == ["does not ship to US"]


def test_a_rule_set_falling_back_to_review_holds_the_order_by_hand(network: Database) -> None:
    with network.transaction() as session:
        orders.rule_set(session, "web", fallback="hold_for_review")
        order_id = factories.order(session, lines=[("ABC-1", 3), ("XYZ-9", 6)])

    with network.transaction() as session:
        [hold] = repository.holds_of(session, order_id, active_only=True)
        assert (hold.type, hold.reason) == (HoldType.MANUAL, allocation.REVIEW_HOLD)
        assert warehouses_of(session, order_id) == [("DAL", 3)]
        assert only_plan(session, order_id).hold_for_review


def test_an_order_on_hold_is_still_planned(network: Database) -> None:
    with network.transaction() as session:
        orders.rule_set(session, "web", fallback="hold_for_review")
        order_id = factories.order(session, lines=[("ABC-1", 3), ("XYZ-9", 6)])

    with network.transaction() as session:
        [made] = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        assert (made.warehouse, made.status) == ("DAL", FulfillmentStatus.PLANNED)


def test_cancelling_the_order_cancels_its_planned_fulfillment_orders(network: Database) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 7), ("XYZ-9", 4)])

    with network.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="customer asked", actor=SYSTEM)

    with network.transaction() as session:
        made = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        assert [(fo.status, fo.units) for fo in made] == [
            (FulfillmentStatus.CANCELLED, 0),
            (FulfillmentStatus.CANCELLED, 0),
        ]
        assert orders.ledger_holds(session)


def test_cancelling_one_line_leaves_the_other_s_fulfillment_order_planned(
    network: Database,
) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 7), ("XYZ-9", 4)])

    with network.transaction() as session:
        lifecycle.cancel_line(session, order_id, 2, reason="out of fashion", actor=SYSTEM)

    with network.transaction() as session:
        made = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        assert [(fo.warehouse, fo.status, fo.units) for fo in made] == [
            ("DAL", FulfillmentStatus.CANCELLED, 0),
            ("RNO", FulfillmentStatus.PLANNED, 7),
        ]


def test_units_added_by_an_edit_are_planned_again_onto_the_warehouse_s_planned_order(
    network: Database,
) -> None:
    with network.transaction() as session:
        order_id = factories.order(session, lines=[("ABC-1", 3)])

    with network.transaction() as session:
        edits.edit_order(
            session,
            order_id,
            parse(
                OrderEdit, {"add_lines": [{"sku": "XYZ-9", "quantity": 2, "unit_price": "1.00"}]}
            ),
            actor=SYSTEM,
        )

    with network.transaction() as session:
        plans = routing.plans_of_order(session, order_id)
        assert [p.reason for p in plans] == ["intake", "edit"]
        [made] = routing.search_fulfillment_orders(
            session, PageRequest(), actor=SYSTEM, order_id=order_id
        ).items
        assert (made.warehouse, [line.sku for line in made.lines]) == ("DAL", ["ABC-1", "XYZ-9"])
        assert made.version == 2
