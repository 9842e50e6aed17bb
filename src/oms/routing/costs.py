"""What a plan costs: one objective for the greedy planner, the optimizer and their comparison.

A *shipment* is one warehouse's part of one demand (however many lines or units
it carries). Its cost is

    shipping(distance band, service level) + the warehouse's handling cost

where the band is the first whose `max_km` is at or above the distance (beyond
the last band, the last band's price applies), and a service level the band
does not price costs the band's dearest price (never underestimate). A
warehouse or destination without coordinates is `costs.unknown_distance_km` away.

`Plan.cost` is money: the sum of its shipments' costs. The *objective* both
strategies minimise adds a steering penalty, `costs.split_penalty` per shipment
beyond the first of a demand:

    objective(plan) = plan.cost + split_penalty × max(0, plan.shipments - 1)

Units left unserved (backordered or held) cost `costs.backorder_penalty` each,
far above any shipment's cost: without it, serving nothing would be optimal, and
a strategy that fills more would look worse.

    objective(plan) = ... + backorder_penalty × Σ plan.backordered
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from oms.kit.geo import haversine_km
from oms.routing.model import (
    Assignment,
    Candidate,
    CostModel,
    Demand,
    Destination,
    DistanceBand,
    Plan,
)

DEFAULT_COST_MODEL = CostModel(
    bands=(
        DistanceBand(300.0, {"standard": 6.0, "expedited": 11.0, "overnight": 24.0, "pickup": 0.0}),
        DistanceBand(800.0, {"standard": 8.5, "expedited": 15.0, "overnight": 32.0}),
        DistanceBand(1500.0, {"standard": 11.0, "expedited": 20.0, "overnight": 42.0}),
        DistanceBand(2500.0, {"standard": 14.0, "expedited": 26.0, "overnight": 55.0}),
        DistanceBand(5000.0, {"standard": 18.0, "expedited": 33.0, "overnight": 70.0}),
        DistanceBand(20000.0, {"standard": 45.0, "expedited": 80.0, "overnight": 150.0}),
    ),
    split_penalty=5.0,
)
"""The cost model routing plans orders with: parcel prices by distance band and service level
(about ground list prices for a 2 kg box; pickup is free nearby and dearest, never cheap, far
away), 5 per extra shipment. Warehouses add their own handling cost
(`attributes.handling_cost`)."""


def distance_km(destination: Destination, candidate: Candidate, costs: CostModel) -> float:
    """Haversine km from the warehouse to the ship-to, or the model's guess without coordinates."""
    if (
        destination.latitude is None
        or destination.longitude is None
        or candidate.latitude is None
        or candidate.longitude is None
    ):
        return costs.unknown_distance_km
    return haversine_km(
        candidate.latitude, candidate.longitude, destination.latitude, destination.longitude
    )


def shipping_cost(distance: float, service_level: str, costs: CostModel) -> float:
    """The band price of one shipment over `distance` km at `service_level` (no handling)."""
    if not costs.bands:
        return 0.0
    band = costs.bands[-1]
    for candidate_band in costs.bands:
        if distance <= candidate_band.max_km:
            band = candidate_band
            break
    price = band.cost.get(service_level)
    if price is None:
        return max(band.cost.values(), default=0.0)
    return price


def shipment_cost(
    distance: float, service_level: str, candidate: Candidate, costs: CostModel
) -> float:
    """One shipment from `candidate`: band price plus the warehouse's handling cost."""
    return shipping_cost(distance, service_level, costs) + candidate.handling_cost


@dataclass(frozen=True)
class PlanCost:
    """What a set of assignments costs: money, kilometres, and how many shipments."""

    cost: float
    distance_km: float
    shipments: int


def plan_cost(
    demand: Demand,
    candidates: Mapping[int, Candidate],
    assignments: Iterable[Assignment],
    costs: CostModel,
) -> PlanCost:
    """Cost, distance (summed over shipments) and shipments of `assignments` for `demand`.

    `candidates` maps warehouse id → candidate; every assigned warehouse must be in it.
    """
    warehouses = sorted({a.warehouse_id for a in assignments if a.quantity > 0})
    total_cost = 0.0
    total_km = 0.0
    for warehouse_id in warehouses:
        candidate = candidates[warehouse_id]
        km = distance_km(demand.destination, candidate, costs)
        total_km += km
        total_cost += shipment_cost(km, demand.service_level, candidate, costs)
    return PlanCost(cost=total_cost, distance_km=total_km, shipments=len(warehouses))


def split_penalty(shipments: int, costs: CostModel) -> float:
    """The penalty for the shipments of one demand beyond its first."""
    return costs.split_penalty * max(0, shipments - 1)


def plan_objective(plans: Plan | Sequence[Plan], costs: CostModel) -> float:
    """The objective both strategies minimise, summed over `plans`: cost, split penalties and
    the backorder penalty per unit left unserved."""
    if isinstance(plans, Plan):
        plans = (plans,)
    return sum(
        (
            plan.cost
            + split_penalty(plan.shipments, costs)
            + costs.backorder_penalty * sum(plan.backordered.values())
            for plan in plans
        ),
        0.0,
    )
