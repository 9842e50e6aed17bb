"""What-if routing, `POST /api/v1/routing/simulate`: a rule set over the stored orders of the
last N days next to the active rule sets, changing nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from oms.api.deps import SessionDep, require
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.routing import simulation
from oms.routing.simulation import SimulationIn, SimulationOut

router = APIRouter(tags=["routing"])

Manager = Annotated[Principal, Depends(require(Permission.ROUTING_MANAGE))]


@router.post("/api/v1/routing/simulate")
def simulate_routing(body: SimulationIn, tx: SessionDep, actor: Manager) -> SimulationOut:
    """Plan the orders placed in the last `days` (of `channel`, or every channel) under the
    given rules (`rules`, or the stored version `rule_set_id`) and under each channel's active
    rule set, from the same stock (available now plus what those orders hold): units,
    planned and backordered units, fill rate, shipments, split orders, cost, distance and
    objective of both. `strategy` plans the proposed rules: greedy, order by order as
    production does, or optimal, every order at once (HiGHS), never worse than greedy on
    the objective; the active rules are always planned greedily. No reservation, plan or
    fulfillment order is made."""
    return simulation.simulate(tx, body, actor=actor)
