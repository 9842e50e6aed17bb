"""A stub of Item OMS's WMS endpoints for the simulator's tests: a real Starlette app on a
free port of 127.0.0.1 that records every request and answers as docs/WMS.md says."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oms.outbox.signing import new_secret

PAGE_SIZE = 2
"""Small pages, so a poll has to follow `next_cursor`."""


@dataclass(frozen=True)
class Call:
    """One request the stub got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def fulfillment_order_id(self) -> int:
        return int(self.path.split("/")[4])

    @property
    def kind(self) -> str:
        """ack, picking, packed or shipments."""
        last = self.path.rsplit("/", 1)[-1]
        return str(self.body["status"]) if last == "status" else last


class StubOms:
    """Records calls; lists `released` fulfillment orders; a message id seen again is a
    duplicate; `failures[kind]` answers the next calls of that kind with 503."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.released: dict[int, dict[str, Any]] = {}
        self.failures: dict[str, int] = {}
        self.secret = new_secret()
        self._outcomes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        app = Starlette(
            routes=[
                Route("/api/v1/fulfillment-orders", self._list, methods=["GET"]),
                Route(
                    "/api/v1/fulfillment-orders/{id:int}/{kind}", self._message, methods=["POST"]
                ),
                Route("/api/v1/warehouses/{code}/wms-connection", self._connect, methods=["PUT"]),
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

    def messages(self, fulfillment_order_id: int | None = None) -> list[Call]:
        """The POSTs of the WMS messages, of one fulfillment order or all, in arrival order."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == "POST"
                and (fulfillment_order_id is None or c.fulfillment_order_id == fulfillment_order_id)
            ]

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def release(self, order: dict[str, Any]) -> None:
        """Make a fulfillment order wait to be pulled."""
        with self._lock:
            self.released[int(order["id"])] = order

    async def _record(self, request: Request) -> Call:
        raw = await request.body()
        call = Call(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.json() if raw else {},
        )
        with self._lock:
            self.calls.append(call)
        return call

    async def _list(self, request: Request) -> JSONResponse:
        call = await self._record(request)
        with self._lock:
            waiting = [
                o for o in self.released.values() if o["warehouse"] == call.query.get("warehouse")
            ]
        start = int(call.query.get("cursor", "0"))
        page = waiting[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(waiting)
        return JSONResponse(
            {"items": page, "next_cursor": str(start + PAGE_SIZE) if more else None}
        )

    async def _message(self, request: Request) -> JSONResponse:
        call = await self._record(request)
        with self._lock:
            if self.failures.get(call.kind, 0) > 0:
                self.failures[call.kind] -= 1
                return JSONResponse({"title": "Service unavailable"}, 503)
            message_id = call.body["message_id"]
            outcome = "duplicate" if message_id in self._outcomes else "applied"
            self._outcomes.setdefault(message_id, outcome)
            self.released.pop(call.fulfillment_order_id, None)
        return JSONResponse(
            {
                "message_id": message_id,
                "outcome": outcome,
                "note": None,
                "fulfillment_order": {"id": call.fulfillment_order_id},
                "shipment": {"id": 1} if call.kind == "shipments" else None,
            }
        )

    async def _connect(self, request: Request) -> JSONResponse:
        call = await self._record(request)
        return JSONResponse({**call.body, "secret": self.secret})

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[StubOms]:
        stub = cls()
        stub._thread.start()
        wait_until(lambda: stub._server.started, "the stub OMS listens")
        try:
            yield stub
        finally:
            stub._server.should_exit = True
            stub._thread.join(timeout=10)
            stub._socket.close()


def wait_until(condition: Callable[[], object], what: str, *, within_s: float = 15.0) -> None:
    """Wait for something another thread does; fail naming it if it never happens."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)
