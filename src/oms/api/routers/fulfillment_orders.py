"""Fulfillment orders: `/api/v1/fulfillment-orders` — the part of a sales order one
warehouse ships, as routing planned it.

A key scoped to warehouses sees only theirs; a key scoped to channels only their
orders'. Outside the scope a fulfillment order does not exist (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from oms.api.deps import PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.fulfillment import sla
from oms.kit import clock
from oms.routing import service as routing
from oms.routing.models import FulfillmentStatus
from oms.routing.schemas import FulfillmentOrderOut

router = APIRouter(prefix="/api/v1/fulfillment-orders", tags=["fulfillment orders"])

Reader = Annotated[Principal, Depends(require(Permission.FULFILLMENT_READ))]


@router.get("")
def list_fulfillment_orders(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    order_id: Annotated[int | None, Query(description="the sales order's id")] = None,
    warehouse: Annotated[str | None, Query(description="the warehouse's code")] = None,
    status: FulfillmentStatus | None = None,
    late: Annotated[
        bool, Query(description="only unshipped work whose ship-by deadline has passed")
    ] = False,
    at_risk: Annotated[
        bool,
        Query(description="only unshipped work due within the next two hours (the SLA window)"),
    ] = False,
) -> ListOf[FulfillmentOrderOut]:
    """Fulfillment orders with their lines, oldest first (`sort=-id` for newest first,
    `sort=ship_by` by deadline). `late` and `at_risk` (both: either) keep released work
    not yet shipped by its SLA deadline."""
    after, until = sla.window(clock.now(), late=late, at_risk=at_risk)
    found = routing.search_fulfillment_orders(
        tx,
        page,
        actor=actor,
        order_id=order_id,
        warehouse=warehouse,
        status=status,
        ship_by_after=after,
        ship_by_until=until,
    )
    return ListOf(items=found.items, next_cursor=found.next_cursor)


@router.get("/{fulfillment_order}")
def get_fulfillment_order(
    fulfillment_order: Annotated[str, Path(description="its id, or its number (FO-000123)")],
    tx: SessionDep,
    actor: Reader,
    response: Response,
) -> FulfillmentOrderOut:
    """One fulfillment order with its lines; its version is the ETag."""
    key: int | str = int(fulfillment_order) if fulfillment_order.isdigit() else fulfillment_order
    found = routing.get_fulfillment_order(tx, key, actor=actor)
    set_etag(response, found.version)
    return found
