"""The suppliers routes over HTTP: create, read, list, update with ETags."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.catalog import factories


def _paths(response: Any) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


def test_creating_a_supplier_answers_201_with_etag_and_location(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/suppliers",
        json={"code": "ACME", "name": "Acme Supply", "currency": "usd"},
        headers=admin,
    )

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == "/api/v1/suppliers/ACME"
    assert response.json()["currency"] == "USD"
    assert response.json()["contacts"] == []


def test_a_supplier_reads_back_with_contacts_normalized(
    client: TestClient, admin: dict[str, str]
) -> None:
    contact = {"name": "Li Wei", "email": "Li.Wei@Acme.example", "phone": "+86 755 8888 8888"}
    client.post(
        "/api/v1/suppliers",
        json=factories.supplier(contacts=[contact], payment_terms="net30"),
        headers=admin,
    )

    response = client.get("/api/v1/suppliers/ACME", headers=admin)

    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert body["contacts"] == [
        {"name": "Li Wei", "email": "li.wei@acme.example", "phone": "+8675588888888", "role": None}
    ]
    assert body["payment_terms"] == "NET30"
    assert body["country"] == "CN"


def test_a_contacts_bad_phone_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    contacts = [{"name": "Ana", "email": "ana@acme.example"}, {"name": "Bo", "phone": "555-0199"}]

    response = client.post(
        "/api/v1/suppliers", json=factories.supplier(contacts=contacts), headers=admin
    )

    assert response.status_code == 422
    assert _paths(response) == ["contacts[1].phone"]
    assert "+<country code>" in response.json()["errors"][0]["message"]


def test_a_contact_with_neither_email_nor_phone_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/suppliers", json=factories.supplier(contacts=[{"name": "Ana"}]), headers=admin
    )

    assert response.status_code == 422
    assert _paths(response) == ["contacts[0].email"]


def test_every_bad_field_of_a_supplier_is_named(client: TestClient, admin: dict[str, str]) -> None:
    body = factories.supplier(
        currency="DOLLARS",
        lead_time_days=-2,
        payment_terms="",
        address=factories.address(postal_code="ABC"),
        contacts=[{"name": "Ana", "email": "not-an-email"}],
    )

    response = client.post("/api/v1/suppliers", json=body, headers=admin)

    assert response.status_code == 422
    assert sorted(_paths(response)) == [
        "address.postal_code",
        "contacts[0].email",
        "currency",
        "lead_time_days",
        "payment_terms",
    ]


def test_a_second_supplier_with_the_same_code_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)

    response = client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.supplier_exists"


def test_an_unknown_supplier_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/suppliers/NOPE", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.supplier_not_found"


def test_a_patch_changes_only_the_fields_sent(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)

    response = client.patch("/api/v1/suppliers/ACME", json={"lead_time_days": 21}, headers=admin)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["lead_time_days"] == 21
    assert response.json()["payment_terms"] == "NET30"


def test_a_patch_with_null_clears_an_optional_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)

    response = client.patch("/api/v1/suppliers/ACME", json={"address": None}, headers=admin)

    assert response.json()["address"] is None
    assert response.json()["country"] is None


def test_a_patch_with_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)
    client.patch("/api/v1/suppliers/ACME", json={"name": "Acme Two"}, headers=admin)

    response = client.patch(
        "/api/v1/suppliers/ACME", json={"name": "Acme Three"}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "catalog.version_mismatch"


def test_deactivating_a_supplier_keeps_it_readable_but_inactive(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)

    response = client.patch(
        "/api/v1/suppliers/ACME", json={"active": False}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.json()["active"] is False


def test_a_list_pages_through_every_supplier_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    for n in range(5):
        client.post("/api/v1/suppliers", json=factories.supplier(f"S{n}"), headers=admin)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/suppliers", params=params, headers=admin).json()
        seen += [s["code"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["S0", "S1", "S2", "S3", "S4"]


def test_a_list_filters_by_country_and_activity(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier("CN1"), headers=admin)
    client.post("/api/v1/suppliers", json=factories.supplier("CN2"), headers=admin)
    client.post(
        "/api/v1/suppliers",
        json=factories.supplier("US1", address=factories.address()),
        headers=admin,
    )
    client.patch("/api/v1/suppliers/CN2", json={"active": False}, headers=admin)

    response = client.get(
        "/api/v1/suppliers", params={"country": "CN", "active": "true"}, headers=admin
    )

    assert [s["code"] for s in response.json()["items"]] == ["CN1"]


def test_purchasing_may_write_suppliers_and_sales_ops_may_not(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    purchasing = auth_headers("purchasing")
    sales_ops = auth_headers("sales_ops")

    allowed = client.post("/api/v1/suppliers", json=factories.supplier("A"), headers=purchasing)
    refused = client.post("/api/v1/suppliers", json=factories.supplier("B"), headers=sales_ops)

    assert allowed.status_code == 201
    assert refused.status_code == 403


def test_creating_and_updating_a_supplier_leaves_an_audit_row_and_an_event_each(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    client.post("/api/v1/suppliers", json=factories.supplier(), headers=admin)
    client.patch("/api/v1/suppliers/ACME", json={"active": False}, headers=admin)

    with db.transaction() as session:
        actions = factories.audit_actions(session, "supplier", "ACME")
        topics = factories.event_topics(session, "supplier:ACME")

    assert actions == ["supplier.created", "supplier.deactivated"]
    assert topics == ["supplier.created", "supplier.updated"]
