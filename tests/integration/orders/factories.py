"""Small factories for order tests: master data with stock, and an order made the way
intake makes one (stored, allocated from the channel's warehouses, status derived,
`order.created` on the timeline).

Until intake's own entry point lands, `order` writes through the repository and
`allocation.allocate`, exactly the steps intake takes after validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from oms import sequences
from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.catalog import repository as catalog
from oms.inventory import balances
from oms.kit import clock
from oms.orders import allocation, lifecycle, repository, timeline
from oms.orders.models import OrderLine, SalesOrder
from oms.orders.schemas import LineIn, OrderIn, content_hash
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock

STOCK = {("ABC-1", "DAL"): 10, ("ABC-1", "NJ"): 5, ("XYZ-9", "DAL"): 3}


def master_data(
    session: Session,
    *,
    channels: Sequence[str] = ("web",),
    on_hand: dict[tuple[str, str], int] | None = None,
) -> None:
    """Items ABC-1, XYZ-9 and OLD-1 (inactive); warehouses DAL then NJ serving each channel;
    stock as `on_hand` (by default ABC-1: 10 at DAL, 5 at NJ; XYZ-9: 3 at DAL)."""
    for sku in ("ABC-1", "XYZ-9"):
        stock.item(session, sku)
    stock.item(session, "OLD-1", active=False)
    for code in ("DAL", "NJ"):
        stock.warehouse(session, code)
    for code in channels:
        stock.channel(session, code, warehouses=["DAL", "NJ"])
    for (sku, warehouse), quantity in (STOCK if on_hand is None else on_hand).items():
        stock.stock(session, sku, warehouse, quantity)


def order_in(
    external_id: str = "1001",
    *,
    channel: str = "web",
    lines: Sequence[tuple[str, int]] = (("ABC-1", 2),),
    **overrides: Any,
) -> OrderIn:
    """The canonical order a channel would send, `lines` as (SKU, quantity)."""
    return OrderIn.model_validate(
        {
            "channel": channel,
            "external_id": external_id,
            "currency": "USD",
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "ship_to": {"name": "Ada Lovelace", **catalog_data.address()},
            "lines": [
                {"sku": sku, "quantity": quantity, "unit_price": "19.99"} for sku, quantity in lines
            ],
            **overrides,
        }
    )


def order(
    session: Session,
    external_id: str = "1001",
    *,
    channel: str = "web",
    lines: Sequence[tuple[str, int]] = (("ABC-1", 2),),
    accepted: bool = True,
    **overrides: Any,
) -> int:
    """An order stored and allocated as intake would; its id."""
    given = order_in(external_id, channel=channel, lines=lines, **overrides)
    found = catalog.channel_by_code(session, channel)
    assert found is not None
    items = catalog.items_by_skus(session, [line.sku for line in given.lines])
    number = sequences.next_value(session, "sales_order")
    subtotal = sum((line.unit_price * line.quantity for line in given.lines), Decimal(0))
    order_id = repository.insert_order_once(
        session,
        {
            "number": f"SO-{number:06d}",
            "channel_id": found.id,
            "external_id": given.external_id,
            "customer_name": given.customer.name,
            "customer_email": given.customer.email,
            "ship_to": given.ship_to.model_dump(mode="json", exclude_none=True),
            "currency": given.currency,
            "subtotal": subtotal,
            "total": subtotal,
            "service_level": given.service_level,
            "accepted": accepted,
            "content_hash": content_hash(given),
            "placed_at": given.placed_at or clock.now(),
        },
    )
    assert order_id is not None
    repository.insert_lines(session, [line_row(order_id, line, items) for line in given.lines])
    stored = repository.order_by_id(session, order_id)
    assert stored is not None
    lines_stored = repository.lines_of(session, order_id)
    if accepted:
        allocation.allocate(session, stored, lines_stored, actor=SYSTEM)
    lifecycle.refresh(stored, lines_stored)
    stored.version = 1
    session.flush()
    timeline.record(session, stored, "created", actor=SYSTEM)
    return order_id


def line_row(order_id: int, line: LineIn, items: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_number": line.line_number,
        "item_id": items[line.sku].id,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount": line.discount,
        "tax": line.tax,
        "attributes": line.attributes,
    }


def stored(session: Session, order_id: int) -> tuple[SalesOrder, list[OrderLine]]:
    """The order as stored now, with its lines."""
    found = repository.order_by_id(session, order_id)
    assert found is not None
    return found, repository.lines_of(session, order_id)


def release_units(session: Session, order_id: int, line_number: int, quantity: int) -> None:
    """Stand in for fulfillment: move `quantity` allocated units of a line to released."""
    found, lines = stored(session, order_id)
    [line] = [line for line in lines if line.line_number == line_number]
    line.allocated -= quantity
    line.released += quantity
    lifecycle.refresh(found, lines)
    session.flush()


def ship_everything(session: Session, order_id: int) -> None:
    """Stand in for fulfillment: every live unit shipped."""
    found, lines = stored(session, order_id)
    for line in lines:
        line.shipped += line.allocated + line.backordered + line.released + line.open
        line.allocated = line.backordered = line.released = 0
    lifecycle.refresh(found, lines)
    session.flush()


def ledger_holds(session: Session) -> bool:
    """Balances equal the ledger, and reserved equals the active reservations."""
    return balances.verify(session).ok


def scoped(*channels: str, role: Role = Role.ADMIN) -> Principal:
    """A principal that sees only `channels`."""
    return Principal(
        kind="api_key", id=99, name="scoped", roles=frozenset({role}), channels=frozenset(channels)
    )
