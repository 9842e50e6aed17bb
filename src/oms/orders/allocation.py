"""Allocation: reserve lines' open units where routing decides; backorder the rest.

Routing (`oms.routing.service.route`) plans the lines under the channel's
active rule set (by default: warehouses the channel may use that hold the whole
line, nearest to the ship-to first, split by line, the rest backordered),
reserves the plan in one `reserve_many` call, stores the plan with its trace and
makes a `planned` fulfillment order per warehouse. Here the answer becomes the
order's allocations and its lines' buckets. A rule set whose fallback is
`hold_for_review` asks for a person: the caller places the manual hold
(`REVIEW_HOLD`), as holds are the caller's to record on the timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.inventory import reservations
from oms.kit import clock
from oms.orders import repository
from oms.orders.models import OrderLine, SalesOrder
from oms.routing import service as routing

REVIEW_HOLD = "routing: held for review"
"""The reason of the manual hold placed when routing asks for a person's review."""


@dataclass(frozen=True)
class Allocated:
    allocated: int
    backordered: int
    review: bool = False
    """Routing's fallback asks for a person's review: the caller holds the order."""
    plan_id: int | None = None
    """The routing plan made, with its trace (`GET /api/v1/orders/{id}/routing`)."""
    fulfillment_orders: tuple[str, ...] = ()
    """Numbers of the fulfillment orders the plan made or extended."""

    def routing(self) -> dict[str, object]:
        """What the order's event says of the routing: the plan and its fulfillment orders."""
        if self.plan_id is None:
            return {}
        return {"routing_plan": self.plan_id, "fulfillment_orders": list(self.fulfillment_orders)}


def allocate(
    session: Session,
    order: SalesOrder,
    lines: Sequence[OrderLine],
    *,
    actor: Principal,
    channel: str | None = None,
    hazmat: Mapping[int, bool] | None = None,
    new_order: bool = False,
    reason: str = "intake",
) -> Allocated:
    """Route and reserve the open units of `lines`; backorder what cannot be reserved now.

    A caller that has read the channel (intake) passes its code, and the items' hazmat flags
    (item id → flag), saving reads; `new_order` says the order has no fulfillment orders yet.
    The caller records the order's event, naming the plan (`Allocated.routing()`)."""
    live = [line for line in lines if line.item_id is not None and line.open > 0]
    if not live:
        return Allocated(0, 0)
    if channel is None:
        channel = catalog.channels_by_ids(session, [order.channel_id])[0].code
    result = routing.route(
        session,
        order_to_route(order, channel),
        lines_to_route(live, hazmat),
        actor=actor,
        reason=reason,
        new_order=new_order,
    )
    by_id = {line.id: line for line in live}
    now = clock.now()
    allocated = 0
    for reserved in result.reserved:
        by_id[reserved.line_id].allocated += reserved.quantity
        allocated += reserved.quantity
    repository.insert_allocations(
        session, [allocation_row(order.id, r, now) for r in result.reserved]
    )
    backordered = 0
    for line in live:
        if line.open > 0:
            backordered += line.open
            line.backordered += line.open
    session.flush()
    return Allocated(
        allocated=allocated,
        backordered=backordered,
        review=result.hold_for_review,
        plan_id=result.plan_id,
        fulfillment_orders=tuple(fo.number for fo in result.fulfillment_orders),
    )


def allocation_row(order_id: int, reserved: routing.Reserved, now: dt.datetime) -> dict[str, Any]:
    """The order's allocation a reservation of units makes (every column but the id)."""
    return {
        "order_id": order_id,
        "line_id": reserved.line_id,
        "warehouse_id": reserved.warehouse_id,
        "reservation_id": reserved.reservation_id,
        "quantity": reserved.quantity,
        "created_at": now,
    }


def order_to_route(order: SalesOrder, channel: str) -> routing.OrderToRoute:
    """The order as routing plans it (`channel`: its channel's code)."""
    return routing.OrderToRoute(
        order_id=order.id,
        number=order.number,
        channel_id=order.channel_id,
        channel=channel,
        ship_to=order.ship_to,
        service_level=str(order.service_level),
        priority=order.priority,
        ship_by=order.ship_by,
        placed_at=order.placed_at,
    )


def lines_to_route(
    lines: Sequence[OrderLine], hazmat: Mapping[int, bool] | None
) -> list[routing.LineToRoute]:
    """The open units of lines with an item, as routing plans them (`hazmat`: item id →
    flag when the caller has read the items)."""
    return [
        routing.LineToRoute(
            line_id=line.id,
            line_number=line.line_number,
            item_id=line.item_id,
            sku=line.sku,
            quantity=line.open,
            hazmat=hazmat.get(line.item_id) if hazmat is not None else None,
        )
        for line in lines
        if line.item_id is not None
    ]


def release(session: Session, line: OrderLine, quantity: int, *, actor: Principal) -> int:
    """Give back up to `quantity` allocated units of a line, newest allocation first;
    returns how many were released. Only units still planned are allocated: an allocation
    whose fulfillment order was released (it may be newer than a planned one) is skipped."""
    left = min(quantity, line.allocated)
    released = 0
    for allocation in reversed(repository.allocations_of_lines(session, [line.id])):
        if left == 0:
            break
        planned = routing.planned_units(session, allocation.reservation_id)
        take = min(left, allocation.quantity, planned)
        if take == 0:
            continue
        reservations.release_part(session, allocation.reservation_id, quantity=take, actor=actor)
        routing.give_back(session, allocation.reservation_id, take, actor=actor)
        if take == allocation.quantity:
            repository.delete_allocation(session, allocation)
        else:
            allocation.quantity -= take
        left -= take
        released += take
    line.allocated -= released
    session.flush()
    return released
