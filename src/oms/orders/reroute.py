"""Re-route: a fulfillment order's remainder sent back through the planner without its
warehouse.

A warehouse that rejects a fulfillment order, or short-picks it, leaves units that
still have to ship. `reroute` takes them off the fulfillment order (all of what it
still holds, or the units named per order line), gives their reservations back at
that warehouse, and routes them again under the channel's rule set with that
warehouse excluded for those lines: new or extended `planned` fulfillment orders
elsewhere, and what no other warehouse can serve now becomes backordered (served
later by `backorders.reallocate_backorders`). Each line given back is noted as refused
by that warehouse (`LineRefusal`): the backorder pass sends it there again only once
the warehouse's stock of the item was counted, adjusted, written off or replenished
since.
A fulfillment order left without units ends `rejected` (the warehouse said no) or,
still planned, `cancelled`.

It lives with orders, not routing, because it moves the order lines' buckets;
the fulfillment issue calls it from the WMS acknowledgement and shipment endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.errors import InvalidTransition, Problem, ValidationFailed
from oms.inventory import reservations
from oms.kit import clock
from oms.orders import allocation, lifecycle, repository, timeline
from oms.orders.models import OrderLine, SalesOrder
from oms.routing import repository as routing_repository
from oms.routing import service as routing
from oms.routing.models import FulfillmentOrderLine, FulfillmentStatus

REROUTABLE = frozenset(
    {
        FulfillmentStatus.PLANNED,
        FulfillmentStatus.RELEASED,
        FulfillmentStatus.ACKNOWLEDGED,
        FulfillmentStatus.PICKING,
        FulfillmentStatus.PACKED,
        FulfillmentStatus.REJECTED,
    }
)
"""Statuses whose remainder may be re-routed: not yet shipped, not cancelled."""


class CannotReroute(InvalidTransition):
    code = "fulfillment.cannot_reroute"

    def __init__(self, number: str, status: str) -> None:
        super().__init__(
            f"fulfillment order {number} is {status}: nothing left to re-route",
            number=number,
            status=status,
        )


@dataclass(frozen=True)
class Rerouted:
    fulfillment_order: str
    units: int
    """Units taken off the fulfillment order."""
    planned: int
    """Of those, units reserved elsewhere."""
    backordered: int
    plan_id: int | None
    fulfillment_orders: tuple[str, ...]
    """Numbers of the fulfillment orders made or extended elsewhere."""


def reroute(
    session: Session,
    fulfillment_order_id: int,
    *,
    lines: Mapping[int, int] | None = None,
    exclude_warehouse: bool = True,
    actor: Principal,
) -> Rerouted:
    """Send units of a fulfillment order (per order line id, or all it still holds) back
    through the planner, without its warehouse unless `exclude_warehouse` is false."""
    fo = routing_repository.fulfillment_order_by_id(session, fulfillment_order_id)
    if fo is None:
        raise routing.FulfillmentOrderNotFound(fulfillment_order_id)
    if fo.status not in REROUTABLE:
        raise CannotReroute(fo.number, fo.status)
    fo_lines = routing_repository.lines_of_fulfillment_orders(session, [fo.id])
    wanted = _wanted(fo_lines, lines)
    order = repository.order_by_id(session, fo.order_id, lock=True)
    assert order is not None
    order_lines = repository.lines_of(session, order.id)
    by_id = {line.id: line for line in order_lines}
    was_planned = fo.status == FulfillmentStatus.PLANNED

    allocations = {
        a.reservation_id: a
        for a in repository.allocations_of_lines(
            session, sorted({f.order_line_id for f in fo_lines})
        )
    }
    taken: dict[int, int] = {}
    for fo_line in fo_lines:
        units = min(wanted.get(fo_line.id, 0), fo_line.quantity)
        if units == 0:
            continue
        reservations.release_part(session, fo_line.reservation_id, quantity=units, actor=actor)
        fo_line.quantity -= units
        allocation = allocations.get(fo_line.reservation_id)
        if allocation is not None:
            if allocation.quantity <= units:
                repository.delete_allocation(session, allocation)
            else:
                allocation.quantity -= units
        line = by_id[fo_line.order_line_id]
        if was_planned:
            line.allocated -= units
        else:
            line.released -= units
        taken[line.id] = taken.get(line.id, 0) + units
    now = clock.now()
    fo.updated_at = now
    fo.version += 1
    session.flush()
    before_status = fo.status
    if routing_repository.units_left(session, fo.id) == 0:
        fo.status = FulfillmentStatus.CANCELLED if was_planned else FulfillmentStatus.REJECTED
    session.flush()

    moved = [by_id[line_id] for line_id in sorted(taken)]
    excluded = (fo.warehouse_id,) if exclude_warehouse else ()
    if exclude_warehouse:
        # What the backorder pass reads, so as not to send the units straight back.
        repository.refuse(session, fo, moved, now=now)
    result = _route(session, order, moved, exclude=excluded, actor=actor)
    backordered = 0
    for line in moved:
        if line.open > 0:
            backordered += line.open
            line.backordered += line.open
    lifecycle.refresh(order, order_lines)
    session.flush()

    units = sum(taken.values())
    done = Rerouted(
        fulfillment_order=fo.number,
        units=units,
        planned=units - backordered,
        backordered=backordered,
        plan_id=result.plan_id if result is not None else None,
        fulfillment_orders=tuple(f.number for f in result.fulfillment_orders) if result else (),
    )
    audit.record(
        session,
        actor=actor.label,
        action="fulfillment_order.rerouted",
        entity_type="fulfillment_order",
        entity_id=fo.number,
        before={"status": str(before_status)},
        after={"status": str(fo.status), "units_rerouted": units},
    )
    timeline.record(
        session,
        order,
        "rerouted",
        actor=actor,
        data={
            "fulfillment_order": fo.number,
            "lines": [
                {"line_number": by_id[i].line_number, "sku": by_id[i].sku, "quantity": q}
                for i, q in sorted(taken.items())
            ],
            "planned": done.planned,
            "backordered": backordered,
            "routing_plan": done.plan_id,
            "fulfillment_orders": list(done.fulfillment_orders),
        },
    )
    return done


def _wanted(
    fo_lines: list[FulfillmentOrderLine], lines: Mapping[int, int] | None
) -> dict[int, int]:
    """Fulfillment order line id → units to re-route; `lines` names order line ids."""
    if lines is None:
        return {f.id: f.quantity for f in fo_lines}
    held: dict[int, int] = {}
    for f in fo_lines:
        held[f.order_line_id] = held.get(f.order_line_id, 0) + f.quantity
    problems = [
        Problem(f"lines.{line_id}", f"must be between 1 and {held.get(line_id, 0)}")
        for line_id, units in lines.items()
        if not 0 < units <= held.get(line_id, 0)
    ]
    if problems:
        raise ValidationFailed(problems)
    wanted: dict[int, int] = {}
    left = dict(lines)
    for f in fo_lines:
        take = min(left.get(f.order_line_id, 0), f.quantity)
        if take:
            wanted[f.id] = take
            left[f.order_line_id] -= take
    return wanted


def _route(
    session: Session,
    order: SalesOrder,
    lines: list[OrderLine],
    *,
    exclude: tuple[int, ...],
    actor: Principal,
) -> routing.RoutingResult | None:
    """Route the lines' open units (without `exclude`), reserve and allocate what was planned."""
    live = [line for line in lines if line.item_id is not None and line.open > 0]
    if not live:
        return None
    channel = catalog.channels_by_ids(session, [order.channel_id])[0].code
    result = routing.route(
        session,
        allocation.order_to_route(order, channel),
        allocation.lines_to_route(live, None),
        actor=actor,
        reason="reroute",
        exclude=exclude,
    )
    by_id = {line.id: line for line in live}
    now = clock.now()
    for reserved in result.reserved:
        by_id[reserved.line_id].allocated += reserved.quantity
    repository.insert_allocations(
        session, [allocation.allocation_row(order.id, r, now) for r in result.reserved]
    )
    return result
