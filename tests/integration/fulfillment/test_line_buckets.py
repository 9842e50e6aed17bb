"""Every WMS path keeps the books: each line's buckets add up to what was ordered, its
allocated units are those of its planned fulfillment orders and its released units those
of its released ones, each fulfillment order line's units are what its reservation still
holds, and the balances equal the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.inventory.models import Reservation, ReservationStatus
from oms.orders import lifecycle
from oms.orders import repository as orders
from oms.routing import repository as routing
from oms.routing.models import FulfillmentOrder, FulfillmentStatus
from tests.conftest import AuthHeaders
from tests.integration.fulfillment.factories import post, released, shipment
from tests.integration.orders import factories as order_data

Wms = Callable[[str, dict[str, Any]], Any]
WORKING = {
    FulfillmentStatus.RELEASED,
    FulfillmentStatus.ACKNOWLEDGED,
    FulfillmentStatus.PICKING,
    FulfillmentStatus.PACKED,
}


def assert_books_hold(db: Database, order_id: int) -> None:
    with db.transaction() as session:
        assert order_data.ledger_holds(session)
        lines = orders.lines_of(session, order_id)
        fos = routing.fulfillment_orders_of_order(session, order_id)
        fo_lines = routing.lines_of_fulfillment_orders(session, [f.id for f in fos])
        status = {f.id: FulfillmentStatus(f.status) for f in fos}
        for line in lines:
            assert line.open == 0, line.line_number
            assert line.quantity == (
                line.allocated
                + line.backordered
                + line.released
                + line.shipped
                + line.delivered
                + line.cancelled
            )
            held_by: dict[str, int] = {"planned": 0, "working": 0, "ended": 0}
            for f in fo_lines:
                if f.order_line_id == line.id:
                    held_by[_stage(status[f.fulfillment_order_id])] += f.quantity
            assert (line.allocated, line.released, held_by["ended"]) == (
                held_by["planned"],
                held_by["working"],
                0,
            )
            shipped = sum(f.shipped for f in fo_lines if f.order_line_id == line.id)
            assert line.shipped + line.delivered == shipped
        for fo_line in fo_lines:
            reservation = session.get(Reservation, fo_line.reservation_id)
            assert reservation is not None
            held = (
                reservation.quantity - reservation.consumed
                if reservation.status == ReservationStatus.ACTIVE
                else 0
            )
            assert held == fo_line.quantity, (fo_line.id, reservation.status)


def _stage(status: FulfillmentStatus) -> str:
    if status == FulfillmentStatus.PLANNED:
        return "planned"
    return "working" if status in WORKING else "ended"


@pytest.fixture
def wms_of(client: TestClient, auth_headers: AuthHeaders) -> Callable[[FulfillmentOrder], Wms]:
    headers = auth_headers("warehouse")

    def bound(fo: FulfillmentOrder) -> Wms:
        def send(what: str, body: dict[str, Any]) -> Any:
            answer = post(client, headers, fo, what, body)
            assert answer.status_code == 200, answer.text
            return answer.json()

        return send

    return bound


def test_the_books_hold_through_a_whole_shipment(
    db: Database, wms_of: Callable[[FulfillmentOrder], Wms]
) -> None:
    order_id, fo = released(db)
    wms = wms_of(fo)
    wms("ack", {"message_id": "a", "accepted": True})
    wms("shipments", shipment("s1", 3))
    wms("shipments", shipment("s1", 3))

    assert_books_hold(db, order_id)


def test_the_books_hold_through_partial_shipments_and_a_short_final_one_rerouted(
    db: Database, wms_of: Callable[[FulfillmentOrder], Wms]
) -> None:
    order_id, fo = released(db, 5)
    wms = wms_of(fo)
    wms("shipments", shipment("s1", 1, final=False))
    wms("shipments", shipment("s2", 2, final=False))
    wms("shipments", shipment("s2", 2, final=False))
    wms("shipments", shipment("s3", 1))

    assert_books_hold(db, order_id)
    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.shipped, line.allocated + line.backordered) == (4, 1)


def test_the_books_hold_through_a_short_shipment_backordered(
    db: Database,
    client: TestClient,
    admin: dict[str, str],
    wms_of: Callable[[FulfillmentOrder], Wms],
) -> None:
    order_id, fo = released(db)
    client.put(
        "/api/v1/warehouses/DAL/wms-connection", json={"short_ship": "backorder"}, headers=admin
    )
    wms = wms_of(fo)
    wms("shipments", shipment("s1", 1, final=False))
    wms("shipments", shipment("s2", 1))

    assert_books_hold(db, order_id)


def test_the_books_hold_through_a_rejection_after_a_partial_shipment(
    db: Database, wms_of: Callable[[FulfillmentOrder], Wms]
) -> None:
    order_id, fo = released(db)
    wms = wms_of(fo)
    wms("shipments", shipment("s1", 1, final=False))
    wms("ack", {"message_id": "r", "accepted": False, "reason": "rest not found"})
    wms("ack", {"message_id": "r", "accepted": False, "reason": "rest not found"})

    assert_books_hold(db, order_id)


def test_the_books_hold_when_the_unreleased_rest_of_a_rerouted_line_is_cancelled(
    db: Database, wms_of: Callable[[FulfillmentOrder], Wms]
) -> None:
    order_id, fo = released(db)
    wms_of(fo)("shipments", shipment("s1", 2))
    with db.transaction() as session:
        lifecycle.cancel_line(session, order_id, 1, reason="no longer", quantity=1, actor=SYSTEM)

    assert_books_hold(db, order_id)
