"""The channels routes over HTTP: create, read, list, update with ETags, scope."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.catalog import factories

MINIMAL = {"code": "web", "name": "Web shop", "type": "web_shop", "currency": "USD"}


def _paths(response: Any) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


def _warehouses(client: TestClient, headers: dict[str, str], *codes: str) -> None:
    for code in codes:
        client.post("/api/v1/warehouses", json=factories.warehouse(code), headers=headers)


def test_creating_the_minimal_channel_answers_201_with_its_warehouses_in_order(
    client: TestClient, admin: dict[str, str]
) -> None:
    _warehouses(client, admin, "DAL", "ATL")

    response = client.post(
        "/api/v1/channels", json={**MINIMAL, "warehouses": ["DAL", "ATL"]}, headers=admin
    )

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == "/api/v1/channels/web"
    assert response.json()["warehouses"] == ["DAL", "ATL"]


def test_a_channel_reads_back_with_its_settings(client: TestClient, admin: dict[str, str]) -> None:
    settings = {"shop_domain": "acme.myshopify.com", "sync": {"orders": True}}
    client.post("/api/v1/channels", json={**MINIMAL, "settings": settings}, headers=admin)

    response = client.get("/api/v1/channels/web", headers=admin)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.json()["settings"] == settings


def test_an_unknown_warehouse_is_refused_at_its_index(
    client: TestClient, admin: dict[str, str]
) -> None:
    _warehouses(client, admin, "DAL")

    response = client.post(
        "/api/v1/channels", json={**MINIMAL, "warehouses": ["DAL", "NOPE"]}, headers=admin
    )

    assert response.status_code == 422
    assert _paths(response) == ["warehouses[1]"]
    assert client.get("/api/v1/channels/web", headers=admin).status_code == 404


def test_a_currency_iso_4217_does_not_know_and_an_unknown_type_are_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/channels", json={**MINIMAL, "currency": "EURO", "type": "fax"}, headers=admin
    )

    assert response.status_code == 422
    assert sorted(_paths(response)) == ["currency", "type"]


def test_a_currency_is_stored_upper_case(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/v1/channels", json={**MINIMAL, "currency": "eur"}, headers=admin)

    assert response.json()["currency"] == "EUR"


def test_a_second_channel_with_the_same_code_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/channels", json=MINIMAL, headers=admin)

    response = client.post("/api/v1/channels", json=MINIMAL, headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.channel_exists"


def test_an_unknown_channel_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/channels/nope", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.channel_not_found"


def test_a_patch_of_the_warehouses_replaces_them_and_their_order(
    client: TestClient, admin: dict[str, str]
) -> None:
    _warehouses(client, admin, "DAL", "ATL", "RNO")
    client.post("/api/v1/channels", json={**MINIMAL, "warehouses": ["DAL", "ATL"]}, headers=admin)

    response = client.patch(
        "/api/v1/channels/web", json={"warehouses": ["RNO", "DAL"]}, headers=admin
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["warehouses"] == ["RNO", "DAL"]
    atl = client.get("/api/v1/warehouses/ATL", headers=admin).json()
    assert atl["channels"] == []


def test_a_warehouse_given_channels_joins_the_end_of_each_channels_order(
    client: TestClient, admin: dict[str, str]
) -> None:
    _warehouses(client, admin, "DAL", "ATL")
    client.post("/api/v1/channels", json={**MINIMAL, "warehouses": ["ATL"]}, headers=admin)

    client.patch("/api/v1/warehouses/DAL", json={"channels": ["web"]}, headers=admin)

    channel = client.get("/api/v1/channels/web", headers=admin)
    assert channel.json()["warehouses"] == ["ATL", "DAL"]
    assert channel.headers["ETag"] == '"2"'


def test_a_patch_with_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/channels", json=MINIMAL, headers=admin)
    client.patch("/api/v1/channels/web", json={"name": "Web"}, headers=admin)

    response = client.patch(
        "/api/v1/channels/web", json={"name": "Shop"}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "catalog.version_mismatch"


def test_a_channels_etag_changes_when_a_warehouse_stops_serving_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    _warehouses(client, admin, "DAL")
    client.post("/api/v1/channels", json={**MINIMAL, "warehouses": ["DAL"]}, headers=admin)
    client.patch("/api/v1/warehouses/DAL", json={"channels": []}, headers=admin)

    response = client.patch(
        "/api/v1/channels/web", json={"warehouses": ["DAL"]}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 412


def test_deactivating_a_channel_keeps_it_readable_but_inactive(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/channels", json=MINIMAL, headers=admin)

    response = client.patch(
        "/api/v1/channels/web", json={"active": False}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.json()["active"] is False


def test_a_list_pages_through_every_channel_once(client: TestClient, admin: dict[str, str]) -> None:
    for n in range(5):
        client.post("/api/v1/channels", json=factories.channel(f"ch{n}"), headers=admin)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/channels", params=params, headers=admin).json()
        seen += [c["code"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["ch0", "ch1", "ch2", "ch3", "ch4"]


def test_a_list_filters_by_type_and_text(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/channels", json=factories.channel("web"), headers=admin)
    client.post(
        "/api/v1/channels",
        json=factories.channel("amazon", name="Amazon US", type="marketplace"),
        headers=admin,
    )
    client.post(
        "/api/v1/channels",
        json=factories.channel("ebay", name="eBay", type="marketplace"),
        headers=admin,
    )

    response = client.get(
        "/api/v1/channels", params={"type": "marketplace", "q": "AMAZ"}, headers=admin
    )

    assert [c["code"] for c in response.json()["items"]] == ["amazon"]


def test_a_key_scoped_to_a_channel_sees_only_that_channel(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    client.post("/api/v1/channels", json=factories.channel("web"), headers=admin)
    client.post("/api/v1/channels", json=factories.channel("amazon"), headers=admin)
    scoped = auth_headers("admin", channels=["web"])

    listed = client.get("/api/v1/channels", headers=scoped).json()
    other = client.get("/api/v1/channels/amazon", headers=scoped)
    patched = client.patch("/api/v1/channels/amazon", json={"name": "x"}, headers=scoped)

    assert [c["code"] for c in listed["items"]] == ["web"]
    assert (other.status_code, other.json()["code"]) == (404, "catalog.channel_not_found")
    assert (patched.status_code, patched.json()["code"]) == (404, "catalog.channel_not_found")


def test_a_channel_lists_only_the_warehouses_in_the_callers_scope(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    _warehouses(client, admin, "DAL", "ATL")
    client.post("/api/v1/channels", json={**MINIMAL, "warehouses": ["ATL", "DAL"]}, headers=admin)
    scoped = auth_headers("viewer", warehouses=["DAL"])

    response = client.get("/api/v1/channels/web", headers=scoped)

    assert response.json()["warehouses"] == ["DAL"]


def test_a_scoped_key_naming_a_warehouse_beyond_its_scope_gets_unknown_warehouse(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    _warehouses(client, admin, "DAL", "ATL")
    client.post("/api/v1/channels", json=MINIMAL, headers=admin)
    scoped = auth_headers("admin", warehouses=["DAL"])

    response = client.patch(
        "/api/v1/channels/web", json={"warehouses": ["DAL", "ATL"]}, headers=scoped
    )

    assert response.status_code == 422
    assert _paths(response) == ["warehouses[1]"]


def test_a_scoped_key_keeps_the_links_it_cannot_see(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    _warehouses(client, admin, "DAL", "ATL", "RNO")
    client.post("/api/v1/channels", json={**MINIMAL, "warehouses": ["ATL", "DAL"]}, headers=admin)
    scoped = auth_headers("admin", warehouses=["DAL", "RNO"])

    client.patch("/api/v1/channels/web", json={"warehouses": ["RNO"]}, headers=scoped)

    full = client.get("/api/v1/channels/web", headers=admin).json()
    assert full["warehouses"] == ["RNO", "ATL"]


def test_editing_the_links_audits_and_announces_both_sides(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    _warehouses(client, admin, "DAL")
    client.post("/api/v1/channels", json={**MINIMAL, "warehouses": ["DAL"]}, headers=admin)
    client.patch("/api/v1/channels/web", json={"name": "Web"}, headers=admin)

    with db.transaction() as session:
        channel_actions = factories.audit_actions(session, "channel", "web")
        channel_topics = factories.event_topics(session, "channel:web")
        warehouse_actions = factories.audit_actions(session, "warehouse", "DAL")

    assert channel_actions == ["channel.created", "channel.updated"]
    assert channel_topics == ["channel.created", "channel.updated"]
    assert warehouse_actions == ["warehouse.created", "warehouse.updated"]
