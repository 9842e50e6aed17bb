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
) -> ListOf[FulfillmentOrderOut]:
    """Fulfillment orders with their lines, oldest first (`sort=-id` for newest first)."""
    found = routing.search_fulfillment_orders(
        tx, page, actor=actor, order_id=order_id, warehouse=warehouse, status=status
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
