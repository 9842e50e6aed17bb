"""Finding sales orders: `GET /api/v1/orders`.

A principal scoped to some channels finds only their orders; a channel outside
its scope answers 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from oms.api.deps import PageDep, SessionDep, require
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.catalog.schemas import Code, Sku
from oms.orders import search
from oms.orders.models import HoldType, OrderStatus

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

Reader = Annotated[Principal, Depends(require(Permission.ORDERS_READ))]


@router.get("")
def list_orders(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    status: Annotated[
        list[OrderStatus] | None, Query(description="repeat for any of several statuses")
    ] = None,
    channel: Code | None = None,
    customer: Annotated[int | None, Query(description="the customer's id")] = None,
    sku: Annotated[Sku | None, Query(description="orders with a line of this SKU")] = None,
    placed_from: Annotated[dt.date | None, Query(description="placed on or after (UTC)")] = None,
    placed_to: Annotated[dt.date | None, Query(description="placed on or before (UTC)")] = None,
    hold_type: Annotated[
        HoldType | None, Query(description="orders with an active hold of this type")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="part of the number, external id, customer or e-mail"),
    ] = None,
) -> ListOf[search.OrderSummary]:
    """Order summaries, filtered; sort by `placed_at` (default `-placed_at`, newest first),
    `number`, `total` or `priority`."""
    query = search.OrderQuery(
        statuses=status or [],
        channel=channel,
        customer_id=customer,
        sku=sku,
        placed_from=placed_from,
        placed_to=placed_to,
        hold_type=hold_type,
        q=q,
    )
    found = search.search_orders(tx, query, page, actor=actor)
    return ListOf(items=found.items, next_cursor=found.next_cursor)
