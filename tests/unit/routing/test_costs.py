"""One objective for both strategies: band price, handling, and a penalty per extra shipment."""

from __future__ import annotations

import pytest

from oms.routing.costs import (
    distance_km,
    plan_cost,
    plan_objective,
    shipment_cost,
    shipping_cost,
)
from oms.routing.model import (
    Assignment,
    Candidate,
    CostModel,
    Demand,
    DemandLine,
    Destination,
    DistanceBand,
    Plan,
)

COSTS = CostModel(
    bands=(
        DistanceBand(max_km=100, cost={"standard": 4.0, "express": 9.0}),
        DistanceBand(max_km=500, cost={"standard": 6.0, "express": 14.0}),
        DistanceBand(max_km=2000, cost={"standard": 10.0, "express": 25.0}),
    ),
    split_penalty=5.0,
    unknown_distance_km=1500.0,
)
PARIS = Destination(country="FR", latitude=48.8566, longitude=2.3522)


def warehouse(
    warehouse_id: int = 1,
    *,
    latitude: float | None = 48.8566,
    longitude: float | None = 2.3522,
    handling_cost: float = 0.0,
) -> Candidate:
    return Candidate(
        warehouse_id=warehouse_id,
        code=f"W{warehouse_id}",
        country="FR",
        latitude=latitude,
        longitude=longitude,
        available={},
        handling_cost=handling_cost,
    )


def demand(*, service_level: str = "standard") -> Demand:
    return Demand(
        key="SO-1",
        channel="web",
        destination=PARIS,
        lines=(
            DemandLine(key=1, item_id=10, sku="A", quantity=2),
            DemandLine(key=2, item_id=20, sku="B", quantity=1),
        ),
        service_level=service_level,
    )


def plan(*, cost: float, shipments: int) -> Plan:
    return Plan(
        demand_key="SO-1",
        assignments=(),
        backordered={},
        hold_for_review=False,
        trace=(),
        cost=cost,
        shipments=shipments,
    )


def test_the_first_band_reaching_the_distance_sets_the_price() -> None:
    assert shipping_cost(100, "standard", COSTS) == 4.0
    assert shipping_cost(100.1, "standard", COSTS) == 6.0
    assert shipping_cost(450, "express", COSTS) == 14.0


def test_beyond_the_last_band_the_last_band_prices_the_shipment() -> None:
    assert shipping_cost(9000, "standard", COSTS) == 10.0


def test_a_service_level_the_band_does_not_price_costs_its_dearest_price() -> None:
    assert shipping_cost(50, "overnight", COSTS) == 9.0


def test_without_bands_shipping_is_free() -> None:
    assert shipping_cost(50, "standard", CostModel(bands=())) == 0.0


def test_a_shipment_adds_the_warehouse_handling_cost_to_the_band_price() -> None:
    cost = shipment_cost(50, "express", warehouse(handling_cost=1.5), COSTS)

    assert cost == 10.5


def test_distance_is_haversine_between_warehouse_and_ship_to() -> None:
    london = warehouse(latitude=51.5074, longitude=-0.1278)

    assert distance_km(PARIS, london, COSTS) == pytest.approx(344, abs=2)


def test_a_warehouse_without_coordinates_is_the_models_unknown_distance_away() -> None:
    nowhere = warehouse(latitude=None, longitude=None)

    assert distance_km(PARIS, nowhere, COSTS) == 1500.0


def test_a_ship_to_without_coordinates_is_the_models_unknown_distance_away() -> None:
    assert distance_km(Destination(country="FR"), warehouse(), COSTS) == 1500.0


def test_a_plan_costs_one_shipment_per_distinct_warehouse() -> None:
    here = warehouse(1, handling_cost=1.0)
    london = warehouse(2, latitude=51.5074, longitude=-0.1278, handling_cost=2.0)
    assignments = (
        Assignment(line_key=1, warehouse_id=1, quantity=1),
        Assignment(line_key=1, warehouse_id=2, quantity=1),
        Assignment(line_key=2, warehouse_id=1, quantity=1),
    )

    totals = plan_cost(demand(), {1: here, 2: london}, assignments, COSTS)

    assert totals.shipments == 2
    assert totals.cost == (4.0 + 1.0) + (6.0 + 2.0)
    assert totals.distance_km == pytest.approx(344, abs=2)


def test_a_plan_with_nothing_assigned_costs_nothing() -> None:
    totals = plan_cost(demand(), {}, (), COSTS)

    assert (totals.cost, totals.distance_km, totals.shipments) == (0.0, 0.0, 0)


def test_the_objective_adds_a_split_penalty_per_shipment_beyond_the_first() -> None:
    plans = [plan(cost=10.0, shipments=3), plan(cost=4.0, shipments=1), plan(cost=0, shipments=0)]

    assert plan_objective(plans, COSTS) == 10.0 + 2 * 5.0 + 4.0


def test_the_objective_of_one_plan_needs_no_list() -> None:
    assert plan_objective(plan(cost=7.0, shipments=2), COSTS) == 12.0
