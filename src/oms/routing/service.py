"""Routing one demand: candidates from the catalog and stock, the greedy plan, reservations,
the stored plan with its trace, and a fulfillment order per warehouse.

    lines, ship-to, channel ─► rules (channel's active version, else the default's, else
                               the built-in default)
                             ─► candidates: every active warehouse with its stock for the
                               lines' items, coordinates, country, channel link, hazmat
                               capability, capacity left today
                             ─► planner.plan (pure; the trace says why)
                             ─► reserve_many: a unit a concurrent order took meanwhile is
                               backordered
                             ─► routing_plans row (rules, totals, trace), fulfillment orders
                               `planned`, one per warehouse, a line per reservation

Routing plans demand, not orders (ARCHITECTURE.md rule 1): the caller gives plain
lines and names the order; routing answers with what it reserved, what is
backordered, whether the order wants a person's review, and the fulfillment orders.

Warehouse settings read from `attributes` (no schema of their own):
`hazmat_capable` (bool), `ships_to` (country codes; absent: anywhere),
`handling_cost` (per shipment). Capacity left today is `daily_capacity` minus the
fulfillment orders made there since midnight in the warehouse's time zone and not
cancelled; a warehouse already planned for this order counts once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.models import Warehouse
from oms.catalog.scope import scope_ids, sees
from oms.errors import NotFound
from oms.inventory import balances
from oms.inventory.batch import Granted, Outcome, ReservationRequest, reserve_many
from oms.kit import clock
from oms.kit.paging import Page, PageRequest
from oms.routing import places, planner, repository, rule_sets
from oms.routing.costs import DEFAULT_COST_MODEL
from oms.routing.model import Assignment, Candidate, Demand, DemandLine, Plan, RuleSet
from oms.routing.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    RoutingPlan,
    RoutingRuleSet,
    fulfillment_id,
    fulfillment_number,
)
from oms.routing.rules import RuleSetRules
from oms.routing.schemas import (
    CandidateTraceOut,
    FulfillmentLineOut,
    FulfillmentOrderOut,
    LineTraceOut,
    PlanOut,
    ScoresOut,
)

UNLINKED_PRIORITY = 1_000_000
"""The fixed priority of a warehouse the channel does not name (after every one it does)."""


@dataclass(frozen=True)
class LineToRoute:
    """One order line's units to plan."""

    line_id: int
    line_number: int
    item_id: int
    sku: str
    quantity: int
    hazmat: bool | None = None
    """The item's hazmat flag when the caller has read the item; None: routing reads it."""


@dataclass(frozen=True)
class OrderToRoute:
    """The order the demand belongs to, as routing needs it (no orders import)."""

    order_id: int
    number: str
    channel_id: int
    channel: str
    ship_to: Mapping[str, Any]
    service_level: str = "standard"
    priority: int = 0
    ship_by: dt.datetime | None = None
    placed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Reserved:
    """Units of a line reserved at a warehouse, by one reservation."""

    line_id: int
    warehouse_id: int
    quantity: int
    reservation_id: int


@dataclass(frozen=True)
class RoutingResult:
    plan_id: int
    plan: Plan
    reserved: list[Reserved]
    backordered: dict[int, int]
    """line id → units not reserved: no warehouse could serve them now, or (in `refused`) a
    concurrent order took them between planning and reserving."""
    refused: dict[int, int]
    hold_for_review: bool
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)


def route(
    session: Session,
    order: OrderToRoute,
    lines: Sequence[LineToRoute],
    *,
    actor: Principal,
    reason: str = "intake",
    new_order: bool = False,
    exclude: Collection[int] = (),
) -> RoutingResult:
    """Plan, reserve and store the routing of `lines`; `new_order` says the order has no
    fulfillment orders yet (saves looking for planned ones to extend); warehouses whose ids
    are in `exclude` are no candidates (a re-route away from a warehouse that rejected).

    The plan row is the record of the decision; the caller names it (`plan_id`) and the
    fulfillment orders in the event it records for the order (timeline, audit, outbox)."""
    rules, stored_rules = rule_sets.rules_for(session, order.channel_id)
    planned = {} if new_order else repository.planned_of_order(session, order.order_id)
    warehouses = [
        (w, rank)
        for w, rank in repository.candidate_warehouses(session, order.channel_id)
        if w.id not in exclude
    ]
    item_ids = sorted({line.item_id for line in lines})
    hazmat = {line.item_id: line.hazmat for line in lines if line.hazmat is not None}
    if len(hazmat) < len(item_ids):
        hazmat = {item.id: item.hazmat for item in catalog.items_by_ids(session, item_ids)}
    available = balances.available_at(session, item_ids, [w.id for w, _ in warehouses])
    used = used_today(session, [w for w, _ in warehouses])
    demand = demand_of(order, lines, hazmat)
    plan = planner.plan(
        demand,
        candidates_of(warehouses, available, used, planned),
        rules=rules,
        costs=DEFAULT_COST_MODEL,
    )
    requests = reservation_requests(order, lines, plan, warehouses)
    reserved, refused, backordered = settled(
        plan, requests, reserve_many(session, requests.wanted, actor=actor)
    )
    now = clock.now()
    plan_id = repository.insert_plan(
        session,
        plan_values(
            order,
            lines,
            demand,
            plan,
            (rules, stored_rules),
            reserved,
            refused,
            backordered,
            actor=actor,
            reason=reason,
            now=now,
        ),
    )
    by_line = {line.line_id: line for line in lines}
    fulfillment_orders = _fulfill(session, order, plan_id, reserved, by_line, planned, now)
    return RoutingResult(
        plan_id=plan_id,
        plan=plan,
        reserved=reserved,
        backordered=backordered,
        refused=refused,
        hold_for_review=plan.hold_for_review,
        fulfillment_orders=fulfillment_orders,
    )


def used_today(session: Session, warehouses: Sequence[Warehouse]) -> dict[int, int]:
    """warehouse id → fulfillment orders made there today, in the warehouse's own time
    zone, for those with a daily capacity (no query when none has one; one for each
    midnight the warehouses have)."""
    now = clock.now()
    since: dict[dt.datetime, list[int]] = {}
    for warehouse in warehouses:
        if warehouse.daily_capacity is not None:
            since.setdefault(local_midnight(now, warehouse.timezone), []).append(warehouse.id)
    used: dict[int, int] = {}
    for midnight, ids in since.items():
        used.update(repository.planned_since(session, ids, midnight))
    return used


def local_midnight(now: dt.datetime, timezone: str | None) -> dt.datetime:
    """The last midnight before `now` in `timezone` (UTC when none or unknown), in UTC."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(dt.UTC)


def demand_of(
    order: OrderToRoute, lines: Sequence[LineToRoute], hazmat: Mapping[int, bool]
) -> Demand:
    """The demand the planner plans: the lines, where they go, how soon."""
    return Demand(
        key=order.number,
        channel=order.channel,
        destination=places.destination_of(order.ship_to),
        lines=tuple(
            DemandLine(
                key=line.line_id,
                item_id=line.item_id,
                sku=line.sku,
                quantity=line.quantity,
                hazmat=hazmat.get(line.item_id, False),
            )
            for line in lines
        ),
        service_level=order.service_level,
        priority=order.priority,
        ship_by=order.ship_by,
        placed_at=order.placed_at,
    )


def candidates_of(
    warehouses: Sequence[tuple[Warehouse, int | None]],
    available: Mapping[tuple[int, int], int],
    used: Mapping[int, int],
    planned: Collection[int] = (),
) -> list[Candidate]:
    """Every warehouse as the planner sees it (`planned`: ids of warehouses already planned
    for the order)."""
    return [_candidate(w, rank, available, used, already=w.id in planned) for w, rank in warehouses]


@dataclass(frozen=True)
class Requests:
    """The plan's assignments of units, each with the reservation it asks for."""

    assignments: list[Assignment]
    wanted: list[ReservationRequest]


def reservation_requests(
    order: OrderToRoute,
    lines: Sequence[LineToRoute],
    plan: Plan,
    warehouses: Sequence[tuple[Warehouse, int | None]],
) -> Requests:
    """A reservation request for each assignment of units the plan makes."""
    by_line = {line.line_id: line for line in lines}
    codes = {w.id: w.code for w, _ in warehouses}
    assignments = [a for a in plan.assignments if a.quantity > 0]
    return Requests(
        assignments,
        [
            ReservationRequest(
                item_id=by_line[a.line_key].item_id,
                sku=by_line[a.line_key].sku,
                warehouse_id=a.warehouse_id,
                warehouse=codes[a.warehouse_id],
                quantity=a.quantity,
                reference=f"{order.number}/{by_line[a.line_key].line_number}",
            )
            for a in assignments
        ],
    )


def settled(
    plan: Plan, requests: Requests, outcomes: Sequence[Outcome]
) -> tuple[list[Reserved], dict[int, int], dict[int, int]]:
    """What the reservations made of the plan: units reserved, units refused (a concurrent
    order took them) and units backordered (refused ones included), by line id."""
    reserved: list[Reserved] = []
    refused: dict[int, int] = {}
    for assignment, outcome in zip(requests.assignments, outcomes, strict=True):
        if isinstance(outcome, Granted):
            reserved.append(
                Reserved(
                    line_id=assignment.line_key,
                    warehouse_id=assignment.warehouse_id,
                    quantity=assignment.quantity,
                    reservation_id=outcome.id,
                )
            )
        else:
            refused[assignment.line_key] = refused.get(assignment.line_key, 0) + assignment.quantity
    backordered = dict(plan.backordered)
    for line_id, units in refused.items():
        backordered[line_id] = backordered.get(line_id, 0) + units
    return reserved, refused, backordered


def plan_values(
    order: OrderToRoute,
    lines: Sequence[LineToRoute],
    demand: Demand,
    plan: Plan,
    rules: tuple[RuleSet, RoutingRuleSet | None],
    reserved: Sequence[Reserved],
    refused: Mapping[int, int],
    backordered: Mapping[int, int],
    *,
    actor: Principal,
    reason: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The stored plan: its rules, totals, notes and trace (every column but the id)."""
    applied, stored_rules = rules
    by_line = {line.line_id: line for line in lines}
    notes = list(plan.notes) + [
        f"line {by_line[line_id].line_number} ({by_line[line_id].sku}): {units} planned units "
        "were taken by another order before they could be reserved: backordered"
        for line_id, units in refused.items()
    ]
    return {
        "order_id": order.order_id,
        "demand_key": order.number,
        "channel_id": order.channel_id,
        "rule_set_id": stored_rules.id if stored_rules is not None else None,
        "rule_set_version": stored_rules.version if stored_rules is not None else 0,
        "rules": _rules_json(applied),
        "strategy": str(plan.strategy),
        "reason": reason,
        "destination": dataclasses.asdict(demand.destination),
        "units": sum(line.quantity for line in lines),
        "planned_units": sum(r.quantity for r in reserved),
        "backordered_units": sum(backordered.values()),
        "hold_for_review": plan.hold_for_review,
        "shipments": plan.shipments,
        "cost": plan.cost,
        "distance_km": plan.distance_km,
        "notes": notes,
        "trace": _stored_trace(plan, by_line),
        "actor": actor.label,
        "created_at": now,
    }


def fulfillment_line_values(
    reserved: Reserved, line: LineToRoute, fulfillment_order_id: int
) -> dict[str, Any]:
    """The fulfillment order line a reservation of units becomes (every column but the id)."""
    return {
        "fulfillment_order_id": fulfillment_order_id,
        "order_line_id": reserved.line_id,
        "line_number": line.line_number,
        "item_id": line.item_id,
        "sku": line.sku,
        "quantity": reserved.quantity,
        "reservation_id": reserved.reservation_id,
    }


def _candidate(
    warehouse: Warehouse,
    rank: int | None,
    available: Mapping[tuple[int, int], int],
    used: Mapping[int, int],
    *,
    already: bool,
) -> Candidate:
    attributes = warehouse.attributes or {}
    ships_to = attributes.get("ships_to")
    capacity = None
    if warehouse.daily_capacity is not None:
        # A warehouse already planned for this order takes its new lines on the same order.
        capacity = warehouse.daily_capacity - used.get(warehouse.id, 0) + (1 if already else 0)
    handling = attributes.get("handling_cost", 0.0)
    warehouse_id = warehouse.id
    return Candidate(
        warehouse_id=warehouse_id,
        code=warehouse.code,
        country=warehouse.country,
        latitude=warehouse.latitude,
        longitude=warehouse.longitude,
        available={item: units for (item, w), units in available.items() if w == warehouse_id},
        serves_channel=rank is not None,
        ships_to=frozenset(str(c).upper() for c in ships_to)
        if isinstance(ships_to, list)
        else None,
        hazmat_capable=attributes.get("hazmat_capable") is True,
        capacity_left=capacity,
        priority=rank if rank is not None else UNLINKED_PRIORITY,
        handling_cost=float(handling) if isinstance(handling, int | float) else 0.0,
    )


def _stored_trace(plan: Plan, by_line: Mapping[int, LineToRoute]) -> list[dict[str, Any]]:
    """The trace as JSON, each line with its number."""
    stored = []
    for line in plan.trace:
        entry = _as_json(line)
        entry["line_number"] = by_line[line.line_key].line_number
        stored.append(entry)
    return stored


def _as_json(value: Any) -> Any:
    """A dataclass as `dataclasses.asdict` gives it, sequences as lists (as JSON keeps
    them), without its deep copy of every value (the trace's values are plain)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: _as_json(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}


@functools.lru_cache(maxsize=256)
def _rules_json(rules: RuleSet) -> dict[str, Any]:
    """The rules as a plan stores them (the same document for every plan under them: a
    reader must not change it)."""
    return RuleSetRules.from_rule_set(rules).model_dump(mode="json")


def _fulfill(
    session: Session,
    order: OrderToRoute,
    plan_id: int,
    reserved: Sequence[Reserved],
    by_line: Mapping[int, LineToRoute],
    planned: Mapping[int, FulfillmentOrder],
    now: dt.datetime,
) -> list[FulfillmentOrder]:
    """A fulfillment order per warehouse (extending one still planned there for the order)."""
    touched: dict[int, FulfillmentOrder] = {}
    new: list[FulfillmentOrder] = []
    for warehouse_id in sorted({r.warehouse_id for r in reserved}):
        existing = planned.get(warehouse_id)
        if existing is not None:
            existing.updated_at = now
            existing.version += 1
            touched[warehouse_id] = existing
            continue
        made = FulfillmentOrder(
            order_id=order.order_id,
            order_number=order.number,
            channel_id=order.channel_id,
            plan_id=plan_id,
            warehouse_id=warehouse_id,
            status=FulfillmentStatus.PLANNED,
            created_at=now,
            updated_at=now,
            version=1,
        )
        new.append(made)
        touched[warehouse_id] = made
    repository.add_fulfillment_orders(session, new)
    repository.insert_fulfillment_lines(
        session,
        [
            fulfillment_line_values(r, by_line[r.line_id], touched[r.warehouse_id].id)
            for r in reserved
        ],
    )
    return [touched[w] for w in sorted(touched)]


def planned_units(session: Session, reservation_id: int) -> int:
    """Units of a reservation on a planned fulfillment order: those its order line may still
    give back (a released fulfillment order's units are its warehouse's to ship)."""
    found = repository.planned_line_of_reservation(session, reservation_id)
    return found[0].quantity if found is not None else 0


def give_back(session: Session, reservation_id: int, quantity: int, *, actor: Principal) -> None:
    """Units of a reservation given back (its order line cancelled or shortened): off the
    planned fulfillment order line it holds; a planned fulfillment order left empty is
    cancelled."""
    found = repository.planned_line_of_reservation(session, reservation_id)
    if found is None:
        return
    line, fulfillment_order = found
    line.quantity -= min(quantity, line.quantity)
    fulfillment_order.updated_at = clock.now()
    fulfillment_order.version += 1
    session.flush()
    if repository.units_left(session, fulfillment_order.id) == 0:
        fulfillment_order.status = FulfillmentStatus.CANCELLED
        session.flush()
        audit.record(
            session,
            actor=actor.label,
            action="fulfillment_order.cancelled",
            entity_type="fulfillment_order",
            entity_id=fulfillment_order.number,
            before={"status": FulfillmentStatus.PLANNED.value},
            after={"status": FulfillmentStatus.CANCELLED.value},
            note="every unit given back before release",
        )


# -- reading ------------------------------------------------------------------------------


class FulfillmentOrderNotFound(NotFound):
    def __init__(self, key: object) -> None:
        super().__init__("fulfillment order", key, code="fulfillment.order_not_found")


def plans_of_order(session: Session, order_id: int) -> list[PlanOut]:
    """Every plan made for the order, oldest first, with its trace and fulfillment orders."""
    plans = repository.plans_of_order(session, order_id)
    if not plans:
        return []
    made: dict[int, list[str]] = {}
    for fo in repository.fulfillment_orders_of_order(session, order_id):
        made.setdefault(fo.plan_id, []).append(fo.number)
    return [_plan_out(plan, made.get(plan.id, [])) for plan in plans]


def _plan_out(plan: RoutingPlan, fulfillment_orders: list[str]) -> PlanOut:
    return PlanOut(
        id=plan.id,
        order_id=plan.order_id,
        order_number=plan.demand_key,
        reason=plan.reason,
        strategy=plan.strategy,
        rule_set_id=plan.rule_set_id,
        rule_set_version=plan.rule_set_version,
        rules=RuleSetRules.model_validate(plan.rules),
        destination=plan.destination,
        units=plan.units,
        planned_units=plan.planned_units,
        backordered_units=plan.backordered_units,
        hold_for_review=plan.hold_for_review,
        shipments=plan.shipments,
        cost=plan.cost,
        distance_km=plan.distance_km,
        notes=list(plan.notes),
        fulfillment_orders=fulfillment_orders,
        trace=[
            LineTraceOut(
                line_id=line["line_key"],
                line_number=line.get("line_number"),
                sku=line["sku"],
                quantity=line["quantity"],
                backordered=line["backordered"],
                note=line.get("note", ""),
                candidates=[
                    CandidateTraceOut(
                        warehouse=c["code"],
                        eligible=c["eligible"],
                        reasons=list(c["reasons"]),
                        scores=ScoresOut.model_validate(c["scores"]),
                        chosen=c["chosen"],
                        why=c["why"],
                    )
                    for c in line["candidates"]
                ],
            )
            for line in plan.trace
        ],
        actor=plan.actor,
        created_at=plan.created_at,
    )


def _in_scope(session: Session, fo: FulfillmentOrder, actor: Principal) -> bool:
    return sees(session, actor, warehouse_id=fo.warehouse_id, channel_id=fo.channel_id)


def get_fulfillment_order(
    session: Session, key: int | str, *, actor: Principal
) -> FulfillmentOrderOut:
    """One fulfillment order, by id or number, with its lines; outside the actor's warehouse
    or channel scope it does not exist."""
    wanted = key if isinstance(key, int) else fulfillment_id(key)
    fo = repository.fulfillment_order_by_id(session, wanted) if wanted is not None else None
    if fo is None or not _in_scope(session, fo, actor):
        raise FulfillmentOrderNotFound(key if isinstance(key, str) else fulfillment_number(key))
    return fulfillment_views(session, [fo])[0]


def search_fulfillment_orders(
    session: Session,
    page: PageRequest,
    *,
    actor: Principal,
    order_id: int | None = None,
    warehouse: str | None = None,
    status: FulfillmentStatus | None = None,
    ship_by_after: dt.datetime | None = None,
    ship_by_until: dt.datetime | None = None,
) -> Page[FulfillmentOrderOut]:
    """Fulfillment orders, oldest first, filtered; only those of the actor's warehouses and
    channels (a warehouse outside its scope lists nothing). `ship_by_after`/`_until` keep
    unshipped work whose deadline falls in that window."""
    scope = scope_ids(session, actor, warehouse=warehouse)
    warehouse_ids, channel_ids = scope.warehouse_ids, scope.channel_ids
    filters = repository.FulfillmentFilter(
        order_id=order_id,
        warehouse_ids=warehouse_ids,
        channel_ids=channel_ids,
        status=status,
        ship_by_after=ship_by_after,
        ship_by_until=ship_by_until,
    )
    found = repository.search_fulfillment_orders(session, filters, page)
    return Page(items=fulfillment_views(session, found.items), next_cursor=found.next_cursor)


def fulfillment_views(
    session: Session, found: Sequence[FulfillmentOrder]
) -> list[FulfillmentOrderOut]:
    """Fulfillment orders as the API shows them: their lines, warehouse and channel codes in
    three more queries, however many."""
    if not found:
        return []
    lines: dict[int, list[FulfillmentOrderLine]] = {}
    for line in repository.lines_of_fulfillment_orders(session, [fo.id for fo in found]):
        lines.setdefault(line.fulfillment_order_id, []).append(line)
    warehouses = {
        w.id: w.code for w in catalog.warehouses_by_ids(session, {fo.warehouse_id for fo in found})
    }
    channels = {
        c.id: c.code for c in catalog.channels_by_ids(session, {fo.channel_id for fo in found})
    }
    return [
        FulfillmentOrderOut(
            id=fo.id,
            number=fo.number,
            order_id=fo.order_id,
            order_number=fo.order_number,
            channel=channels.get(fo.channel_id, ""),
            warehouse=warehouses.get(fo.warehouse_id, ""),
            status=fo.status,
            plan_id=fo.plan_id,
            units=sum(line.quantity + line.shipped for line in lines.get(fo.id, [])),
            created_at=fo.created_at,
            updated_at=fo.updated_at,
            version=fo.version,
            released_at=fo.released_at,
            ship_by=fo.ship_by,
            acknowledged_at=fo.acknowledged_at,
            shipped_at=fo.shipped_at,
            wms_reference=fo.wms_reference,
            reject_reason=fo.reject_reason,
            lines=[
                FulfillmentLineOut(
                    line_number=line.line_number,
                    order_line_id=line.order_line_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    shipped=line.shipped,
                    reservation_id=line.reservation_id,
                )
                for line in lines.get(fo.id, [])
            ],
        )
        for fo in found
    ]
