"""Fulfillment orders over HTTP: listed by order, warehouse and status with their lines, one
read by id or number, and a key scoped to warehouses sees only theirs."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.routing import factories

URL = "/api/v1/fulfillment-orders"


@pytest.fixture
def order_id(db: Database) -> int:
    """ABC-1 × 7 from RNO and XYZ-9 × 4 from DAL: two fulfillment orders."""
    with db.transaction() as session:
        factories.network(session)
        return factories.order(session, lines=[("ABC-1", 7), ("XYZ-9", 4)])


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_an_order_s_fulfillment_orders_are_listed_with_their_lines(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    found = listed(client, admin, order_id=order_id)

    assert [(fo["warehouse"], fo["status"], fo["units"]) for fo in found] == [
        ("DAL", "planned", 4),
        ("RNO", "planned", 7),
    ]
    assert [(ln["line_number"], ln["sku"], ln["quantity"]) for ln in found[1]["lines"]] == [
        (1, "ABC-1", 7)
    ]
    assert {fo["order_number"] for fo in found} == {"SO-000001"}
    assert {fo["channel"] for fo in found} == {"web"}


def test_the_list_filters_by_warehouse_and_status(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    at_rno = listed(client, admin, warehouse="RNO")
    released = listed(client, admin, status="released")

    assert [fo["warehouse"] for fo in at_rno] == ["RNO"]
    assert released == []


def test_the_list_pages_with_a_cursor(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    first = client.get(URL, params={"limit": 1}, headers=admin).json()
    second = client.get(
        URL, params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    ).json()

    assert [fo["warehouse"] for fo in first["items"] + second["items"]] == ["DAL", "RNO"]
    assert second["next_cursor"] is None


def test_one_is_read_by_id_or_by_number_with_its_etag(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    [first, _] = listed(client, admin, order_id=order_id)

    by_id = client.get(f"{URL}/{first['id']}", headers=admin)
    by_number = client.get(f"{URL}/{first['number']}", headers=admin)

    assert by_id.status_code == by_number.status_code == 200
    assert by_id.json() == by_number.json() == first
    assert by_id.headers["ETag"] == '"1"'


def test_an_unknown_fulfillment_order_is_a_404(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.get(f"{URL}/FO-999999", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "fulfillment.order_not_found"


def test_a_key_scoped_to_one_warehouse_sees_only_its_fulfillment_orders(
    client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str], order_id: int
) -> None:
    headers = auth_headers("warehouse", warehouses=["DAL"])
    rno = listed(client, admin, warehouse="RNO")[0]

    assert [fo["warehouse"] for fo in listed(client, headers)] == ["DAL"]
    assert listed(client, headers, warehouse="RNO") == []
    assert client.get(f"{URL}/{rno['id']}", headers=headers).status_code == 404


def test_a_key_scoped_to_other_channels_sees_none(
    client: TestClient, auth_headers: AuthHeaders, order_id: int
) -> None:
    headers = auth_headers("viewer", channels=["b2b"])

    assert listed(client, headers) == []
