"""Order intake over HTTP: 201 with the order, 200 for a re-delivery, 409 for a refused
change, 422 naming every problem with the payload kept in the inbox; bulk with a result
per order; channel scope."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from oms.inventory import balances
from tests.conftest import AuthHeaders
from tests.integration.catalog import factories as catalog_data
from tests.integration.orders import factories
from tests.integration.orders.deliveries import payload


@pytest.fixture
def master(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session)
    return db


def inbox_of(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/inbox", params=params, headers=headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_new_order_answers_201_with_the_order_and_its_location(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.post("/api/v1/orders", json=payload(), headers=admin)

    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created"
    assert response.headers["Location"] == f"/api/v1/orders/{body['order']['id']}"
    assert body["order"]["status"] == "allocated"
    assert body["order"]["lines"][0]["allocated"] == 2
    assert (
        client.get(response.headers["Location"], headers=admin).json()["id"]
        == (body["order"]["id"])
    )


def test_a_redelivery_answers_200_with_the_same_order(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    first = client.post("/api/v1/orders", json=payload(), headers=admin)

    again = client.post("/api/v1/orders", json=payload(), headers=admin)

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    assert "Location" not in again.headers


def test_a_redelivery_with_a_new_quantity_answers_200_changed(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    client.post("/api/v1/orders", json=payload(lines=[("ABC-1", 2)]), headers=admin)

    again = client.post("/api/v1/orders", json=payload(lines=[("ABC-1", 3)]), headers=admin)

    assert again.status_code == 200
    assert again.json()["outcome"] == "changed"
    assert again.json()["order"]["lines"][0]["quantity"] == 3


def test_a_change_the_order_no_longer_allows_is_a_409_with_the_reason(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    first = client.post("/api/v1/orders", json=payload(lines=[("ABC-1", 2)]), headers=admin)
    with master.transaction() as session:
        factories.release_units(session, first.json()["order"]["id"], 1, 2)

    again = client.post("/api/v1/orders", json=payload(lines=[("ABC-1", 1)]), headers=admin)

    assert again.status_code == 409
    problem = again.json()
    assert problem["code"] == "order.change_refused"
    assert first.json()["order"]["number"] in problem["detail"]
    [message] = inbox_of(client, admin, status="refused")
    assert message["errors"][0]["code"] == "order.change_refused"


def test_an_invalid_order_is_a_422_naming_every_problem_and_is_kept_as_failed(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    body = payload(lines=[("NOPE-1", 1)], ship_to=catalog_data.address(postal_code="ABCDE"))

    response = client.post("/api/v1/orders", json=body, headers=admin)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation.failed"
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("ship_to.postal_code", "value_error"),
        ("lines[0].sku", "order.unknown_sku"),
    ]
    [message] = inbox_of(client, admin, status="failed")
    assert message["id"] == problem["details"]["inbox_id"]
    assert [e["path"] for e in message["errors"]] == ["ship_to.postal_code", "lines[0].sku"]


def test_a_body_that_is_not_json_is_kept_raw_and_refused(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.post(
        "/api/v1/orders",
        content=b'{"channel": "web", oops',
        headers={**admin, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "json_invalid"
    message_id = response.json()["details"]["inbox_id"]
    kept = client.get(f"/api/v1/inbox/{message_id}", headers=admin).json()
    assert kept["body"] == '{"channel": "web", oops'


def test_a_channel_outside_the_keys_scope_is_refused_as_unknown(
    client: TestClient, auth_headers: AuthHeaders, master: Database
) -> None:
    scoped = auth_headers("integration", channels=["b2b"])

    response = client.post("/api/v1/orders", json=payload(), headers=scoped)

    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("channel", "order.unknown_channel")
    ]


def test_a_viewer_may_not_send_orders(
    client: TestClient, auth_headers: AuthHeaders, master: Database
) -> None:
    response = client.post("/api/v1/orders", json=payload(), headers=auth_headers("viewer"))

    assert response.status_code == 403


# -- bulk -------------------------------------------------------------------------------


def test_one_bad_order_in_a_bulk_of_three_does_not_reject_the_other_two(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    orders = [payload("1"), payload("2", lines=[("NOPE-1", 1)]), payload("3")]

    response = client.post("/api/v1/orders/bulk", json={"orders": orders}, headers=admin)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "created"),
        (1, "failed"),
        (2, "created"),
    ]
    assert results[1]["problems"] == [
        {
            "path": "lines[0].sku",
            "message": "no item has the SKU 'NOPE-1'",
            "code": "order.unknown_sku",
        }
    ]
    assert response.json()["counts"] == {"created": 2, "failed": 1}
    found = client.get("/api/v1/orders", headers=admin).json()["items"]
    assert sorted(o["external_id"] for o in found) == ["1", "3"]


def test_a_bulk_reports_duplicates_with_the_existing_order(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    first = client.post("/api/v1/orders", json=payload("1"), headers=admin).json()

    response = client.post("/api/v1/orders/bulk", json=[payload("1"), payload("1")], headers=admin)

    assert [(r["status"], r["order_id"]) for r in response.json()["results"]] == [
        ("duplicate", first["order"]["id"]),
        ("duplicate", first["order"]["id"]),
    ]


def test_the_same_order_twice_in_one_bulk_is_made_once(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.post("/api/v1/orders/bulk", json=[payload("1"), payload("1")], headers=admin)

    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert results[0]["order_id"] == results[1]["order_id"]


def test_a_bulk_of_more_than_a_thousand_orders_is_refused_whole(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.post(
        "/api/v1/orders/bulk",
        json={"orders": [payload(str(i)) for i in range(1001)]},
        headers=admin,
    )

    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [("orders", "too_long")]
    assert inbox_of(client, admin) == []


def test_a_bulk_body_that_is_not_a_list_of_orders_is_refused(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.post("/api/v1/orders/bulk", json={"order": payload()}, headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "orders"


def test_the_openapi_document_describes_the_order_body(
    client: TestClient, master: Database
) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/orders"]["post"]

    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["lines"]["items"]["properties"]["sku"]["type"] == "string"
    assert "$defs" not in str(schema)


@pytest.mark.postgres_only
def test_concurrent_bulk_requests_locking_items_in_opposite_orders_all_succeed(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    with db.transaction() as session:
        factories.master_data(session, on_hand={("ABC-1", "DAL"): 10_000, ("XYZ-9", "DAL"): 10_000})
    first, second = ("ABC-1", "XYZ-9"), ("XYZ-9", "ABC-1")
    bulks = [
        {"orders": [payload(f"{n}-{i}", lines=[(skus[i % 2], 1)]) for i in range(150)]}
        for n, skus in enumerate((first, second))
    ]

    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda body: client.post("/api/v1/orders/bulk", json=body, headers=admin), bulks
            )
        )

    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["counts"] for a in answers] == [{"created": 150}, {"created": 150}]
    with db.transaction() as session:
        assert balances.verify(session).ok


def test_the_orders_audit_rows_and_events_carry_the_request_id(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.post(
        "/api/v1/orders", json=payload(), headers={**admin, "X-Request-ID": "trace-intake-1"}
    )
    assert response.status_code == 201

    found = client.get("/api/v1/audit", params={"request_id": "trace-intake-1"}, headers=admin)

    assert "order.created" in [entry["action"] for entry in found.json()["items"]]


def test_a_body_with_a_nul_character_is_a_422_naming_the_body(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    body = (
        json.dumps(payload()).replace('"1001"', '"10\\u0000"').encode().replace(b"\\u0000", b"\x00")
    )

    response = client.post(
        "/api/v1/orders", content=body, headers={**admin, "Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body"
