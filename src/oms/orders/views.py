"""An order as the API shows it: lines with every quantity bucket and their allocations,
holds, fulfillment orders with their lines, and (filled by later work) shipments; and its
timeline.

A detail costs a fixed number of queries: the lines, the allocations, the holds, the
codes of the channel and warehouses named, then the fulfillment orders with their
warehouse codes and their lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy.orm import Session

from oms.catalog import repository as catalog
from oms.kit.paging import Page, PageRequest
from oms.orders import repository
from oms.orders.models import (
    HoldType,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderStatus,
    SalesOrder,
    ServiceLevel,
)
from oms.routing import repository as routing
from oms.routing.models import FulfillmentStatus


class AllocationOut(BaseModel):
    """Units of a line reserved at one warehouse, by one reservation."""

    warehouse: str
    quantity: int
    reservation_id: int
    created_at: dt.datetime


class OrderLineOut(BaseModel):
    line_number: int
    sku: str
    quantity: int
    open: int
    allocated: int
    backordered: int
    released: int
    shipped: int
    delivered: int
    cancelled: int
    returned: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    attributes: dict[str, Any]
    allocations: list[AllocationOut]


class HoldOut(BaseModel):
    id: int
    type: HoldType
    reason: str
    placed_by: str
    placed_at: dt.datetime
    active: bool
    released_by: str | None
    released_at: dt.datetime | None
    release_note: str | None


class OrderFulfillmentLineOut(BaseModel):
    """Units of one order line a fulfillment order ships."""

    line_number: int
    sku: str
    quantity: int


class OrderFulfillmentOut(BaseModel):
    """The part of the order one warehouse ships; `GET /api/v1/fulfillment-orders/{id}`
    shows it whole (plan, reservations, version)."""

    id: int
    number: str
    warehouse: str
    status: FulfillmentStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: list[OrderFulfillmentLineOut]
    """By order line number; units held by several reservations are summed, and lines
    with no units left are left out."""


class CustomerOfOrder(BaseModel):
    id: int | None
    name: str | None
    email: str | None


class OrderOut(BaseModel):
    """`GET /api/v1/orders/{id}`; `version` is the ETag an edit's If-Match names."""

    id: int
    number: str
    channel: str
    external_id: str
    status: OrderStatus
    accepted: bool
    on_hold: bool
    customer: CustomerOfOrder
    ship_to: dict[str, Any]
    bill_to: dict[str, Any] | None
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_charge: Decimal
    total: Decimal
    service_level: ServiceLevel
    ship_by: dt.datetime | None
    deliver_by: dt.datetime | None
    priority: int
    notes: str | None
    gift: bool
    attributes: dict[str, Any]
    placed_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    cancel_reason: str | None
    version: int
    lines: list[OrderLineOut]
    holds: list[HoldOut]
    fulfillment_orders: list[OrderFulfillmentOut]
    """The order's parts by warehouse, oldest first, in every status (planned, released,
    ... cancelled)."""
    shipments: list[dict[str, Any]]
    """What left the warehouses (the fulfillment work fills this)."""


class OrderEventOut(BaseModel):
    id: int
    type: str
    actor: str
    at: dt.datetime
    data: dict[str, Any]


def hold_out(hold: OrderHold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        type=HoldType(hold.type),
        reason=hold.reason,
        placed_by=hold.placed_by,
        placed_at=hold.placed_at,
        active=hold.active,
        released_by=hold.released_by,
        released_at=hold.released_at,
        release_note=hold.release_note,
    )


def order_out(session: Session, order: SalesOrder) -> OrderOut:
    """The order with its lines, allocations, holds and fulfillment orders."""
    allocations = repository.allocations_of_order(session, order.id)
    warehouses = {
        w.id: w.code
        for w in catalog.warehouses_by_ids(session, {a.warehouse_id for a in allocations})
    }
    channels = catalog.channels_by_ids(session, [order.channel_id])
    return shown(
        order,
        channel=channels[0].code if channels else "",
        lines=repository.lines_of(session, order.id),
        allocations=allocations,
        holds=repository.holds_of(session, order.id),
        warehouses=warehouses,
        fulfillment_orders=fulfillment_orders_of(session, order.id),
    )


class AllocationRow(Protocol):
    """What the detail reads of an allocation (an `OrderAllocation`, or the lane's row)."""

    @property
    def line_id(self) -> int: ...
    @property
    def warehouse_id(self) -> int: ...
    @property
    def reservation_id(self) -> int: ...
    @property
    def quantity(self) -> int: ...
    @property
    def created_at(self) -> dt.datetime: ...


class FulfillmentRow(Protocol):
    """What the detail reads of a fulfillment order."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def updated_at(self) -> dt.datetime: ...


class FulfillmentLineRow(Protocol):
    """What the detail reads of a fulfillment order's line."""

    @property
    def fulfillment_order_id(self) -> int: ...
    @property
    def line_number(self) -> int: ...
    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...


def shown(
    order: SalesOrder,
    *,
    channel: str,
    lines: Sequence[OrderLine],
    allocations: Sequence[AllocationRow],
    holds: Sequence[OrderHold],
    warehouses: Mapping[int, str],
    fulfillment_orders: list[OrderFulfillmentOut],
) -> OrderOut:
    """`order_out` of what the caller holds already (`warehouses`: id → code)."""
    by_line: dict[int, list[AllocationRow]] = {}
    for found in allocations:
        by_line.setdefault(found.line_id, []).append(found)
    return OrderOut(
        id=order.id,
        number=order.number,
        channel=channel,
        external_id=order.external_id,
        status=OrderStatus(order.status),
        accepted=order.accepted,
        on_hold=any(hold.active for hold in holds),
        customer=CustomerOfOrder(
            id=order.customer_id, name=order.customer_name, email=order.customer_email
        ),
        ship_to=order.ship_to,
        bill_to=order.bill_to,
        currency=order.currency,
        subtotal=order.subtotal,
        discount_total=order.discount_total,
        tax_total=order.tax_total,
        shipping_charge=order.shipping_charge,
        total=order.total,
        service_level=ServiceLevel(order.service_level),
        ship_by=order.ship_by,
        deliver_by=order.deliver_by,
        priority=order.priority,
        notes=order.notes,
        gift=order.gift,
        attributes=order.attributes,
        placed_at=order.placed_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
        closed_at=order.closed_at,
        cancel_reason=order.cancel_reason,
        version=order.version,
        lines=[line_out(line, by_line.get(line.id, []), warehouses) for line in lines],
        holds=[hold_out(hold) for hold in holds],
        fulfillment_orders=fulfillment_orders,
        shipments=[],
    )


def fulfillment_orders_of(session: Session, order_id: int) -> list[OrderFulfillmentOut]:
    """The order's fulfillment orders with their lines: two queries (one when it has none)."""
    found = routing.fulfillment_orders_with_warehouse(session, order_id)
    return fulfillment_out(
        found, routing.lines_of_fulfillment_orders(session, [fo.id for fo, _ in found])
    )


def fulfillment_out(
    found: Sequence[tuple[FulfillmentRow, str]], lines: Sequence[FulfillmentLineRow]
) -> list[OrderFulfillmentOut]:
    """Fulfillment orders (each with its warehouse's code) as the order shows them, their
    units summed by order line."""
    units: dict[int, dict[tuple[int, str], int]] = {}
    for line in lines:
        by_line = units.setdefault(line.fulfillment_order_id, {})
        key = (line.line_number, line.sku)
        by_line[key] = by_line.get(key, 0) + line.quantity
    return [
        OrderFulfillmentOut(
            id=fo.id,
            number=fo.number,
            warehouse=code,
            status=FulfillmentStatus(fo.status),
            created_at=fo.created_at,
            updated_at=fo.updated_at,
            lines=[
                OrderFulfillmentLineOut(line_number=number, sku=sku, quantity=quantity)
                for (number, sku), quantity in sorted(units.get(fo.id, {}).items())
                if quantity > 0
            ],
        )
        for fo, code in found
    ]


def line_out(
    line: OrderLine, allocations: Sequence[AllocationRow], warehouses: Mapping[int, str]
) -> OrderLineOut:
    return OrderLineOut(
        line_number=line.line_number,
        sku=line.sku,
        quantity=line.quantity,
        open=line.open,
        allocated=line.allocated,
        backordered=line.backordered,
        released=line.released,
        shipped=line.shipped,
        delivered=line.delivered,
        cancelled=line.cancelled,
        returned=line.returned,
        unit_price=line.unit_price,
        discount=line.discount,
        tax=line.tax,
        attributes=line.attributes,
        allocations=[
            AllocationOut(
                warehouse=warehouses.get(a.warehouse_id, ""),
                quantity=a.quantity,
                reservation_id=a.reservation_id,
                created_at=a.created_at,
            )
            for a in allocations
        ],
    )


def event_out(found: OrderEvent) -> OrderEventOut:
    return OrderEventOut(
        id=found.id, type=found.type, actor=found.actor, at=found.at, data=found.data
    )


def timeline_page(session: Session, order: SalesOrder, page: PageRequest) -> Page[OrderEventOut]:
    """One page of the order's timeline, oldest first unless `-id` is asked for."""
    found = repository.events_page(session, order.id, page)
    return Page(items=[event_out(e) for e in found.items], next_cursor=found.next_cursor)
