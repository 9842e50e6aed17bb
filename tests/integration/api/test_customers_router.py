"""The customers routes over HTTP: create, read, list, update with ETags, by id."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.catalog import factories


def _paths(response: Any) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


def _create(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> int:
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.json()
    customer_id = response.json()["id"]
    assert isinstance(customer_id, int)
    return customer_id


def test_creating_a_customer_answers_201_with_etag_and_location_by_id(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/api/v1/customers", json=factories.b2c_customer(), headers=admin)

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/v1/customers/{response.json()['id']}"


def test_emails_are_lower_cased_and_phones_stored_in_e164(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = factories.b2c_customer(
        emails=["Jane.Doe@Example.com", "jd@Work.example"], phones=["+44 20 7946 0958"]
    )
    customer_id = _create(client, admin, body)

    response = client.get(f"/api/v1/customers/{customer_id}", headers=admin)

    assert response.headers["ETag"] == '"1"'
    customer = response.json()
    assert customer["emails"] == ["jane.doe@example.com", "jd@work.example"]
    assert customer["email"] == "jane.doe@example.com"
    assert customer["phones"] == ["+442079460958"]


def test_a_b2b_customer_keeps_its_account_and_credit_limit(
    client: TestClient, admin: dict[str, str]
) -> None:
    customer_id = _create(client, admin, factories.b2b_customer())

    customer = client.get(f"/api/v1/customers/{customer_id}", headers=admin).json()

    assert customer["account_number"] == "C-1001"
    assert float(customer["credit_limit"]) == 50000
    assert customer["credit_currency"] == "USD"


def test_a_b2b_customer_without_an_account_number_is_refused_naming_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {k: v for k, v in factories.b2b_customer().items() if k != "account_number"}

    response = client.post("/api/v1/customers", json=body, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["account_number"]


def test_a_b2c_customer_with_a_credit_limit_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = factories.b2c_customer(credit_limit="100", credit_currency="USD")

    response = client.post("/api/v1/customers", json=body, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["credit_limit"]


def test_a_credit_limit_needs_a_currency_and_may_not_be_negative(
    client: TestClient, admin: dict[str, str]
) -> None:
    negative = factories.b2b_customer(credit_limit="-1")
    no_currency = factories.b2b_customer(credit_currency=None)

    first = client.post("/api/v1/customers", json=negative, headers=admin)
    second = client.post("/api/v1/customers", json=no_currency, headers=admin)

    assert _paths(first) == ["credit_limit"]
    assert _paths(second) == ["credit_currency"]


def test_bad_emails_phones_and_addresses_are_refused_at_their_paths(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = factories.b2c_customer(
        emails=["jane@example.com", "jane at example"],
        phones=["+1 415 555 0123", "12"],
        addresses=[factories.address(), factories.address(country="ZZ")],
    )

    response = client.post("/api/v1/customers", json=body, headers=admin)

    assert response.status_code == 422
    assert sorted(_paths(response)) == ["addresses[1].country", "emails[1]", "phones[1]"]


def test_a_second_customer_with_the_same_account_number_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    _create(client, admin, factories.b2b_customer("C-1"))

    response = client.post("/api/v1/customers", json=factories.b2b_customer("C-1"), headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.customer_exists"


def test_taking_another_customers_account_number_by_patch_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    _create(client, admin, factories.b2b_customer("C-1"))
    second = _create(client, admin, factories.b2b_customer("C-2"))

    response = client.patch(
        f"/api/v1/customers/{second}", json={"account_number": "C-1"}, headers=admin
    )

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.customer_exists"
    assert client.get(f"/api/v1/customers/{second}", headers=admin).json()["version"] == 1


def test_an_unknown_customer_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/customers/424242", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.customer_not_found"


def test_a_patch_of_the_emails_moves_the_matching_email(
    client: TestClient, admin: dict[str, str]
) -> None:
    customer_id = _create(client, admin, factories.b2c_customer())

    response = client.patch(
        f"/api/v1/customers/{customer_id}", json={"emails": ["New@Example.com"]}, headers=admin
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["email"] == "new@example.com"
    assert response.json()["name"] == "Jane Doe"


def test_turning_a_b2c_customer_into_b2b_needs_an_account_number(
    client: TestClient, admin: dict[str, str]
) -> None:
    customer_id = _create(client, admin, factories.b2c_customer())

    response = client.patch(f"/api/v1/customers/{customer_id}", json={"type": "b2b"}, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["account_number"]


def test_a_patch_with_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    customer_id = _create(client, admin, factories.b2c_customer())
    client.patch(f"/api/v1/customers/{customer_id}", json={"name": "Jane Roe"}, headers=admin)

    response = client.patch(
        f"/api/v1/customers/{customer_id}",
        json={"name": "Jane Poe"},
        headers={**admin, "If-Match": '"1"'},
    )

    assert response.status_code == 412
    assert response.json()["code"] == "catalog.version_mismatch"


def test_deactivating_a_customer_keeps_it_readable_but_inactive(
    client: TestClient, admin: dict[str, str]
) -> None:
    customer_id = _create(client, admin, factories.b2c_customer())

    response = client.patch(
        f"/api/v1/customers/{customer_id}",
        json={"active": False},
        headers={**admin, "If-Match": '"1"'},
    )

    assert response.status_code == 200
    assert response.json()["active"] is False


def test_a_list_pages_through_every_customer_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    ids = [_create(client, admin, factories.b2c_customer(name=f"C {n}")) for n in range(5)]

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", params=params, headers=admin).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ids


def test_a_list_finds_a_customer_by_email_whatever_its_case(
    client: TestClient, admin: dict[str, str]
) -> None:
    jane = _create(client, admin, factories.b2c_customer())
    _create(client, admin, factories.b2c_customer(name="John", emails=["john@example.com"]))

    response = client.get(
        "/api/v1/customers", params={"email": "JANE.DOE@example.com"}, headers=admin
    )

    assert [c["id"] for c in response.json()["items"]] == [jane]


def test_a_list_filters_by_type_account_number_and_text(
    client: TestClient, admin: dict[str, str]
) -> None:
    _create(client, admin, factories.b2c_customer())
    initech = _create(client, admin, factories.b2b_customer("C-1"))
    _create(
        client, admin, factories.b2b_customer("C-2", name="Globex", emails=["ap@globex.example"])
    )

    by_type = client.get("/api/v1/customers", params={"type": "b2b", "q": "initech"}, headers=admin)
    by_account = client.get("/api/v1/customers", params={"account_number": "C-1"}, headers=admin)

    assert [c["id"] for c in by_type.json()["items"]] == [initech]
    assert [c["id"] for c in by_account.json()["items"]] == [initech]


def test_sales_ops_may_write_customers_and_purchasing_may_not(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    sales_ops = auth_headers("sales_ops")
    purchasing = auth_headers("purchasing")

    allowed = client.post("/api/v1/customers", json=factories.b2c_customer(), headers=sales_ops)
    refused = client.post("/api/v1/customers", json=factories.b2c_customer(), headers=purchasing)

    assert allowed.status_code == 201
    assert refused.status_code == 403


def test_creating_and_updating_a_customer_leaves_an_audit_row_and_an_event_each(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    customer_id = _create(client, admin, factories.b2b_customer())
    client.patch(f"/api/v1/customers/{customer_id}", json={"credit_limit": "750"}, headers=admin)

    with db.transaction() as session:
        actions = factories.audit_actions(session, "customer", str(customer_id))
        topics = factories.event_topics(session, f"customer:{customer_id}")

    assert actions == ["customer.created", "customer.updated"]
    assert topics == ["customer.created", "customer.updated"]
