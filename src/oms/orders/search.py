"""Finding sales orders: filters, text search, cursor pages of summaries.

A page costs a fixed number of queries however long it is: the orders (only the
columns a summary shows), then their channels' codes, their active holds and
their line counts, each for the whole page at once. A principal scoped to some
channels finds only those channels' orders; a channel outside its scope does
not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.errors import NotFound, Problem, ValidationFailed
from oms.kit.paging import Page, PageRequest
from oms.orders import repository
from oms.orders.models import HoldType, OrderStatus, SalesOrder
from oms.orders.schemas import quantize


class OrderSummary(BaseModel):
    """One order as a list shows it."""

    id: int
    number: str
    channel: str
    external_id: str
    status: OrderStatus
    customer_name: str | None
    customer_email: str | None
    total: Decimal
    currency: str
    placed_at: dt.datetime
    priority: int
    holds: list[HoldType]
    """Types of the order's active holds."""
    line_count: int


@dataclass(frozen=True)
class OrderQuery:
    """What a caller looks for; every part given must hold."""

    statuses: Sequence[OrderStatus] = ()
    channel: str | None = None
    customer_id: int | None = None
    sku: str | None = None
    placed_from: dt.date | None = None
    placed_to: dt.date | None = None
    """Inclusive: orders placed on this day (UTC) are found."""
    hold_type: HoldType | None = None
    q: str | None = None
    """Part of the order number, external id, customer name or e-mail; case ignored."""


def search_orders(
    session: Session, query: OrderQuery, page: PageRequest, *, actor: Principal
) -> Page[OrderSummary]:
    """Orders matching `query` in the actor's channels, newest first by default."""
    if query.placed_from and query.placed_to and query.placed_to < query.placed_from:
        raise ValidationFailed([Problem("placed_to", "is before placed_from")])
    filters = repository.OrderFilter(
        statuses=[s.value for s in query.statuses],
        channel_ids=_channel_ids(session, query.channel, actor=actor),
        customer_id=query.customer_id,
        sku=query.sku.strip() if query.sku else None,
        placed_from=_start_of(query.placed_from),
        placed_before=_start_of(query.placed_to + dt.timedelta(days=1))
        if query.placed_to
        else None,
        hold_type=query.hold_type.value if query.hold_type else None,
        q=query.q.strip() if query.q and query.q.strip() else None,
    )
    found: Page[SalesOrder] = repository.search_orders(session, filters, page)
    return Page(items=summaries(session, found.items), next_cursor=found.next_cursor)


def summaries(session: Session, orders: Sequence[SalesOrder]) -> list[OrderSummary]:
    """Summaries of `orders`, with three queries for all of them."""
    ids = [o.id for o in orders]
    codes = {c.id: c.code for c in catalog.channels_by_ids(session, {o.channel_id for o in orders})}
    holds = repository.active_hold_types(session, ids)
    lines = repository.line_counts(session, ids)
    return [
        OrderSummary(
            id=o.id,
            number=o.number,
            channel=codes[o.channel_id],
            external_id=o.external_id,
            status=o.status,
            customer_name=o.customer_name,
            customer_email=o.customer_email,
            total=quantize(o.total, o.currency),
            currency=o.currency,
            placed_at=o.placed_at,
            priority=o.priority,
            holds=[HoldType(h) for h in holds.get(o.id, [])],
            line_count=lines.get(o.id, 0),
        )
        for o in orders
    ]


def _channel_ids(session: Session, code: str | None, *, actor: Principal) -> list[int] | None:
    """The channels to search: the one asked for, else the actor's scope (None: all)."""
    if code is not None:
        channel = catalog.channel_by_code(session, code.strip())
        if channel is None or not actor.sees_channel(channel.code):
            raise NotFound("channel", code, code="catalog.channel_not_found")
        return [channel.id]
    if actor.channels is None:
        return None
    return sorted(c.id for c in catalog.channels_by_codes(session, actor.channels).values())


def _start_of(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else None
