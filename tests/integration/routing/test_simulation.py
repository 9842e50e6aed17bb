"""What-if over stored orders with each strategy: the optimal one plans every order at once,
never worse than greedy on the objective, and like greedy writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from oms.audit import AuditEntry
from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.inventory.models import Balance, Reservation
from oms.orders.models import OrderAllocation
from oms.outbox.models import OutboxEvent
from oms.routing import simulation
from oms.routing.model import Strategy
from oms.routing.models import FulfillmentOrder, FulfillmentOrderLine, RoutingPlan
from oms.routing.simulation import SimulationIn, SimulationOut
from tests.integration.routing import factories

COUNTED = (
    RoutingPlan,
    Reservation,
    FulfillmentOrder,
    FulfillmentOrderLine,
    OrderAllocation,
    AuditEntry,
    OutboxEvent,
)


@pytest.fixture
def greedy_splits(db: Database) -> Database:
    """Two orders to New York where placed-order greedy splits the second: one ABC-1 at EDI
    (nearest) and one at DAL, one XYZ-9 at EDI only. 1001 (ABC-1) takes EDI's ABC-1, so 1002
    (ABC-1 and XYZ-9) ships from DAL and EDI; sending 1001 from DAL ships 1002 whole from EDI."""
    with db.transaction() as session:
        factories.network(
            session,
            on_hand={("ABC-1", "EDI"): 1, ("ABC-1", "DAL"): 1, ("XYZ-9", "EDI"): 1},
        )
        factories.order(session, "1001", lines=[("ABC-1", 1)])
        factories.order(session, "1002", lines=[("ABC-1", 1), ("XYZ-9", 1)])
    return db


def simulate(db: Database, strategy: Strategy, **given: Any) -> SimulationOut:
    request = SimulationIn.model_validate({"rules": {}, "strategy": strategy, **given})
    with db.transaction() as session:
        return simulation.simulate(session, request, actor=SYSTEM)


def state(db: Database) -> dict[str, Any]:
    """Row counts and balances: what a simulation must leave as it was."""
    with db.transaction() as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in COUNTED
        }
        stock = sorted(
            session.execute(
                select(Balance.item_id, Balance.warehouse_id, Balance.on_hand, Balance.reserved)
            ).all()
        )
        return {"counts": counts, "stock": stock}


def test_the_optimal_strategy_over_stored_orders_writes_nothing(greedy_splits: Database) -> None:
    before = state(greedy_splits)

    report = simulate(greedy_splits, Strategy.OPTIMAL)

    assert report.proposed.orders == 2
    assert state(greedy_splits) == before
    assert before["counts"]["routing_plans"] == 2
    assert before["counts"]["fulfillment_orders"] == 3


def test_where_greedy_splits_an_order_the_optimal_plan_ships_each_whole_for_less(
    greedy_splits: Database,
) -> None:
    greedy = simulate(greedy_splits, Strategy.GREEDY).proposed
    optimal = simulate(greedy_splits, Strategy.OPTIMAL).proposed

    assert (greedy.shipments, greedy.split_orders) == (3, 1)
    assert (optimal.shipments, optimal.split_orders) == (2, 0)
    assert optimal.planned_units == greedy.planned_units == 3
    assert optimal.fill_rate == greedy.fill_rate == 1.0
    assert optimal.cost < greedy.cost
    assert optimal.objective < greedy.objective


def test_the_report_names_the_strategy_and_the_active_side_stays_greedy(
    greedy_splits: Database,
) -> None:
    greedy = simulate(greedy_splits, Strategy.GREEDY)
    optimal = simulate(greedy_splits, Strategy.OPTIMAL)

    assert (greedy.strategy, greedy.solver_status) == (Strategy.GREEDY, None)
    assert (optimal.strategy, optimal.solver_status) == (Strategy.OPTIMAL, "Optimal")
    assert optimal.active == greedy.active == greedy.proposed


@pytest.mark.parametrize("split", ["ship_complete", "split_by_line", "split_within_line"])
def test_the_optimal_plan_is_never_worse_than_greedy_under_any_split_policy(
    db: Database, split: str
) -> None:
    with db.transaction() as session:
        factories.network(session)
        factories.order(session, "1001", lines=[("ABC-1", 3), ("XYZ-9", 2)])
        factories.order(session, "1002", lines=[("ABC-1", 4)])
        factories.order(session, "1003", lines=[("ABC-1", 6), ("XYZ-9", 1)])
        factories.order(session, "1004", lines=[("ABC-1", 2)], priority=2)

    rules = {"split": split}
    greedy = simulate(db, Strategy.GREEDY, rules=rules).proposed
    optimal = simulate(db, Strategy.OPTIMAL, rules=rules).proposed

    assert (optimal.orders, optimal.units) == (greedy.orders, greedy.units)
    assert optimal.objective <= greedy.objective


def test_capacity_stays_a_filter_as_in_the_greedy_simulation(db: Database) -> None:
    with db.transaction() as session:
        factories.network(
            session,
            on_hand={("ABC-1", "EDI"): 5},
            warehouse_settings={"EDI": {"daily_capacity": 1}, "DAL": {"daily_capacity": 0}},
        )
        factories.order(session, "1001", lines=[("ABC-1", 1)])
        factories.order(session, "1002", lines=[("ABC-1", 1)])
    rules = {"filters": ["serves_channel", "below_capacity", "holds_whole_line"]}

    greedy = simulate(db, Strategy.GREEDY, rules=rules).proposed
    optimal = simulate(db, Strategy.OPTIMAL, rules=rules).proposed

    assert greedy.planned_units == optimal.planned_units == 2
    assert optimal.objective <= greedy.objective
