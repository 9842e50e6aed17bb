"""`GET /api/v1/orders` over HTTP: summaries, repeated filters, cursors, scope, refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from oms.db import Database
from oms.orders.models import HoldType
from tests.conftest import AuthHeaders
from tests.integration.inventory import factories as stock
from tests.integration.orders.test_search import stored_order


def given_orders(db: Database) -> None:
    with db.transaction() as session:
        stock.channel(session, "web")
        stock.channel(session, "amazon", type="marketplace")
        stored_order(session, "w-1", lines=[{"allocated": 1}], holds=[(HoldType.FRAUD, True)])
        stored_order(session, "w-2", lines=[{"backordered": 1}])
        stored_order(session, "a-1", channel="amazon", lines=[{"cancelled": 1}])


def test_the_list_answers_order_summaries(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    given_orders(db)

    response = client.get("/api/v1/orders", params={"q": "w-1"}, headers=admin)

    assert response.status_code == 200
    [summary] = response.json()["items"]
    assert summary == {
        "id": summary["id"],
        "number": "SO-W-1",
        "channel": "web",
        "external_id": "w-1",
        "status": "allocated",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "total": "10.00",
        "currency": "USD",
        "placed_at": "2026-11-02T12:00:00Z",
        "priority": 0,
        "holds": ["fraud"],
        "line_count": 1,
    }


def test_status_repeats_for_any_of_several(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    given_orders(db)

    response = client.get(
        "/api/v1/orders?status=backordered&status=cancelled&sort=number", headers=admin
    )

    assert [o["external_id"] for o in response.json()["items"]] == ["a-1", "w-2"]


def test_filters_combine(client: TestClient, db: Database, admin: dict[str, str]) -> None:
    given_orders(db)

    response = client.get(
        "/api/v1/orders",
        params={"channel": "web", "hold_type": "fraud", "placed_from": "2026-11-02"},
        headers=admin,
    )

    assert [o["external_id"] for o in response.json()["items"]] == ["w-1"]


def test_the_next_cursor_walks_to_the_last_page(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    given_orders(db)

    first = client.get("/api/v1/orders?limit=2&sort=number", headers=admin).json()
    second = client.get(
        "/api/v1/orders",
        params={"limit": 2, "sort": "number", "cursor": first["next_cursor"]},
        headers=admin,
    ).json()

    assert [o["number"] for o in first["items"] + second["items"]] == [
        "SO-A-1",
        "SO-W-1",
        "SO-W-2",
    ]
    assert second["next_cursor"] is None


def test_a_key_scoped_to_a_channel_lists_only_its_orders(
    client: TestClient, db: Database, auth_headers: AuthHeaders
) -> None:
    given_orders(db)
    scoped = auth_headers("viewer", channels=["amazon"])

    response = client.get("/api/v1/orders", headers=scoped)

    assert [o["external_id"] for o in response.json()["items"]] == ["a-1"]


def test_a_channel_outside_the_keys_scope_answers_404(
    client: TestClient, db: Database, auth_headers: AuthHeaders
) -> None:
    given_orders(db)
    scoped = auth_headers("viewer", channels=["amazon"])

    response = client.get("/api/v1/orders?channel=web", headers=scoped)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.channel_not_found"


def test_an_unknown_sort_key_is_refused_at_sort(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/orders?sort=colour", headers=admin)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["sort"]


def test_an_unknown_status_is_refused_at_status(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/orders?status=lost", headers=admin)

    assert response.status_code == 422
    assert response.json()["code"] == "validation.failed"
    assert "status" in response.json()["errors"][0]["path"]


def test_every_role_may_list_orders(client: TestClient, auth_headers: AuthHeaders) -> None:
    response = client.get("/api/v1/orders", headers=auth_headers("warehouse"))

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_listing_orders_needs_an_api_key(client: TestClient) -> None:
    response = client.get("/api/v1/orders")

    assert response.status_code == 401
