"""The reservation routes over HTTP: reserve, read, release, move, consume, and scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from oms.inventory import balances
from tests.conftest import AuthHeaders
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "A")
        factories.warehouse(session, "DAL")
        factories.warehouse(session, "NJ")
        factories.stock(session, "A", "DAL", 10)
        factories.stock(session, "A", "NJ", 3)
    return db


def reserve(
    client: TestClient, headers: dict[str, str], quantity: int = 4, **overrides: Any
) -> Any:
    body = {"sku": "A", "warehouse": "DAL", "quantity": quantity, "reference": "SO-1", **overrides}
    return client.post("/api/v1/reservations", json=body, headers=headers)


def stock_line(client: TestClient, headers: dict[str, str], warehouse: str = "DAL") -> Any:
    [line] = client.get(
        "/api/v1/inventory", params={"sku": "A", "warehouse": warehouse}, headers=headers
    ).json()["items"]
    return line


def verified(db: Database) -> bool:
    with db.transaction() as session:
        return balances.verify(session).ok


def test_a_reservation_answers_201_with_its_id_status_and_kind(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = reserve(client, admin)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/reservations/{body['id']}"
    assert {k: body[k] for k in ("sku", "warehouse", "quantity", "status", "kind")} == {
        "sku": "A",
        "warehouse": "DAL",
        "quantity": 4,
        "status": "active",
        "kind": "hard",
    }
    assert body["expires_at"] is None
    assert stock_line(client, admin)["available"] == 6


def test_a_reservation_with_an_expiry_is_soft(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    body = reserve(client, admin, expires_in_seconds=900).json()

    assert body["kind"] == "soft"
    assert body["expires_at"] is not None


def test_a_reservation_beyond_available_is_a_409_carrying_the_figures(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    reserve(client, admin, 8)

    response = reserve(client, admin, 3)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "inventory.insufficient_stock"
    assert problem["details"] == {"sku": "A", "warehouse": "DAL", "requested": 3, "available": 2}
    assert stock_line(client, admin)["reserved"] == 8


def test_a_reservation_of_nothing_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = reserve(client, admin, 0)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["quantity"]


def test_a_reservation_is_read_back_by_its_id(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin).json()

    response = client.get(f"/api/v1/reservations/{made['id']}", headers=admin)

    assert response.status_code == 200
    assert response.json() == made


def test_an_unknown_reservation_is_a_404(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get("/api/v1/reservations/424242", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "inventory.reservation_not_found"


def test_deleting_a_reservation_releases_it(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin).json()

    response = client.delete(f"/api/v1/reservations/{made['id']}", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "released"
    assert stock_line(client, admin)["reserved"] == 0
    assert verified(stocked)


def test_releasing_a_reservation_twice_is_a_conflict(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin).json()
    client.delete(f"/api/v1/reservations/{made['id']}", headers=admin)

    response = client.delete(f"/api/v1/reservations/{made['id']}", headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "inventory.reservation_not_active"


def test_moving_a_reservation_reserves_at_the_new_warehouse_and_releases_the_old(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin, 2).json()

    response = client.post(
        f"/api/v1/reservations/{made['id']}/move", json={"warehouse": "NJ"}, headers=admin
    )

    assert response.status_code == 200
    moved = response.json()
    assert (moved["warehouse"], moved["quantity"], moved["status"]) == ("NJ", 2, "active")
    old = client.get(f"/api/v1/reservations/{made['id']}", headers=admin).json()
    assert old["status"] == "released"
    assert (stock_line(client, admin)["reserved"], stock_line(client, admin, "NJ")["reserved"]) == (
        0,
        2,
    )


def test_moving_a_reservation_checks_stock_at_the_new_warehouse(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin, 5).json()

    response = client.post(
        f"/api/v1/reservations/{made['id']}/move", json={"warehouse": "NJ"}, headers=admin
    )

    assert response.status_code == 409
    assert response.json()["details"]["available"] == 3
    kept = client.get(f"/api/v1/reservations/{made['id']}", headers=admin).json()
    assert (kept["warehouse"], kept["status"]) == ("DAL", "active")
    assert verified(stocked)


def test_consuming_part_of_a_reservation_lowers_reserved_and_on_hand_together(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin, 4).json()

    response = client.post(
        f"/api/v1/reservations/{made['id']}/consume",
        json={"quantity": 3, "reference": "SHP-1"},
        headers=admin,
    )

    assert response.status_code == 200
    assert (response.json()["consumed"], response.json()["open_quantity"]) == (3, 1)
    assert response.json()["status"] == "active"
    line = stock_line(client, admin)
    assert (line["on_hand"], line["reserved"]) == (7, 1)
    assert verified(stocked)


def test_consuming_more_than_a_reservation_holds_is_refused(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin, 2).json()

    response = client.post(
        f"/api/v1/reservations/{made['id']}/consume",
        json={"quantity": 3, "reference": "SHP-1"},
        headers=admin,
    )

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["quantity"]


def test_consuming_all_of_a_reservation_closes_it(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = reserve(client, admin, 2).json()

    response = client.post(
        f"/api/v1/reservations/{made['id']}/consume",
        json={"quantity": 2, "reference": "SHP-1"},
        headers=admin,
    )

    assert response.json()["status"] == "consumed"
    movements = client.get(
        "/api/v1/inventory/movements", params={"kind": "shipment"}, headers=admin
    ).json()["items"]
    assert movements[0]["reference"] == {"type": "shipment", "id": "SHP-1"}


def test_a_key_scoped_to_one_warehouse_cannot_reserve_at_another(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    scoped = auth_headers("sales_ops", warehouses=["NJ"])

    response = reserve(client, scoped, 1)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.warehouse_not_found"


def test_a_reservation_at_a_warehouse_outside_the_scope_reads_as_absent(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, stocked: Database
) -> None:
    made = reserve(client, admin).json()
    scoped = auth_headers("admin", warehouses=["NJ"])

    read = client.get(f"/api/v1/reservations/{made['id']}", headers=scoped)
    released = client.delete(f"/api/v1/reservations/{made['id']}", headers=scoped)

    assert (read.status_code, released.status_code) == (404, 404)
    assert stock_line(client, admin)["reserved"] == 4
