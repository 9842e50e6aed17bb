"""The carrier simulator against a stub of Item OMS over real HTTP: it lists shipments on
their way, walks each package to the door with signed EasyPost webhooks that Item OMS's
parser reads back, retries on 5xx, gives up on 4xx, and takes each package once."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oms.fulfillment import tracking_formats
from oms.fulfillment.tracking_formats import TrackingStatus, TrackingUpdate
from oms.simulate.carrier import CarrierSimulator, CarrierSimulatorConfig
from oms.simulate.journey import Delays
from tests.integration.simulate.stub_oms import wait_until

SECRET = "easypost-demo-secret"
API_KEY = "oms_carrier1_viewer-key"
FAST = Delays(in_transit=0.01, hub=0.01, out_for_delivery=0.01, delivered=0.01, exception=0.01)
PAGE_SIZE = 2


@dataclass(frozen=True)
class Webhook:
    """One tracking webhook the stub got, read back by Item OMS's parser."""

    headers: dict[str, str]
    event: dict[str, Any]
    update: TrackingUpdate


class StubTracking:
    """Lists `shipments` (by status, in small pages), shows the DAL warehouse and the
    orders' ship-tos, and takes EasyPost webhooks: a bad signature is a 401, a payload its
    parser refuses a 422; an accepted one moves the package's status as Item OMS would.
    `failures` answers the next webhooks with 503, `refuse` with 400."""

    def __init__(self, *, secret: str | None = SECRET) -> None:
        self.secret = secret
        self.shipments: list[dict[str, Any]] = []
        self.webhooks: list[Webhook] = []
        self.attempts: list[str] = []
        self.lists: list[dict[str, str]] = []
        self.failures = 0
        self.refuse = False
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        app = Starlette(
            routes=[
                Route("/api/v1/shipments", self._list, methods=["GET"]),
                Route("/api/v1/warehouses/{code}", self._warehouse, methods=["GET"]),
                Route("/api/v1/orders/{id:int}", self._order, methods=["GET"]),
                Route("/api/v1/tracking/webhooks/easypost", self._webhook, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, lifespan="off", ws="none", log_config=None, access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._socket])), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def ship(self, shipment_id: int, *packages: tuple[str, str], order_id: int = 41) -> None:
        """A shipment from DAL with packages (tracking number, status)."""
        with self._lock:
            self.shipments.append(
                {
                    "id": shipment_id,
                    "number": f"SH-{shipment_id:06d}",
                    "order_id": order_id,
                    "warehouse": "DAL",
                    "carrier": "UPS",
                    "service": "GROUND",
                    "packages": [
                        {"tracking_number": code, "carrier": "UPS", "status": status}
                        for code, status in packages
                    ],
                }
            )

    def of(self, tracking_number: str) -> list[Webhook]:
        with self._lock:
            return [w for w in self.webhooks if w.update.tracking_number == tracking_number]

    def delivered(self, tracking_number: str) -> bool:
        return any(w.update.status is TrackingStatus.DELIVERED for w in self.of(tracking_number))

    async def _list(self, request: Request) -> JSONResponse:
        query = dict(request.query_params)
        with self._lock:
            self.lists.append({**query, "authorization": request.headers["authorization"]})
            waiting = [s for s in self.shipments if _status(s) == query.get("status")]
        start = int(query.get("cursor", "0"))
        more = start + PAGE_SIZE < len(waiting)
        return JSONResponse(
            {
                "items": waiting[start : start + PAGE_SIZE],
                "next_cursor": str(start + PAGE_SIZE) if more else None,
            }
        )

    async def _warehouse(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "code": request.path_params["code"],
                "address": {"line1": "2500 Irving Blvd", "city": "Dallas", "region": "TX",
                            "postal_code": "75207", "country": "US"},
                "latitude": 32.7767,
                "longitude": -96.797,
            }
        )  # fmt: skip

    async def _order(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "id": request.path_params["id"],
                "ship_to": {"name": "Alex Morgan", "line1": "350 Fifth Ave", "city": "New York",
                            "region": "NY", "postal_code": "10118", "country": "US"},
            }
        )  # fmt: skip

    async def _webhook(self, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        event = json.loads(body)
        with self._lock:
            self.attempts.append(event["id"])
            if self.failures > 0:
                self.failures -= 1
                return JSONResponse({"title": "Service unavailable"}, 503)
            if self.refuse:
                return JSONResponse({"title": "Bad request"}, 400)
        if self.secret is not None and not tracking_formats.verify_signature(
            "easypost", body, headers, self.secret
        ):
            return JSONResponse({"title": "bad signature"}, 401)
        update = tracking_formats.parse("easypost", body)
        with self._lock:
            self.webhooks.append(Webhook(headers, event, update))
            for shipment in self.shipments:
                for package in shipment["packages"]:
                    if package["tracking_number"] == update.tracking_number:
                        package["status"] = update.status.value
        return JSONResponse({"outcome": "applied", "tracking_number": update.tracking_number})

    @classmethod
    @contextmanager
    def running(cls, **options: Any) -> Iterator[StubTracking]:
        stub = cls(**options)
        stub._thread.start()
        wait_until(lambda: stub._server.started, "the stub OMS listens")
        try:
            yield stub
        finally:
            stub._server.should_exit = True
            stub._thread.join(timeout=10)
            stub._socket.close()


def _status(shipment: dict[str, Any]) -> str:
    """The least advanced of its packages' statuses, as Item OMS derives it."""
    order = ["exception", "pre_transit", "in_transit", "out_for_delivery", "delivered"]
    return str(min((p["status"] for p in shipment["packages"]), key=order.index))


@pytest.fixture
def stub() -> Iterator[StubTracking]:
    with StubTracking.running() as running:
        yield running


def a_carrier(stub: StubTracking, **changes: Any) -> CarrierSimulator:
    options: dict[str, Any] = {
        "api_key": API_KEY,
        "oms_url": stub.url,
        "secret": SECRET,
        "delays": FAST,
        "exception_rate": 0.0,
        "seed": 1,
        "poll_interval": 0.05,
        "retry_delay": 0.01,
        **changes,
    }
    return CarrierSimulator(CarrierSimulatorConfig(**options))


def test_a_shipped_package_is_walked_to_delivered_by_signed_webhooks_read_back_in_order(
    stub: StubTracking,
) -> None:
    stub.ship(1, ("1ZAAA0001", "pre_transit"))

    with a_carrier(stub) as carrier:
        wait_until(lambda: carrier.counters.delivered == 1, "1ZAAA0001 delivered")
        counts = carrier.counters

    statuses = [w.update.status for w in stub.of("1ZAAA0001")]
    assert statuses == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    assert all("x-hmac-signature" in w.headers for w in stub.of("1ZAAA0001"))
    assert (counts.packages, counts.delivered, counts.webhooks, counts.failed) == (1, 1, 6, 0)


def test_the_package_leaves_dallas_and_is_delivered_in_new_york(stub: StubTracking) -> None:
    stub.ship(1, ("1ZAAA0001", "pre_transit"))

    with a_carrier(stub):
        wait_until(lambda: stub.delivered("1ZAAA0001"), "1ZAAA0001 delivered")

    events = stub.of("1ZAAA0001")[-1].update.events
    assert events[0].location == "DALLAS, TX 75207, US"
    assert events[-1].location == "NEW YORK, NY 10118, US"
    assert len(events) == 6


def test_the_carrier_reads_shipments_with_its_key_status_by_status_page_by_page(
    stub: StubTracking,
) -> None:
    for n in range(1, 4):
        stub.ship(n, (f"1ZPAGE000{n}", "pre_transit"))

    with a_carrier(stub):
        wait_until(
            lambda: all(stub.delivered(f"1ZPAGE000{n}") for n in range(1, 4)), "three delivered"
        )

    assert {q["status"] for q in stub.lists} >= {
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "exception",
    }
    assert {q["authorization"] for q in stub.lists} == {f"Bearer {API_KEY}"}
    assert any(q.get("cursor") == "2" for q in stub.lists)


def test_each_package_of_a_shipment_gets_its_own_tracker_and_a_delivered_one_none(
    stub: StubTracking,
) -> None:
    stub.ship(
        1, ("1ZMULTI01", "pre_transit"), ("1ZMULTI02", "pre_transit"), ("1ZDONE", "delivered")
    )

    with a_carrier(stub) as carrier:
        wait_until(lambda: carrier.counters.delivered == 2, "both delivered")
        counts = carrier.counters

    trackers = {w.event["result"]["id"] for w in stub.webhooks}
    assert len(trackers) == 2
    assert stub.of("1ZDONE") == []
    assert counts.packages == 2


def test_a_package_is_taken_once_however_often_it_is_listed(stub: StubTracking) -> None:
    stub.ship(1, ("1ZONCE", "pre_transit"))

    with a_carrier(stub, delays=Delays(0.01, 0.01, 0.01, 0.3, 0.01)) as carrier:
        wait_until(lambda: len(stub.lists) > 20, "many polls")
        wait_until(lambda: carrier.counters.delivered == 1, "1ZONCE delivered")
        counts = carrier.counters

    assert counts.packages == 1
    assert len([w for w in stub.of("1ZONCE") if w.update.status is TrackingStatus.DELIVERED]) == 1


def test_a_package_already_in_transit_resumes_out_for_delivery(stub: StubTracking) -> None:
    stub.ship(1, ("1ZRESUME", "in_transit"))

    with a_carrier(stub):
        wait_until(lambda: stub.delivered("1ZRESUME"), "1ZRESUME delivered")

    assert [w.update.status for w in stub.of("1ZRESUME")] == [
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]


def test_a_package_meeting_an_exception_is_delivered_after_it(stub: StubTracking) -> None:
    stub.ship(1, ("1ZTROUBLE", "pre_transit"))

    with a_carrier(stub, exception_rate=1.0) as carrier:
        wait_until(lambda: carrier.counters.delivered == 1, "1ZTROUBLE delivered")
        counts = carrier.counters

    statuses = [w.update.status for w in stub.of("1ZTROUBLE")]
    assert TrackingStatus.EXCEPTION in statuses
    assert statuses[-1] is TrackingStatus.DELIVERED
    assert (counts.exceptions, counts.delivered) == (1, 1)


def test_a_503_is_sent_again_as_the_same_event(stub: StubTracking) -> None:
    stub.failures = 2
    stub.ship(1, ("1ZRETRY", "pre_transit"))

    with a_carrier(stub):
        wait_until(lambda: stub.delivered("1ZRETRY"), "1ZRETRY delivered")

    first = stub.of("1ZRETRY")[0].event["id"]
    assert stub.attempts[:3] == [first, first, first]
    assert len(stub.of("1ZRETRY")) == 6


def test_a_refused_webhook_gives_the_journey_up(stub: StubTracking) -> None:
    stub.refuse = True
    stub.ship(1, ("1ZREFUSED", "pre_transit"))

    with a_carrier(stub) as carrier:
        wait_until(lambda: carrier.counters.failed == 1, "the journey given up")
        counts = carrier.counters

    assert len(stub.attempts) == 1
    assert (counts.packages, counts.webhooks, counts.delivered) == (1, 0, 0)


def test_without_a_secret_the_webhooks_go_unsigned() -> None:
    with StubTracking.running(secret=None) as stub:
        stub.ship(1, ("1ZPLAIN", "pre_transit"))
        with a_carrier(stub, secret=None):
            wait_until(lambda: stub.delivered("1ZPLAIN"), "1ZPLAIN delivered")

        assert not any("x-hmac-signature" in w.headers for w in stub.of("1ZPLAIN"))


def test_stop_ends_the_journeys_in_flight(stub: StubTracking) -> None:
    stub.ship(1, ("1ZSLOW", "pre_transit"))
    carrier = a_carrier(stub, delays=Delays(in_transit=60)).start()
    wait_until(lambda: stub.of("1ZSLOW"), "the label scanned")

    carrier.stop()

    assert [w.update.status for w in stub.of("1ZSLOW")] == [TrackingStatus.PRE_TRANSIT]
