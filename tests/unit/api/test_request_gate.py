"""The request gate: a process works on a bounded number of requests at once."""

from __future__ import annotations

import asyncio
from typing import Any

from oms.api.app import SQLITE_REQUEST_CONCURRENCY, request_concurrency
from oms.api.middleware import RequestGate
from oms.config import Settings
from oms.db import POSTGRES_POOL_SIZE


class Recorder:
    """An ASGI app that notes how many requests are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        if scope["path"] != "/healthz":
            await self.release.wait()
        self.inside -= 1


def http(path: str, method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "path": path, "method": method}


async def nothing() -> dict[str, Any]:
    return {}


async def ignore(message: Any) -> None:
    return None


def test_no_more_requests_than_the_limit_are_at_work_at_once() -> None:
    async def scenario() -> tuple[int, int]:
        inner = Recorder()
        gate = RequestGate(inner, limit=2)
        calls = [
            asyncio.create_task(gate(http("/api/v1/items"), nothing, ignore)) for _ in range(6)
        ]
        await asyncio.sleep(0.01)
        waiting_most = inner.most
        inner.release.set()
        await asyncio.gather(*calls)
        return waiting_most, inner.most

    while_held, overall = asyncio.run(scenario())

    assert while_held == 2
    assert overall == 2


def test_health_passes_a_full_gate() -> None:
    async def scenario() -> int:
        inner = Recorder()
        gate = RequestGate(inner, limit=1)
        busy = asyncio.create_task(gate(http("/api/v1/items"), nothing, ignore))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(gate(http("/healthz"), nothing, ignore), timeout=1)
        most = inner.most
        inner.release.set()
        await busy
        return most

    assert asyncio.run(scenario()) == 2


def test_single_order_intake_passes_a_full_gate_to_wait_in_its_batcher() -> None:
    async def scenario() -> int:
        inner = Recorder()
        gate = RequestGate(inner, limit=1)
        calls = [
            asyncio.create_task(gate(http("/api/v1/orders", "POST"), nothing, ignore))
            for _ in range(4)
        ]
        await asyncio.sleep(0.01)
        most = inner.most
        inner.release.set()
        await asyncio.gather(*calls)
        return most

    assert asyncio.run(scenario()) == 4


def test_the_limit_follows_the_backend_unless_set() -> None:
    sqlite = Settings(database_url="sqlite:///x.db")
    postgres = Settings(database_url="postgresql+psycopg://localhost/x")

    assert request_concurrency(sqlite) == SQLITE_REQUEST_CONCURRENCY
    assert request_concurrency(postgres) == POSTGRES_POOL_SIZE
    assert request_concurrency(sqlite.model_copy(update={"request_concurrency": 3})) == 3
