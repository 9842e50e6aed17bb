"""What-if routing over HTTP: a rule set over stored orders next to the active one, changing
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from oms.audit import AuditEntry
from oms.db import Database
from oms.inventory import balances
from oms.inventory.models import Balance, Reservation
from oms.orders.models import OrderAllocation, OrderEvent, OrderLine
from oms.outbox.models import OutboxEvent
from oms.routing.models import FulfillmentOrder, RoutingPlan
from tests.conftest import AuthHeaders
from tests.integration.routing import factories

SIMULATE = "/api/v1/routing/simulate"
COUNTED = (
    Reservation,
    RoutingPlan,
    FulfillmentOrder,
    OrderAllocation,
    OrderEvent,
    AuditEntry,
    OutboxEvent,
)


@pytest.fixture
def routed(db: Database) -> Database:
    """Three orders of channel web routed on intake under the default rule set."""
    with db.transaction() as session:
        factories.network(session)
        factories.order(session, "1001", lines=[("ABC-1", 3), ("XYZ-9", 2)])
        factories.order(session, "1002", lines=[("ABC-1", 4)])
        factories.order(session, "1003", lines=[("ABC-1", 6), ("XYZ-9", 1)])
    return db


def state(db: Database) -> dict[str, Any]:
    """Row counts, balances and line buckets: what a simulation must leave as it was."""
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
        lines = sorted(
            session.execute(select(OrderLine.id, OrderLine.allocated, OrderLine.backordered)).all()
        )
        assert balances.verify(session).ok
        return {"counts": counts, "stock": stock, "lines": lines}


def test_a_simulation_reports_the_proposed_and_the_active_rule_set_side_by_side(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    response = client.post(
        SIMULATE, json={"rules": {"split": "split_within_line"}, "days": 7}, headers=admin
    )

    assert response.status_code == 200, response.text
    body = response.json()
    proposed, active = body["proposed"], body["active"]
    assert (proposed["orders"], proposed["units"]) == (3, 16)
    assert (active["orders"], active["units"]) == (3, 16)
    assert proposed["planned_units"] >= active["planned_units"]
    assert proposed["fill_rate"] == round(proposed["planned_units"] / 16, 4)
    assert proposed["backordered_units"] == 16 - proposed["planned_units"]
    assert active["cost"] > 0
    assert active["distance_km"] > 0


def test_a_simulation_changes_nothing(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    before = state(routed)

    response = client.post(
        SIMULATE, json={"rules": {"split": "ship_complete"}, "channel": "web"}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert state(routed) == before


def test_a_stored_rule_set_can_be_simulated_by_its_id(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    made = client.post(
        "/api/v1/routing/rule-sets",
        json={"channel": "web", "ranking": ["most_stock"]},
        headers=admin,
        params={"activate": "false"},
    ).json()

    response = client.post(SIMULATE, json={"rule_set_id": made["id"]}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["proposed"]["orders"] == 3


def test_the_optimal_strategy_plans_the_proposed_rules_and_says_so(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    before = state(routed)

    response = client.post(SIMULATE, json={"rules": {}, "strategy": "optimal"}, headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["strategy"], body["solver_status"]) == ("optimal", "Optimal")
    assert (body["proposed"]["orders"], body["proposed"]["units"]) == (3, 16)
    assert body["proposed"]["objective"] <= body["active"]["objective"]
    assert state(routed) == before


def test_a_greedy_simulation_names_its_strategy(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    response = client.post(SIMULATE, json={"rules": {}}, headers=admin)

    assert response.status_code == 200, response.text
    assert (response.json()["strategy"], response.json()["solver_status"]) == ("greedy", None)


def test_an_unknown_strategy_is_refused(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    response = client.post(SIMULATE, json={"rules": {}, "strategy": "psychic"}, headers=admin)

    assert response.status_code == 422


def test_rules_and_a_rule_set_id_together_are_refused(
    client: TestClient, admin: dict[str, str], routed: Database
) -> None:
    response = client.post(SIMULATE, json={"rules": {}, "rule_set_id": 1}, headers=admin)

    assert response.status_code == 422


def test_orders_older_than_the_window_are_left_out(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    with db.transaction() as session:
        factories.network(session)
        factories.order(session, "1001", placed_at="2020-01-01T00:00:00Z")

    response = client.post(SIMULATE, json={"rules": {}, "days": 30}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["proposed"]["orders"] == 0


def test_simulating_needs_routing_manage(
    client: TestClient, auth_headers: AuthHeaders, routed: Database
) -> None:
    response = client.post(SIMULATE, json={"rules": {}}, headers=auth_headers("sales_ops"))

    assert response.status_code == 403
