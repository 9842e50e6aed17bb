"""The optimal strategy's plans and traces: what the solution says, per demand, in words.

Every line lists every candidate of its demand, cheapest shipment first (then
nearest, then code), with the planner's score components (distance_km,
priority, stock, cost) and filters. The `why` of an eligible candidate:

- "chosen by the optimal plan; took N";
- "not chosen: its stock went to other demands of the batch" (the batch drew
  all of it, or all but too little for the line: "(2 of 5 left)") or
  "... its capacity today went to other demands of the batch";
- "not chosen: dearer than CODE" (one shipment from it costs more than from
  the warehouse that ships the line) or "not chosen: cheaper combination
  elsewhere" (it is as cheap alone, but the plan as a whole is cheaper without
  it: fewer shipments, or its stock serves a demand ranked ahead);
- "not chosen: holds N of Q" where a line can only ship whole;
- "not chosen: the line is left unserved" otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oms.routing import costs as costing
from oms.routing.model import (
    Assignment,
    Candidate,
    CandidateTrace,
    CostModel,
    Demand,
    Fallback,
    LineTrace,
    Plan,
    RuleSet,
    SplitPolicy,
    Strategy,
)


@dataclass(frozen=True)
class Outcome:
    """What the solution gives one demand."""

    demand: Demand
    candidates: Sequence[Candidate]
    rules: RuleSet
    taken: Mapping[tuple[int, int], int]
    """(line key, warehouse id) → units."""
    left: Mapping[int, int]
    """line key → units unserved."""
    shipping: set[int]
    reasons: Mapping[tuple[int, int], list[str]]
    whole_able: set[int]
    """Under ship_complete: the warehouses able to ship every line whole."""


def build_plan(
    outcome: Outcome,
    *,
    used: Mapping[tuple[int, int], int],
    pool: Mapping[tuple[int, int], int],
    capacity: Mapping[int, int],
    costs: CostModel,
) -> Plan:
    """The demand's `Plan` (strategy optimal) with a trace for every candidate of every line."""
    demand = outcome.demand
    by_id = {c.warehouse_id: c for c in outcome.candidates}
    order = {line.key: n for n, line in enumerate(demand.lines)}
    assignments = tuple(
        Assignment(line_key=line_key, warehouse_id=wid, quantity=units)
        for (line_key, wid), units in sorted(
            outcome.taken.items(), key=lambda kv: (order[kv[0][0]], by_id[kv[0][1]].code)
        )
    )
    backordered = {key: left for key, left in outcome.left.items() if left > 0}
    hold = bool(backordered) and outcome.rules.fallback is Fallback.HOLD_FOR_REVIEW
    totals = costing.plan_cost(demand, by_id, assignments, costs)
    shipment = {
        c.warehouse_id: costing.shipment_cost(
            costing.distance_km(demand.destination, c, costs), demand.service_level, c, costs
        )
        for c in outcome.candidates
    }
    ranked = sorted(
        outcome.candidates,
        key=lambda c: (
            shipment[c.warehouse_id],
            costing.distance_km(demand.destination, c, costs),
            c.code,
            c.warehouse_id,
        ),
    )
    traces = []
    for line in demand.lines:
        left = outcome.left.get(line.key, line.quantity)
        from_codes = [by_id[w].code for (k, w) in outcome.taken if k == line.key]
        cheapest_chosen = min(
            (shipment[w] for (k, w) in outcome.taken if k == line.key), default=None
        )
        entries = []
        for c in ranked:
            wid = c.warehouse_id
            reasons = outcome.reasons.get((line.key, wid), [])
            units = outcome.taken.get((line.key, wid), 0)
            stock = c.available.get(line.item_id, 0)
            if units:
                why = f"chosen by the optimal plan; took {units}"
            elif reasons:
                why = "not eligible"
            else:
                why = _why_not(
                    outcome,
                    c,
                    line_quantity=line.quantity,
                    stock=stock,
                    remaining=pool.get((wid, line.item_id), 0) - used.get((wid, line.item_id), 0),
                    full=wid in capacity and used.get((wid, -1), 0) >= capacity[wid],
                    cost=shipment[wid],
                    cheapest_chosen=cheapest_chosen,
                    chosen_codes=from_codes,
                )
            entries.append(
                CandidateTrace(
                    warehouse_id=wid,
                    code=c.code,
                    eligible=not reasons,
                    reasons=tuple(reasons),
                    scores={
                        "distance_km": round(costing.distance_km(demand.destination, c, costs), 3),
                        "priority": c.priority,
                        "stock": stock,
                        "cost": round(shipment[wid], 4),
                    },
                    chosen=units > 0,
                    why=why,
                )
            )
        if left and hold:
            note = f"{left} of {line.quantity} unserved: held for review"
        elif left:
            note = f"{left} of {line.quantity} backordered"
        else:
            note = ""
        traces.append(
            LineTrace(
                line_key=line.key,
                sku=line.sku,
                quantity=line.quantity,
                candidates=tuple(entries),
                backordered=left,
                note=note,
            )
        )
    return Plan(
        demand_key=demand.key,
        assignments=assignments,
        backordered=backordered,
        hold_for_review=hold,
        trace=tuple(traces),
        strategy=Strategy.OPTIMAL,
        cost=totals.cost,
        distance_km=totals.distance_km,
        shipments=totals.shipments,
        notes=("planned with the whole batch by the optimal strategy",),
    )


def _why_not(
    outcome: Outcome,
    candidate: Candidate,
    *,
    line_quantity: int,
    stock: int,
    remaining: int,
    full: bool,
    cost: float,
    cheapest_chosen: float | None,
    chosen_codes: list[str],
) -> str:
    wid = candidate.warehouse_id
    ship_complete = outcome.rules.split is SplitPolicy.SHIP_COMPLETE
    if ship_complete and wid not in outcome.whole_able:
        return "not chosen: cannot ship the whole demand"
    if stock == 0:
        return "not chosen: holds none"
    if remaining <= 0:
        return "not chosen: its stock went to other demands of the batch"
    if remaining < line_quantity and cheapest_chosen is None:
        return (
            f"not chosen: its stock went to other demands of the batch"
            f" ({remaining} of {line_quantity} left)"
        )
    if full and wid not in outcome.shipping:
        return "not chosen: its capacity today went to other demands of the batch"
    if cheapest_chosen is not None and cost > cheapest_chosen + 1e-9:
        return f"not chosen: dearer than {', '.join(sorted(set(chosen_codes)))}"
    if cheapest_chosen is not None:
        return "not chosen: cheaper combination elsewhere"
    if stock < line_quantity:
        return f"not chosen: holds {stock} of {line_quantity}"
    return "not chosen: the line is left unserved"
