"""What POST /api/v1/orders answers, and what the API shows of the order after, are the
same whether the express lane or the general path took the order in."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.api.app import create_app
from oms.auth import service as auth
from oms.auth.principal import SYSTEM
from oms.config import Settings
from oms.db import Database
from oms.orders import express
from tests.integration.orders.deliveries import payload
from tests.integration.orders.test_express import _prepared

TIMES = {
    "actor",
    "created_at",
    "updated_at",
    "placed_at",
    "received_at",
    "processed_at",
    "at",
    "event_id",
    "request_id",
}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _bodies() -> list[dict[str, Any]]:
    first = payload("a-1", lines=[("ABC-1", 2), ("XYZ-9", 1)], shipping_charge="4.50")
    second = payload(
        "a-2",
        lines=[("ABC-1", 1), ("LMN-3", 1)],
        bill_to={"name": "Ada Lovelace", **first["ship_to"]},
        notes="leave at door",
        gift=True,
        attributes={"k": [1, None, {"x": "y"}]},
        ship_by="2026-11-22T10:00:00+02:00",
        service_level="expedited",
        priority=3,
    )
    second["lines"][0].update(
        discount="1.005", tax="0.30", unit_price="10.1234", attributes={"gift_wrap": True}
    )
    third = payload("a-3", channel="b2b", lines=[("ABC-1", 9)])
    return [payload("a-0", lines=[("XYZ-9", 1)]), first, second, third]


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _run(db: Database) -> list[Any]:
    _prepared(db)
    settings = Settings(database_url=db.url, embedded_worker=False)
    app = create_app(settings, database=db)
    with db.transaction() as session:
        issued = auth.create_api_key(session, name="t", roles=["admin"], actor=SYSTEM)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    seen: list[Any] = []
    with TestClient(app) as client:
        for body in _bodies():
            posted = client.post("/api/v1/orders", content=json.dumps(body), headers=headers)
            seen.append(("post", posted.status_code, _plain(posted.json())))
            assert "order" in posted.json(), posted.json()
            order_id = posted.json()["order"]["id"]
            got = client.get(f"/api/v1/orders/{order_id}", headers=headers)
            seen.append(("get", got.status_code, _plain(got.json())))
            events = client.get(f"/api/v1/orders/{order_id}/events", headers=headers)
            seen.append(("events", events.status_code, _plain(events.json())))
            inbox = client.get(f"/api/v1/inbox/{posted.json()['inbox_id']}", headers=headers)
            seen.append(("inbox", inbox.status_code, _plain(inbox.json())))
    return seen


def test_the_api_shows_the_same_on_both_paths(
    new_database: Callable[[], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    lane = _run(new_database())
    monkeypatch.setattr(express, "eligible", lambda *_: False)
    general = _run(new_database())
    diffs = [
        f"{a[0]} #{n // 4}{d}"
        for n, (a, b) in enumerate(zip(lane, general, strict=True))
        for d in _diff(list(a), list(b))
    ]
    assert diffs == []
