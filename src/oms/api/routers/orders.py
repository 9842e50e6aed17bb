"""One sales order: `/api/v1/orders/{id}` — detail, timeline, holds, edits, cancellations,
closing.

An order of a channel outside the caller's scope answers 404, as if it did not exist.
Each answer carries the order's version as its ETag; a PATCH with an If-Match naming
an older version is refused with 412.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from sqlalchemy.orm import Session

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.fulfillment import shipments
from oms.orders import edits, holds, lifecycle, views
from oms.orders.edits import OrderEdit
from oms.orders.holds import HoldIn, HoldReleaseIn
from oms.orders.lifecycle import CancelIn, LineCancelIn
from oms.orders.views import HoldOut, OrderEventOut, OrderOut

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

Reader = Annotated[Principal, Depends(require(Permission.ORDERS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.ORDERS_MANAGE))]
OrderId = Annotated[int, Path(description="the order's id")]


def _shown(tx: Session, order_id: int, actor: Principal, response: Response) -> OrderOut:
    order = lifecycle.get_order(tx, order_id, actor=actor)
    set_etag(response, order.version)
    return _with_shipments(tx, views.order_out(tx, order), actor)


def _with_shipments(tx: Session, shown: OrderOut, actor: Principal) -> OrderOut:
    """The order's shipments, read by fulfillment (the layer above orders) from the
    fulfillment orders the detail already holds; a key scoped to warehouses sees only
    its warehouses' fulfillment orders and shipments."""
    visible = [fo for fo in shown.fulfillment_orders if actor.sees_warehouse(fo.warehouse)]
    found = shipments.of_order(
        tx, shown.id, shown.number, {fo.id: (fo.number, fo.warehouse) for fo in visible}
    )
    numbers = {fo.number for fo in visible}
    return shown.model_copy(
        update={
            "fulfillment_orders": visible,
            "shipments": [
                s.model_dump(mode="json") for s in found if s.fulfillment_order in numbers
            ],
        }
    )


@router.get("/{order_id}")
def get_order(order_id: OrderId, tx: SessionDep, actor: Reader, response: Response) -> OrderOut:
    """The order with its lines (every quantity bucket, allocations by warehouse), holds,
    fulfillment orders and shipments; its version is the ETag."""
    return _shown(tx, order_id, actor, response)


@router.get("/{order_id}/events")
def list_order_events(
    order_id: OrderId, tx: SessionDep, actor: Reader, page: PageDep
) -> ListOf[OrderEventOut]:
    """The order's timeline, oldest first (`sort=-id` for newest first)."""
    order = lifecycle.get_order(tx, order_id, actor=actor)
    found = views.timeline_page(tx, order, page)
    return ListOf(items=found.items, next_cursor=found.next_cursor)


@router.patch("/{order_id}")
def edit_order(
    order_id: OrderId,
    body: OrderEdit,
    tx: SessionDep,
    actor: Manager,
    version: IfMatchDep,
    response: Response,
) -> OrderOut:
    """Change the ship-to, the service level, line quantities, add or remove lines — only
    units not yet released. 409 `order.cannot_cancel_released_units` or
    `order.cannot_edit_released_units` otherwise; 412 on a stale If-Match."""
    edits.edit_order(tx, order_id, body, actor=actor, expected_version=version)
    return _shown(tx, order_id, actor, response)


@router.post("/{order_id}/cancel")
def cancel_order(
    order_id: OrderId, body: CancelIn, tx: SessionDep, actor: Manager, response: Response
) -> OrderOut:
    """Cancel the whole order, giving back every reservation; 409 once any unit is released."""
    lifecycle.cancel_order(tx, order_id, reason=body.reason, actor=actor)
    return _shown(tx, order_id, actor, response)


@router.post("/{order_id}/lines/{line_number}/cancel")
def cancel_order_line(
    order_id: OrderId,
    line_number: Annotated[int, Path(ge=1, le=9999)],
    body: LineCancelIn,
    tx: SessionDep,
    actor: Manager,
    response: Response,
) -> OrderOut:
    """Cancel `quantity` units of a line (the whole line when absent): open units first,
    then backordered, then allocated; never released ones."""
    lifecycle.cancel_line(
        tx, order_id, line_number, reason=body.reason, quantity=body.quantity, actor=actor
    )
    return _shown(tx, order_id, actor, response)


@router.post("/{order_id}/holds", status_code=status.HTTP_201_CREATED)
def place_hold(order_id: OrderId, body: HoldIn, tx: SessionDep, actor: Manager) -> HoldOut:
    """Hold the order (payment, fraud, address, credit, manual), saying why; several
    holds may be active at once. 409 on a shipped, cancelled or closed order."""
    hold = holds.place_hold(tx, order_id, type=body.type, reason=body.reason, actor=actor)
    return views.hold_out(hold)


@router.post("/{order_id}/holds/{hold_id}/release")
def release_hold(
    order_id: OrderId,
    hold_id: Annotated[int, Path(description="the hold's id")],
    body: HoldReleaseIn,
    tx: SessionDep,
    actor: Manager,
) -> HoldOut:
    """Release one hold with a note; 409 `order.hold_already_released` the second time."""
    hold = holds.release_hold(tx, order_id, hold_id, note=body.note, actor=actor)
    return views.hold_out(hold)


@router.post("/{order_id}/close")
def close_order(order_id: OrderId, tx: SessionDep, actor: Manager, response: Response) -> OrderOut:
    """Close a shipped, delivered or cancelled order; 409 `order.cannot_close_<status>` else."""
    lifecycle.close_order(tx, order_id, actor=actor)
    return _shown(tx, order_id, actor, response)
