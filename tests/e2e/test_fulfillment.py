"""Workflow A end to end over real HTTP: an order taken in, planned, released by webhook to
the WMS simulator, acknowledged, picked, packed and shipped by it, reported delivered by a
carrier's tracking webhook; the ledger shows the shipment and the channel's events carry
the tracking number.

Item OMS runs under uvicorn in a thread with its worker (outbox relay and schedules)
embedded; the simulator is a separate HTTP service that only talks HTTP to it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from oms.api.app import create_app
from oms.config import Settings
from oms.db import Database
from oms.inventory import balances
from oms.inventory.models import Movement, MovementKind
from oms.outbox.models import OutboxEvent
from oms.simulate.wms import WmsSimulator, WmsSimulatorConfig
from tests.conftest import AuthHeaders
from tests.integration.routing import factories

DEADLINE_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(db: Database, settings: Settings) -> Iterator[str]:
    """Item OMS on a free port, its worker embedded (relay and schedules on every tick)."""
    live = settings.model_copy(update={"embedded_worker": True, "worker_poll_seconds": 0.05})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(live, database=db), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _healthy(base), "the server to answer /healthz")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def secret_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def easypost_delivered(tracking_number: str) -> dict[str, Any]:
    """A tracker.updated Event as EasyPost sends it, for a delivered package."""
    return {
        "object": "Event",
        "description": "tracker.updated",
        "result": {
            "object": "Tracker",
            "tracking_code": tracking_number,
            "carrier": "UPS",
            "status": "delivered",
            "status_detail": "arrived_at_destination",
            "tracking_details": [
                {
                    "object": "TrackingDetail",
                    "datetime": "2026-11-27T09:00:00Z",
                    "status": "in_transit",
                    "message": "Departed facility",
                    "tracking_location": {"city": "Memphis", "state": "TN", "country": "US"},
                },
                {
                    "object": "TrackingDetail",
                    "datetime": "2026-11-28T15:00:00Z",
                    "status": "delivered",
                    "message": "Delivered, front door",
                    "tracking_location": {"city": "New York", "state": "NY", "country": "US"},
                },
            ],
        },
    }


def simulator_for(
    warehouse: str, served: str, auth_headers: AuthHeaders, admin: dict[str, str], **given: Any
) -> WmsSimulator:
    """A quick WMS simulator for `warehouse`, pushed to by Item OMS."""
    simulator = WmsSimulator(
        WmsSimulatorConfig(
            warehouse=warehouse,
            api_key=secret_of(auth_headers("warehouse", warehouses=[warehouse])),
            oms_url=served,
            port=0,
            ack_delay=0.05,
            pick_delay=0.05,
            pack_delay=0.05,
            ship_delay=0.05,
            seed=7,
            **{"short_rate": 0.0, **given},
        )
    ).start()
    simulator.register(secret_of(admin))
    return simulator


def _order(external_id: str, *, quantity: int) -> dict[str, Any]:
    """A web order of `quantity` ABC-1 to New York."""
    return {
        "channel": "web",
        "external_id": external_id,
        "currency": "USD",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "ship_to": factories.NEW_YORK,
        "lines": [{"sku": "ABC-1", "quantity": quantity, "unit_price": "19.99"}],
    }


def _shipped(http: Any, order_id: int, admin: dict[str, str]) -> dict[str, Any]:
    """The order, once it reads shipped."""

    def order() -> dict[str, Any]:
        return dict(http.get(f"/api/v1/orders/{order_id}", headers=admin).json())

    found: dict[str, Any] = wait_for(lambda: order()["status"] == "shipped" and order(), "shipped")
    return found


def test_an_order_travels_from_intake_to_delivered_over_real_http(
    db: Database, served: str, auth_headers: AuthHeaders
) -> None:
    with db.transaction() as session:
        factories.network(session)
    admin = auth_headers("admin")
    channel = auth_headers("integration", channels=["web"])
    wms_key = secret_of(auth_headers("warehouse", warehouses=["DAL"]))
    simulator = WmsSimulator(
        WmsSimulatorConfig(
            warehouse="DAL",
            api_key=wms_key,
            oms_url=served,
            port=0,
            ack_delay=0.05,
            pick_delay=0.05,
            pack_delay=0.05,
            ship_delay=0.05,
            short_rate=0.0,
            seed=7,
        )
    ).start()
    http = httpx.Client(base_url=served, timeout=10)
    try:
        simulator.register(secret_of(admin))
        taken = http.post(
            "/api/v1/orders",
            headers=channel,
            json=_order("E2E-1", quantity=3),
        )
        assert taken.status_code == 201, taken.text
        order_id = taken.json()["order"]["id"]
        shipped = _shipped(http, order_id, admin)
        assert simulator.counters.shipped == 1
        [fulfillment] = shipped["fulfillment_orders"]
        assert fulfillment["warehouse"] == "DAL"
        [shipment] = wait_for(
            lambda: http.get(
                "/api/v1/shipments", params={"order_id": order_id}, headers=admin
            ).json()["items"],
            "the shipment",
        )
        [package] = shipment["packages"]
        tracking = package["tracking_number"]
        assert tracking.startswith("1Z")

        delivered = http.post(
            "/api/v1/tracking/webhooks/easypost",
            content=json.dumps(easypost_delivered(tracking)),
            headers={"content-type": "application/json"},
        )
        assert delivered.status_code == 200, delivered.text
        assert http.get(f"/api/v1/orders/{order_id}", headers=admin).json()["status"] == "delivered"
    finally:
        http.close()
        simulator.stop()

    with db.transaction() as session:
        moves = list(
            session.scalars(select(Movement).where(Movement.kind == MovementKind.SHIPMENT))
        )
        assert [(m.on_hand_delta, m.reserved_delta) for m in moves] == [(-3, -3)]
        assert balances.verify(session).ok
        events = {e.topic: e.payload for e in session.scalars(select(OutboxEvent))}
    assert "wms.dal.fulfillment_order.released" in events
    assert events["order.shipped"]["tracking_numbers"] == [tracking]
    assert events["order.shipped"]["lines"][0]["tracking_numbers"] == [tracking]
    assert tracking in json.dumps(events["shipment.confirmed"])
    assert tracking in json.dumps(events["order.delivered"])


def test_a_short_pick_is_shipped_by_the_next_warehouse_over_real_http(
    db: Database, served: str, auth_headers: AuthHeaders
) -> None:
    with db.transaction() as session:
        # Only DAL and RNO hold ABC-1: what DAL does not ship can only go to RNO.
        factories.network(session, on_hand={("ABC-1", "DAL"): 5, ("ABC-1", "RNO"): 9})
    admin = auth_headers("admin")
    short = simulator_for("DAL", served, auth_headers, admin, short_rate=1.0)
    whole = simulator_for("RNO", served, auth_headers, admin)
    http = httpx.Client(base_url=served, timeout=10)
    try:
        taken = http.post(
            "/api/v1/orders",
            headers=auth_headers("integration", channels=["web"]),
            json=_order("E2E-SHORT", quantity=4),
        )
        assert taken.status_code == 201, taken.text
        shipped = _shipped(http, taken.json()["order"]["id"], admin)
    finally:
        http.close()
        short.stop()
        whole.stop()

    assert short.counters.short == 1
    assert whole.counters.shipped == 1
    by_warehouse = {fo["warehouse"]: fo["status"] for fo in shipped["fulfillment_orders"]}
    assert by_warehouse == {"DAL": "shipped", "RNO": "shipped"}
    [line] = shipped["lines"]
    assert line["shipped"] == 4
    with db.transaction() as session:
        assert balances.verify(session).ok
