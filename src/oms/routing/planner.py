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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oms.routing import costs as costing
from oms.routing.model import (
    DEFAULT_RULE_SET,
    Assignment,
    Candidate,
    CandidateTrace,
    CostModel,
    Demand,
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
_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


@dataclass(slots=True, eq=False)
class _Warehouse:
    """A candidate with what the planner works out once per demand."""

    candidate: Candidate
    wid: int
    code: str
    available: Mapping[int, int]
    distance_km: float
    cost: float
    """One shipment from here for this demand: band price plus handling."""
    scores: tuple[float, float]
    """distance_km and cost, rounded once for the trace."""
    static_reasons: tuple[str, ...]
    """Failed filters that do not depend on the line (channel, country, capacity)."""
    hazmat_reason: str | None
    """Set when hazmat lines are filtered and the warehouse is not capable."""


@dataclass(slots=True)
class _Take:
    warehouse: _Warehouse
    quantity: int
    already_shipping: bool


_Outcome = tuple[list[Assignment], dict[int, int], bool, list[LineTrace], list[str]]


def plan(
    demand: Demand,
    candidates: Sequence[Candidate],
    *,
    rules: RuleSet = DEFAULT_RULE_SET,
    costs: CostModel,
) -> Plan:
    """Plan `demand` over `candidates` greedily under `rules`; the trace says why."""
    warehouses = _prepare(demand, candidates, rules, costs)
    order, able = _able_to_ship_everything(demand, warehouses, rules)
    if able or rules.split is SplitPolicy.SHIP_COMPLETE:
        outcome = _ship_from_one_warehouse(demand, order, able, rules)
    else:
        outcome = _plan_line_by_line(demand, warehouses, rules)
    assignments, backordered, hold, traces, notes = outcome
    totals = costing.plan_cost(demand, {w.wid: w.candidate for w in warehouses}, assignments, costs)
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
    channel_reason = f"does not serve channel {demand.channel}"
    country = demand.destination.country
    country_reason = f"does not ship to {country}"
    prepared = []
    for candidate in candidates:
        reasons: tuple[str, ...] = ()
        if Filter.SERVES_CHANNEL in filters and not candidate.serves_channel:
            reasons += (channel_reason,)
        if (
            Filter.SHIPS_TO_COUNTRY in filters
            and candidate.ships_to is not None
            and country not in candidate.ships_to
        ):
            reasons += (country_reason,)
        if (
            Filter.BELOW_CAPACITY in filters
            and candidate.capacity_left is not None
            and candidate.capacity_left <= 0
        ):
            reasons += ("no capacity left today",)
        hazmat = None
        if Filter.HAZMAT_CAPABLE in filters and not candidate.hazmat_capable:
            hazmat = "not hazmat capable"
        km = costing.distance_km(demand.destination, candidate, costs)
        cost = costing.shipment_cost(km, demand.service_level, candidate, costs)
        prepared.append(
            _Warehouse(
                candidate=candidate,
                wid=candidate.warehouse_id,
                code=candidate.code,
                available=candidate.available,
                distance_km=km,
                cost=cost,
                scores=(round(km, 3), round(cost, 4)),
                static_reasons=reasons,
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
    key.append(warehouse.code)
    key.append(warehouse.wid)
    return tuple(key)


def _trace(
    warehouse: _Warehouse,
    reasons: tuple[str, ...],
    stock: int,
    *,
    chosen: bool,
    why: str,
) -> CandidateTrace:
    distance, cost = warehouse.scores
    return CandidateTrace(
        warehouse_id=warehouse.wid,
        code=warehouse.code,
        eligible=not reasons,
        reasons=reasons,
        scores={
            "distance_km": distance,
            "priority": warehouse.candidate.priority,
            "stock": stock,
            "cost": cost,
        },
        chosen=chosen,
        why=why,
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else _SUFFIXES.get(n % 10, "th")
    return f"{n}{suffix}"


# --- one warehouse for the whole demand -------------------------------------------------------


def _needs(demand: Demand) -> dict[int, int]:
    """item id → units the whole demand needs (two lines of one item add up)."""
    totals: dict[int, int] = {}
    for line in demand.lines:
        totals[line.item_id] = totals.get(line.item_id, 0) + line.quantity
    return totals


def _able_to_ship_everything(
    demand: Demand, warehouses: list[_Warehouse], rules: RuleSet
) -> tuple[list[_Warehouse], list[_Warehouse]]:
    """Every warehouse in rank order for the whole demand, and those that could ship it all."""
    needs = _needs(demand)
    order = warehouses
    if Ranking.MOST_STOCK in rules.ranking:
        # For the whole demand, "most stock" is the stock of all its items together.
        order = sorted(
            warehouses,
            key=lambda w: _rank_key(w, sum(w.available.get(i, 0) for i in needs), rules.ranking),
        )
    if not demand.lines:
        return order, []
    hazmat = any(line.hazmat for line in demand.lines)
    able = [
        w
        for w in order
        if not w.static_reasons
        and not (hazmat and w.hazmat_reason)
        and all(w.available.get(item, 0) >= need for item, need in needs.items())
    ]
    return order, able


def _ship_from_one_warehouse(
    demand: Demand, order: list[_Warehouse], able: list[_Warehouse], rules: RuleSet
) -> _Outcome:
    needs = _needs(demand)
    chosen = able[0] if able else None
    hold = chosen is None and rules.fallback is Fallback.HOLD_FOR_REVIEW
    if chosen is None:
        verdict = "no warehouse can ship the whole demand"
        notes = [verdict + ("; held for review" if hold else "; every line backordered")]
    else:
        verdict = f"{chosen.code} ships the whole demand"
        notes = [verdict]

    # What each warehouse fails, line by line; and, said once, why it does or cannot ship it all.
    reasons: dict[int, list[tuple[str, ...]]] = {}
    why: dict[int, str] = {}
    rank = {w.wid: n for n, w in enumerate(able, start=1)}
    for warehouse in order:
        per_line = []
        for line in demand.lines:
            found = warehouse.static_reasons
            if line.hazmat and warehouse.hazmat_reason is not None:
                found += (warehouse.hazmat_reason,)
            free = warehouse.available.get(line.item_id, 0)
            if free < needs[line.item_id]:
                found += (f"holds {free} of {needs[line.item_id]}",)
            per_line.append(found)
        reasons[warehouse.wid] = per_line
        if warehouse.wid in rank:
            why[warehouse.wid] = (
                f"ranked {_ordinal(rank[warehouse.wid])} of {len(able)} able to ship it all"
            )
        else:
            n, failed = next((n, r) for n, r in enumerate(per_line) if r)
            why[warehouse.wid] = (
                f"cannot ship the whole demand (line {demand.lines[n].key}: {', '.join(failed)})"
            )

    assignments: list[Assignment] = []
    backordered: dict[int, int] = {}
    traces: list[LineTrace] = []
    for index, line in enumerate(demand.lines):
        entries = []
        for warehouse in order:
            found = reasons[warehouse.wid][index]
            text = _NOT_ELIGIBLE if found else why[warehouse.wid]
            if warehouse is chosen:
                text += f"; took {line.quantity}"
            stock = warehouse.available.get(line.item_id, 0)
            entries.append(_trace(warehouse, found, stock, chosen=warehouse is chosen, why=text))
        left = line.quantity
        if chosen is not None:
            assignments.append(
                Assignment(line_key=line.key, warehouse_id=chosen.wid, quantity=line.quantity)
            )
            left = 0
        elif left:
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
    by_stock = Ranking.MOST_STOCK in rules.ranking
    cap = rules.max_shipments
    taken: dict[tuple[int, int], int] = {}
    """(warehouse id, item id) → units planned by earlier lines of this demand."""
    shipping: set[int] = set()
    """Warehouses already shipping part of this demand."""
    assignments: list[Assignment] = []
    backordered: dict[int, int] = {}
    hold = False
    traces: list[LineTrace] = []
    notes: list[str] = []

    for line in demand.lines:
        item = line.item_id
        quantity = line.quantity
        free: dict[int, int] = {}
        for w in warehouses:
            units = w.available.get(item, 0)
            if taken:
                units -= taken.get((w.wid, item), 0)
            free[w.wid] = units
        ordered = warehouses
        if by_stock:
            ordered = sorted(warehouses, key=lambda w: _rank_key(w, free[w.wid], rules.ranking))

        reasons: dict[int, tuple[str, ...]] = {}
        rank: dict[int, int] = {}
        # Preference: holds the whole line and already ships, holds it and new, then
        # (when a partial line may ship) holds part and already ships, holds part and new.
        groups: tuple[list[_Warehouse], ...] = ([], [], [], [])
        for w in ordered:
            found = w.static_reasons
            if line.hazmat and w.hazmat_reason is not None:
                found += (w.hazmat_reason,)
            units = free[w.wid]
            holds_all = units >= quantity
            if whole_line_filter and not holds_all:
                found += (f"holds {units} of {quantity}",)
            reasons[w.wid] = found
            if found:
                continue
            rank[w.wid] = len(rank) + 1
            if holds_all:
                groups[0 if w.wid in shipping else 1].append(w)
            elif units > 0:
                groups[2 if w.wid in shipping else 3].append(w)

        takes: list[_Take] = []
        passed_over: dict[int, str] = {}
        left = quantity
        opened = len(shipping)
        for w in (w for group in groups for w in group):
            if left == 0:
                break
            already = w.wid in shipping
            if not already and cap is not None and opened >= cap:
                passed_over[w.wid] = f"would be shipment {opened + 1} of at most {cap}"
                continue
            units = min(free[w.wid], left)
            takes.append(_Take(w, units, already))
            left -= units
            opened += 0 if already else 1
            if not within:
                break

        served = quantity - left
        keep = left == 0 or rules.fallback is Fallback.BACKORDER
        if keep:
            for take in takes:
                key = (take.warehouse.wid, item)
                taken[key] = taken.get(key, 0) + take.quantity
                shipping.add(take.warehouse.wid)
                assignments.append(
                    Assignment(
                        line_key=line.key, warehouse_id=take.warehouse.wid, quantity=take.quantity
                    )
                )
        else:
            hold = True
            left = quantity
        if left:
            backordered[line.key] = left

        by_warehouse = {t.warehouse.wid: t for t in takes}
        covered_by = ", ".join(t.warehouse.code for t in takes)
        entries = []
        for w in ordered:
            found = reasons[w.wid]
            units = free[w.wid]
            mine = by_warehouse.get(w.wid)
            if found:
                text = _NOT_ELIGIBLE
            else:
                text = f"ranked {_ordinal(rank[w.wid])}"
                if mine is not None:
                    if mine.already_shipping:
                        text += ", already shipping part of this demand"
                    if keep:
                        text += f"; took {mine.quantity}"
                    else:
                        text += (
                            f"; could take {mine.quantity}, but only {served} of {quantity}"
                            " can be served: held"
                        )
                elif w.wid in passed_over:
                    text += f"; {passed_over[w.wid]}"
                elif units < quantity:
                    text += f"; holds {units} of {quantity}"
                    if units and not within and takes:
                        text += f"; the line ships from {covered_by} alone"
                elif takes:
                    text += f"; line covered by {covered_by}"
            entries.append(_trace(w, found, units, chosen=mine is not None and keep, why=text))

        if not keep:
            note = f"only {served} of {quantity} can be served: held for review"
            notes.append(f"line {line.key} ({line.sku}): {note}")
        elif left:
            note = f"{left} of {quantity} backordered"
        else:
            note = ""
        traces.append(
            LineTrace(
                line_key=line.key,
                sku=line.sku,
                quantity=quantity,
                candidates=tuple(entries),
                backordered=left,
                note=note,
            )
        )
    return assignments, backordered, hold, traces, notes
