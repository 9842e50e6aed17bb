"""The warehouses routes over HTTP: create, read, list, update with ETags, scope."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.catalog import factories

MINIMAL = {
    "code": "DAL",
    "name": "Dallas DC",
    "type": "own",
    "address": {
        "line1": "1 Commerce St",
        "city": "Dallas",
        "region": "TX",
        "postal_code": "75201",
        "country": "US",
    },
    "latitude": 32.78,
    "longitude": -96.80,
}


def _paths(response: Any) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


def test_creating_the_minimal_warehouse_answers_201_with_etag_and_location(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == "/api/v1/warehouses/DAL"
    body = response.json()
    assert body["country"] == "US"
    assert body["timezone"] == "UTC"
    assert body["channels"] == []
    assert body["active"] is True


def test_a_warehouse_reads_back_with_its_version_as_etag(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post(
        "/api/v1/warehouses",
        json={**MINIMAL, "timezone": "America/Chicago", "cutoff_time": "9:30"},
        headers=admin,
    )

    response = client.get("/api/v1/warehouses/DAL", headers=admin)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.json()["timezone"] == "America/Chicago"
    assert response.json()["cutoff_time"] == "09:30"


def test_a_postcode_of_the_wrong_form_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {**MINIMAL, "address": {**MINIMAL["address"], "postal_code": "7520"}}  # type: ignore[dict-item]

    response = client.post("/api/v1/warehouses", json=body, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["address.postal_code"]


def test_every_bad_field_of_a_warehouse_is_named(client: TestClient, admin: dict[str, str]) -> None:
    body = {
        **MINIMAL,
        "type": "castle",
        "address": {**MINIMAL["address"], "country": "XX"},  # type: ignore[dict-item]
        "latitude": 91,
        "longitude": -181,
        "timezone": "Mars/Olympus",
        "daily_capacity": -1,
        "cutoff_time": "25:00",
        "channels": ["web", "web"],
    }

    response = client.post("/api/v1/warehouses", json=body, headers=admin)

    assert response.status_code == 422
    assert sorted(_paths(response)) == [
        "address.country",
        "channels",
        "cutoff_time",
        "daily_capacity",
        "latitude",
        "longitude",
        "timezone",
        "type",
    ]


def test_a_latitude_without_a_longitude_is_refused_naming_the_missing_one(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {k: v for k, v in MINIMAL.items() if k != "longitude"}

    response = client.post("/api/v1/warehouses", json=body, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["longitude"]


def test_an_unknown_channel_is_refused_at_its_index(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/channels", json=factories.channel("web"), headers=admin)

    response = client.post(
        "/api/v1/warehouses", json={**MINIMAL, "channels": ["web", "nope"]}, headers=admin
    )

    assert response.status_code == 422
    assert _paths(response) == ["channels[1]"]
    assert client.get("/api/v1/warehouses/DAL", headers=admin).status_code == 404


def test_a_second_warehouse_with_the_same_code_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)

    response = client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.warehouse_exists"


def test_an_unknown_warehouse_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/warehouses/NOPE", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.warehouse_not_found"


def test_a_patch_changes_only_the_fields_sent(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/warehouses", json={**MINIMAL, "daily_capacity": 500}, headers=admin)

    response = client.patch("/api/v1/warehouses/DAL", json={"name": "Dallas North"}, headers=admin)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["name"] == "Dallas North"
    assert response.json()["daily_capacity"] == 500


def test_a_patch_of_the_address_moves_the_warehouse_to_its_country(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)
    toronto = {"line1": "1 Front St", "city": "Toronto", "postal_code": "m5j 2x2", "country": "CA"}

    response = client.patch("/api/v1/warehouses/DAL", json={"address": toronto}, headers=admin)

    assert response.json()["country"] == "CA"
    assert response.json()["address"]["postal_code"] == "M5J 2X2"


def test_a_patch_setting_a_required_field_to_null_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)

    response = client.patch("/api/v1/warehouses/DAL", json={"name": None}, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["name"]


def test_a_patch_with_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)
    client.patch("/api/v1/warehouses/DAL", json={"name": "Dallas North"}, headers=admin)

    response = client.patch(
        "/api/v1/warehouses/DAL",
        json={"name": "Dallas South"},
        headers={**admin, "If-Match": '"1"'},
    )

    assert response.status_code == 412
    assert response.json()["code"] == "catalog.version_mismatch"
    assert client.get("/api/v1/warehouses/DAL", headers=admin).json()["name"] == "Dallas North"


def test_deactivating_a_warehouse_keeps_it_readable_but_inactive(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)

    response = client.patch(
        "/api/v1/warehouses/DAL", json={"active": False}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    listed = client.get("/api/v1/warehouses", params={"active": "false"}, headers=admin).json()
    assert [w["code"] for w in listed["items"]] == ["DAL"]


def test_a_list_pages_through_every_warehouse_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    for n in range(5):
        client.post("/api/v1/warehouses", json=factories.warehouse(f"W{n}"), headers=admin)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/warehouses", params=params, headers=admin).json()
        seen += [w["code"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["W0", "W1", "W2", "W3", "W4"]


def test_a_list_filters_by_type_and_country_and_sorts_by_name_descending(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/warehouses", json=factories.warehouse("DAL"), headers=admin)
    client.post(
        "/api/v1/warehouses", json=factories.warehouse("ATL", name="Atlanta"), headers=admin
    )
    client.post("/api/v1/warehouses", json=factories.warehouse("S1", type="store"), headers=admin)
    toronto = factories.address(city="Toronto", region="ON", postal_code="M5J 2X2", country="CA")
    client.post(
        "/api/v1/warehouses", json=factories.warehouse("TOR", address=toronto), headers=admin
    )

    response = client.get(
        "/api/v1/warehouses",
        params={"type": "own", "country": "us", "sort": "-name"},
        headers=admin,
    )

    assert [w["code"] for w in response.json()["items"]] == ["DAL", "ATL"]


def test_a_list_filters_by_the_channel_served(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/warehouses", json=factories.warehouse("DAL"), headers=admin)
    client.post("/api/v1/warehouses", json=factories.warehouse("ATL"), headers=admin)
    client.post("/api/v1/channels", json=factories.channel(warehouses=["ATL"]), headers=admin)

    response = client.get("/api/v1/warehouses", params={"channel": "web"}, headers=admin)

    assert [w["code"] for w in response.json()["items"]] == ["ATL"]


def test_an_unknown_sort_key_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/v1/warehouses", params={"sort": "capacity"}, headers=admin)

    assert response.status_code == 422
    assert _paths(response) == ["sort"]


def test_a_key_scoped_to_one_warehouse_lists_only_that_one(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    client.post("/api/v1/warehouses", json=factories.warehouse("DAL"), headers=admin)
    client.post("/api/v1/warehouses", json=factories.warehouse("ATL"), headers=admin)
    scoped = auth_headers("viewer", warehouses=["DAL"])

    response = client.get("/api/v1/warehouses", headers=scoped)

    assert [w["code"] for w in response.json()["items"]] == ["DAL"]


def test_a_warehouse_outside_the_scope_reads_as_absent(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    client.post("/api/v1/warehouses", json=factories.warehouse("ATL"), headers=admin)
    scoped = auth_headers("admin", warehouses=["DAL"])

    read = client.get("/api/v1/warehouses/ATL", headers=scoped)
    patched = client.patch("/api/v1/warehouses/ATL", json={"name": "x"}, headers=scoped)

    assert (read.status_code, read.json()["code"]) == (404, "catalog.warehouse_not_found")
    assert (patched.status_code, patched.json()["code"]) == (404, "catalog.warehouse_not_found")


def test_a_key_scoped_to_a_warehouse_may_not_create_another(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    scoped = auth_headers("admin", warehouses=["DAL"])

    response = client.post("/api/v1/warehouses", json=factories.warehouse("ATL"), headers=scoped)

    assert response.status_code == 403
    assert response.json()["code"] == "catalog.out_of_scope"


def test_a_warehouse_lists_only_the_channels_in_the_callers_scope(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    client.post("/api/v1/channels", json=factories.channel("web"), headers=admin)
    client.post("/api/v1/channels", json=factories.channel("amazon"), headers=admin)
    client.post(
        "/api/v1/warehouses", json=factories.warehouse(channels=["web", "amazon"]), headers=admin
    )
    scoped = auth_headers("viewer", channels=["web"])

    response = client.get("/api/v1/warehouses/DAL", headers=scoped)

    assert response.json()["channels"] == ["web"]
    assert client.get("/api/v1/warehouses/DAL", headers=admin).json()["channels"] == [
        "amazon",
        "web",
    ]


def test_a_viewer_may_read_but_not_write_warehouses(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders
) -> None:
    viewer = auth_headers("viewer")

    response = client.post("/api/v1/warehouses", json=MINIMAL, headers=viewer)

    assert response.status_code == 403
    assert response.json()["code"] == "auth.forbidden"
    assert client.get("/api/v1/warehouses", headers=viewer).status_code == 200


def test_creating_and_updating_a_warehouse_leaves_an_audit_row_and_an_event_each(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    client.post("/api/v1/warehouses", json=MINIMAL, headers=admin)
    client.patch("/api/v1/warehouses/DAL", json={"daily_capacity": 800}, headers=admin)
    client.patch("/api/v1/warehouses/DAL", json={"active": False}, headers=admin)

    with db.transaction() as session:
        actions = factories.audit_actions(session, "warehouse", "DAL")
        topics = factories.event_topics(session, "warehouse:DAL")

    assert actions == ["warehouse.created", "warehouse.updated", "warehouse.deactivated"]
    assert topics == ["warehouse.created", "warehouse.updated", "warehouse.updated"]
