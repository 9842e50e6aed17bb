"""The greedy strategy: one demand at a time, each line to the best warehouse the rules allow.

Pure: plain data in, a `Plan` out; no session, no clock, no I/O. The same
input always gives the same plan, down to the trace.

Filters (those named in the rule set; each one a candidate fails is a reason
in the trace):

- serves_channel: the warehouse may serve the demand's channel.
- ships_to_country: `ships_to` is None (anywhere) or holds the destination country.
- hazmat_capable: only for hazmat lines; the warehouse must be hazmat capable.
- below_capacity: `capacity_left` is None or above 0. A new shipment takes one
  order of capacity; a warehouse already shipping part of this demand takes no
  more, so within one demand the filter is the same for every line.
- holds_whole_line: the warehouse's stock still free for the item is at least
  the line's quantity ("holds 3 of 5"). Under split_within_line it only orders
  preference (warehouses holding the whole line are tried first) and a
  shortfall is said in `why`, not in `reasons`.

Stock is consumed as lines are planned: two lines of one item share it, and
`stock` in the trace is what was still free when the line was planned.

Ranking: the rule set's criteria in order, each breaking the previous one's
ties (distance ascending, priority ascending, most stock descending, lowest
cost ascending), then the warehouse code, then its id, so ties are
deterministic. `cost` is what one shipment from the warehouse costs for this
demand (band price by distance and service level plus handling, see
`costs.py`). The trace records every component (distance_km, priority,
stock, cost) for every candidate, eligible or not, and lists candidates in
rank order.

Split policies:

- ship_complete: one warehouse must pass the filters for every line and hold
  every line whole (holds_whole_line applies whatever the filters say); the
  best ranked such warehouse ships it all. If none can, the fallback takes
  the whole demand.
- split_by_line and split_within_line first look for one warehouse that can
  ship the whole demand, exactly as ship_complete does; if one can, it ships
  everything (one shipment always beats a split on the objective). Otherwise
  the lines are planned in the demand's order:
  - split_by_line: each line ships from one warehouse. Preference: a
    warehouse already shipping part of this demand before a new one (to
    avoid an extra shipment), each group in rank order. If holds_whole_line
    is not a filter, and no eligible warehouse holds the whole line, the line
    goes to the first warehouse in that preference holding any of it, and
    the rest falls to the fallback.
  - split_within_line: warehouses holding the whole line come first (already
    shipping, then new), then those holding part of it (already shipping,
    then new); units are taken in that order until the line is covered.
- max_shipments caps the distinct warehouses of the demand: once reached, a
  new warehouse is passed over ("would be shipment 3 of at most 2") and what
  the others cannot cover falls to the fallback.

Fallback, for the units of a line no warehouse can serve:

- backorder: what could be served is assigned; the rest of each line is in
  `plan.backordered` (line key → units), to wait for stock.
- hold_for_review: a line that cannot be served in full gets nothing (its
  stock stays free for the later lines), its whole quantity is in
  `plan.backordered`, and `plan.hold_for_review` is True; lines that can be
  served in full keep their assignments. Under ship_complete every line is
  unassigned.

`plan.backordered` lists only lines with units left. Cost, distance (summed
over shipments) and shipments (distinct warehouses) come from `costs.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms.routing import costs as costing
from oms.routing.model import (
    DEFAULT_RULE_SET,
    Assignment,
    Candidate,
    CandidateTrace,
    CostModel,
    Demand,
    DemandLine,
    Fallback,
    Filter,
    LineTrace,
    Plan,
    Ranking,
    RuleSet,
    SplitPolicy,
    Strategy,
)

_NOT_ELIGIBLE = "not eligible"


@dataclass(slots=True)
class _Warehouse:
    """A candidate with what the planner works out once per demand."""

    candidate: Candidate
    distance_km: float
    cost: float
    static_reasons: tuple[str, ...]
    """Failed filters that do not depend on the line (channel, country, capacity)."""
    hazmat_reason: str | None
    """Set when hazmat lines are filtered and the warehouse is not capable."""


@dataclass(slots=True)
class _Take:
    warehouse: _Warehouse
    quantity: int
    already_shipping: bool


class _Stock:
    """Units still free per (warehouse, item): the candidates' stock minus what was planned."""

    __slots__ = ("_taken",)

    def __init__(self) -> None:
        self._taken: dict[tuple[int, int], int] = {}

    def free(self, warehouse: _Warehouse, item_id: int) -> int:
        candidate = warehouse.candidate
        available = candidate.available.get(item_id, 0)
        taken = self._taken.get((candidate.warehouse_id, item_id), 0)
        return max(0, available - taken)

    def take(self, warehouse: _Warehouse, item_id: int, quantity: int) -> None:
        key = (warehouse.candidate.warehouse_id, item_id)
        self._taken[key] = self._taken.get(key, 0) + quantity


def plan(
    demand: Demand,
    candidates: Sequence[Candidate],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
) -> Plan:
    """Plan `demand` over `candidates` greedily under `rules`; the trace says why."""
    warehouses = _prepare(demand, candidates, rules, costs)
    whole = _look_for_one_warehouse(demand, warehouses, rules)
    if whole.able or rules.split is SplitPolicy.SHIP_COMPLETE:
        assignments, backordered, hold, traces, notes = _ship_from_one_warehouse(
            demand, rules, whole
        )
    else:
        assignments, backordered, hold, traces, notes = _plan_line_by_line(
            demand, warehouses, rules
        )
    totals = costing.plan_cost(
        demand, {w.candidate.warehouse_id: w.candidate for w in warehouses}, assignments, costs
    )
    return Plan(
        demand_key=demand.key,
        assignments=tuple(assignments),
        backordered=backordered,
        hold_for_review=hold,
        trace=tuple(traces),
        strategy=Strategy.GREEDY,
        cost=totals.cost,
        distance_km=totals.distance_km,
        shipments=totals.shipments,
        notes=tuple(notes),
    )


# --- once per demand ---------------------------------------------------------------------------


def _prepare(
    demand: Demand, candidates: Sequence[Candidate], rules: RuleSet, costs: CostModel
) -> list[_Warehouse]:
    filters = set(rules.filters)
    country = demand.destination.country
    prepared = []
    for candidate in candidates:
        reasons = []
        if Filter.SERVES_CHANNEL in filters and not candidate.serves_channel:
            reasons.append(f"does not serve channel {demand.channel}")
        if (
            Filter.SHIPS_TO_COUNTRY in filters
            and candidate.ships_to is not None
            and country not in candidate.ships_to
        ):
            reasons.append(f"does not ship to {country}")
        if (
            Filter.BELOW_CAPACITY in filters
            and candidate.capacity_left is not None
            and candidate.capacity_left <= 0
        ):
            reasons.append("no capacity left today")
        hazmat = None
        if Filter.HAZMAT_CAPABLE in filters and not candidate.hazmat_capable:
            hazmat = "not hazmat capable"
        km = costing.distance_km(demand.destination, candidate, costs)
        prepared.append(
            _Warehouse(
                candidate=candidate,
                distance_km=km,
                cost=costing.shipment_cost(km, demand.service_level, candidate, costs),
                static_reasons=tuple(reasons),
                hazmat_reason=hazmat,
            )
        )
    if Ranking.MOST_STOCK not in rules.ranking:
        # Without stock in the ranking the order is the same for every line: sort once.
        prepared.sort(key=lambda w: _rank_key(w, 0, rules.ranking))
    return prepared


def _rank_key(
    warehouse: _Warehouse, stock: int, ranking: Sequence[Ranking]
) -> tuple[float | str, ...]:
    key: list[float | str] = []
    for criterion in ranking:
        if criterion is Ranking.DISTANCE:
            key.append(warehouse.distance_km)
        elif criterion is Ranking.PRIORITY:
            key.append(warehouse.candidate.priority)
        elif criterion is Ranking.MOST_STOCK:
            key.append(-stock)
        else:
            key.append(warehouse.cost)
    key.append(warehouse.candidate.code)
    key.append(warehouse.candidate.warehouse_id)
    return tuple(key)


def _line_reasons(
    warehouse: _Warehouse, line: DemandLine, free: int, needed: int, *, whole_line: bool
) -> list[str]:
    reasons = list(warehouse.static_reasons)
    if line.hazmat and warehouse.hazmat_reason is not None:
        reasons.append(warehouse.hazmat_reason)
    if whole_line and free < needed:
        reasons.append(f"holds {free} of {needed}")
    return reasons


def _scores(warehouse: _Warehouse, stock: int) -> dict[str, float]:
    return {
        "distance_km": round(warehouse.distance_km, 3),
        "priority": warehouse.candidate.priority,
        "stock": stock,
        "cost": round(warehouse.cost, 4),
    }


# --- one warehouse for the whole demand -------------------------------------------------------


@dataclass(slots=True)
class _Whole:
    """The outcome of looking for one warehouse that ships every line."""

    order: list[_Warehouse]
    """Every warehouse, in rank order for the whole demand."""
    reasons: dict[int, list[list[str]]]
    """warehouse id → per line (demand order) the filters it fails."""
    able: list[_Warehouse]
    """Warehouses that can ship every line, in rank order."""


def _look_for_one_warehouse(demand: Demand, warehouses: list[_Warehouse], rules: RuleSet) -> _Whole:
    """Which warehouses could ship the whole demand, and what stops the others."""
    totals: dict[int, int] = {}
    for line in demand.lines:
        totals[line.item_id] = totals.get(line.item_id, 0) + line.quantity
    order = warehouses
    if Ranking.MOST_STOCK in rules.ranking:
        # For the whole demand, "most stock" is the stock of all its items together.
        order = sorted(
            warehouses,
            key=lambda w: _rank_key(
                w, sum(w.candidate.available.get(i, 0) for i in totals), rules.ranking
            ),
        )
    reasons: dict[int, list[list[str]]] = {}
    able = []
    for warehouse in order:
        available = warehouse.candidate.available
        per_line = [
            _line_reasons(
                warehouse,
                line,
                available.get(line.item_id, 0),
                totals[line.item_id],
                whole_line=True,
            )
            for line in demand.lines
        ]
        reasons[warehouse.candidate.warehouse_id] = per_line
        if demand.lines and not any(per_line):
            able.append(warehouse)
    return _Whole(order=order, reasons=reasons, able=able)


_Outcome = tuple[list[Assignment], dict[int, int], bool, list[LineTrace], list[str]]


def _ship_from_one_warehouse(demand: Demand, rules: RuleSet, whole: _Whole) -> _Outcome:
    chosen = whole.able[0] if whole.able else None
    able_rank = {w.candidate.warehouse_id: i for i, w in enumerate(whole.able, start=1)}
    hold = chosen is None and rules.fallback is Fallback.HOLD_FOR_REVIEW
    assignments: list[Assignment] = []
    backordered: dict[int, int] = {}
    traces: list[LineTrace] = []
    if chosen is None:
        verdict = "no warehouse can ship the whole demand"
        notes = [verdict + ("; held for review" if hold else "; every line backordered")]
    else:
        verdict = f"{chosen.candidate.code} ships the whole demand"
        notes = [verdict]
    for index, line in enumerate(demand.lines):
        entries = []
        for warehouse in whole.order:
            wid = warehouse.candidate.warehouse_id
            reasons = whole.reasons[wid][index]
            is_chosen = warehouse is chosen
            if reasons:
                why = _NOT_ELIGIBLE
            elif wid in able_rank:
                why = f"ranked {_ordinal(able_rank[wid])} of {len(whole.able)} able to ship it all"
                if is_chosen:
                    why += f"; took {line.quantity}"
            else:
                n, failed = next((n, r) for n, r in enumerate(whole.reasons[wid]) if r)
                why = (
                    f"cannot ship the whole demand"
                    f" (line {demand.lines[n].key}: {', '.join(failed)})"
                )
            entries.append(
                CandidateTrace(
                    warehouse_id=wid,
                    code=warehouse.candidate.code,
                    eligible=not reasons,
                    reasons=tuple(reasons),
                    scores=_scores(warehouse, warehouse.candidate.available.get(line.item_id, 0)),
                    chosen=is_chosen,
                    why=why,
                )
            )
        if chosen is not None:
            assignments.append(
                Assignment(
                    line_key=line.key,
                    warehouse_id=chosen.candidate.warehouse_id,
                    quantity=line.quantity,
                )
            )
            left = 0
        else:
            left = line.quantity
            if left:
                backordered[line.key] = left
        traces.append(
            LineTrace(
                line_key=line.key,
                sku=line.sku,
                quantity=line.quantity,
                candidates=tuple(entries),
                backordered=left,
                note=verdict,
            )
        )
    return assignments, backordered, hold, traces, notes


# --- line by line -----------------------------------------------------------------------------


def _plan_line_by_line(demand: Demand, warehouses: list[_Warehouse], rules: RuleSet) -> _Outcome:
    within = rules.split is SplitPolicy.SPLIT_WITHIN_LINE
    whole_line_filter = Filter.HOLDS_WHOLE_LINE in rules.filters and not within
    cap = rules.max_shipments
    stock = _Stock()
    shipping: list[int] = []
    """Warehouse ids already shipping part of this demand, in the order they were chosen."""
    assignments: list[Assignment] = []
    backordered: dict[int, int] = {}
    hold = False
    traces: list[LineTrace] = []
    notes: list[str] = []

    for line in demand.lines:
        free = {w.candidate.warehouse_id: stock.free(w, line.item_id) for w in warehouses}
        ordered = warehouses
        if Ranking.MOST_STOCK in rules.ranking:
            ordered = sorted(
                warehouses,
                key=lambda w: _rank_key(w, free[w.candidate.warehouse_id], rules.ranking),
            )
        reasons: dict[int, list[str]] = {}
        rank: dict[int, int] = {}
        groups: tuple[list[_Warehouse], ...] = ([], [], [], [])
        for warehouse in ordered:
            wid = warehouse.candidate.warehouse_id
            found = _line_reasons(
                warehouse, line, free[wid], line.quantity, whole_line=whole_line_filter
            )
            reasons[wid] = found
            if found:
                continue
            rank[wid] = len(rank) + 1
            holds_all = free[wid] >= line.quantity
            if not holds_all and (whole_line_filter or free[wid] == 0):
                continue
            groups[(0 if holds_all else 2) + (0 if wid in shipping else 1)].append(warehouse)

        takes: list[_Take] = []
        why: dict[int, str] = {}
        left = line.quantity
        new_count = 0
        for warehouse in (w for group in groups for w in group):
            wid = warehouse.candidate.warehouse_id
            if left == 0:
                break
            already = wid in shipping
            if not already and cap is not None and len(shipping) + new_count >= cap:
                why[wid] = f"would be shipment {len(shipping) + new_count + 1} of at most {cap}"
                continue
            quantity = min(free[wid], left)
            takes.append(_Take(warehouse, quantity, already))
            left -= quantity
            new_count += 0 if already else 1
            if not within:
                break

        served = line.quantity - left
        keep = left == 0 or rules.fallback is Fallback.BACKORDER
        if not keep:
            hold = True
            left = line.quantity
        taken_by = {t.warehouse.candidate.warehouse_id: t for t in takes}
        for take in takes:
            if keep:
                wid = take.warehouse.candidate.warehouse_id
                stock.take(take.warehouse, line.item_id, take.quantity)
                if not take.already_shipping:
                    shipping.append(wid)
                assignments.append(
                    Assignment(line_key=line.key, warehouse_id=wid, quantity=take.quantity)
                )
        if left:
            backordered[line.key] = left

        covered_by = ", ".join(t.warehouse.candidate.code for t in takes)
        entries = []
        for warehouse in ordered:
            wid = warehouse.candidate.warehouse_id
            found = reasons[wid]
            mine = taken_by.get(wid)
            if found:
                text = _NOT_ELIGIBLE
            else:
                text = f"ranked {_ordinal(rank[wid])}"
                if mine is not None:
                    if mine.already_shipping:
                        text += ", already shipping part of this demand"
                    text += f"; took {mine.quantity}" if keep else f"; could take {mine.quantity}"
                    if not keep:
                        text += f", but only {served} of {line.quantity} can be served: held"
                elif wid in why:
                    text += f"; {why[wid]}"
                elif free[wid] < line.quantity:
                    text += f"; holds {free[wid]} of {line.quantity}"
                    if free[wid] and not within and takes:
                        text += f"; the line ships from {covered_by} alone"
                elif takes:
                    text += f"; line covered by {covered_by}"
            entries.append(
                CandidateTrace(
                    warehouse_id=wid,
                    code=warehouse.candidate.code,
                    eligible=not found,
                    reasons=tuple(found),
                    scores=_scores(warehouse, free[wid]),
                    chosen=mine is not None and keep,
                    why=text,
                )
            )
        if not keep:
            note = f"only {served} of {line.quantity} can be served: held for review"
            notes.append(f"line {line.key} ({line.sku}): {note}")
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
    return assignments, backordered, hold, traces, notes


_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else _SUFFIXES.get(n % 10, "th")
    return f"{n}{suffix}"
