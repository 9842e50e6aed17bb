"""Small factories for fulfillment tests: orders of the routing network planned,
released to the WMS, and shipped through the WMS side of the API."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.fulfillment import release
from oms.orders import intake
from oms.orders import repository as orders
from oms.orders.models import OrderStatus
from oms.orders.schemas import OrderIn
from oms.routing import repository as routing
from oms.routing.models import FulfillmentOrder
from tests.integration.routing import factories

UPS = "1Z999AA10123456784"


def planned(db: Database, quantity: int = 3, **network: Any) -> tuple[int, FulfillmentOrder]:
    """An order of `quantity` ABC-1 planned at DAL: (order id, its fulfillment order)."""
    with db.transaction() as session:
        factories.network(session, **network)
        order_id = factories.order(session, lines=[("ABC-1", quantity)])
        [fo] = routing.fulfillment_orders_of_order(session, order_id)
        session.expunge(fo)
        return order_id, fo


def released(db: Database, quantity: int = 3, **network: Any) -> tuple[int, FulfillmentOrder]:
    """`planned`, then released to its warehouse."""
    order_id, fo = planned(db, quantity, **network)
    with db.transaction() as session:
        assert release.release_due(session, actor=SYSTEM) == [fo.number]
    return order_id, fo


def post(
    client: TestClient, headers: dict[str, str], fo: FulfillmentOrder, what: str, body: Any
) -> Any:
    """A WMS message about `fo` (`ack`, `status`, `shipments`)."""
    return client.post(f"/api/v1/fulfillment-orders/{fo.number}/{what}", json=body, headers=headers)


def shipment(message_id: str, quantity: int, **extra: Any) -> dict[str, Any]:
    """A shipment message of `quantity` ABC-1 in one UPS package."""
    return {
        "message_id": message_id,
        "carrier": "UPS",
        "service": "Ground",
        "packages": [{"tracking_number": UPS, "weight": "1.5", "weight_unit": "kg"}],
        "lines": [{"sku": "ABC-1", "quantity": quantity}],
        **extra,
    }


def priced_order(
    session: Session,
    external_id: str = "1001",
    *,
    lines: Sequence[dict[str, Any]] = ({"sku": "ABC-1", "quantity": 3, "unit_price": "20"},),
    shipping_charge: str = "0",
    currency: str = "USD",
) -> int:
    """An order of channel web to New York, its lines as given (sku, quantity, unit_price,
    discount, tax), taken in through intake; its id."""
    given = OrderIn.model_validate(
        {
            "channel": "web",
            "external_id": external_id,
            "currency": currency,
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "ship_to": factories.NEW_YORK,
            "lines": list(lines),
            "shipping_charge": Decimal(shipping_charge),
        }
    )
    made = intake.accept(session, given, inbox_id=None, actor=SYSTEM)
    assert made.outcome == intake.Outcome.CREATED, made
    return made.order.id


def ship_order(
    db: Database, client: TestClient, headers: dict[str, str], order_id: int, *, prefix: str = "s"
) -> list[str]:
    """Release every planned fulfillment order of the order and ship each whole through the
    API; the shipped fulfillment orders' numbers."""
    with db.transaction() as session:
        release.release_due(session, actor=SYSTEM)
        fos = routing.fulfillment_orders_of_order(session, order_id)
        numbers = {line.id: line.line_number for line in orders.lines_of(session, order_id)}
        held = routing.lines_of_fulfillment_orders(session, [fo.id for fo in fos])
        work = [
            (
                fo,
                [
                    {"line_number": numbers[h.order_line_id], "quantity": h.quantity}
                    for h in held
                    if h.fulfillment_order_id == fo.id and h.quantity
                ],
            )
            for fo in fos
        ]
    shipped = []
    for index, (fo, lines) in enumerate(work):
        if not lines:
            continue
        body = {**shipment(f"{prefix}-{fo.number}-{index}", 0), "lines": lines}
        answer = post(client, headers, fo, "shipments", body)
        assert answer.status_code == 200, answer.text
        shipped.append(fo.number)
    return shipped


def shipped_order(
    db: Database,
    client: TestClient,
    headers: dict[str, str],
    *,
    lines: Sequence[dict[str, Any]] = ({"sku": "ABC-1", "quantity": 3, "unit_price": "20"},),
    shipping_charge: str = "0",
    **network: Any,
) -> int:
    """An order on the routing network (see `routing.factories.network`), shipped whole
    through the WMS side of the API with `headers`; its id."""
    with db.transaction() as session:
        factories.network(session, **network)
        order_id = priced_order(session, lines=lines, shipping_charge=shipping_charge)
    ship_order(db, client, headers, order_id)
    return order_id


def fo_now(session: Session, fo_id: int) -> FulfillmentOrder:
    found = routing.fulfillment_order_by_id(session, fo_id)
    assert found is not None
    return found


def status_of(db: Database, order_id: int) -> OrderStatus:
    with db.transaction() as session:
        order = orders.order_by_id(session, order_id)
        assert order is not None
        return OrderStatus(order.status)
