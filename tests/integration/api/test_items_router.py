"""The items routes over HTTP: create, read, update with ETags, list with cursors."""

from __future__ import annotations

from fastapi.testclient import TestClient

WIDGET = {"sku": "ABC-1", "name": "Blue widget", "gtin": "00012345678905", "uom": "EA"}


def test_creating_an_item_answers_201_with_its_etag(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/api/v1/items", json=WIDGET, headers=admin)

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.json()["gtin"] == "00012345678905"


def test_an_item_with_a_bad_check_digit_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/items", json={**WIDGET, "gtin": "00012345678901"}, headers=admin
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation.failed"
    assert [e["path"] for e in problem["errors"]] == ["gtin"]


def test_a_second_item_with_the_same_sku_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json=WIDGET, headers=admin)

    response = client.post("/api/v1/items", json={**WIDGET, "sku": " ABC-1 "}, headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.item_exists"


def test_an_unknown_sku_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/items/NOPE", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.item_not_found"


def test_an_update_with_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json=WIDGET, headers=admin)
    client.patch("/api/v1/items/ABC-1", json={"name": "Teal widget"}, headers=admin)

    response = client.patch(
        "/api/v1/items/ABC-1", json={"name": "Red widget"}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "catalog.version_mismatch"
    assert client.get("/api/v1/items/ABC-1", headers=admin).json()["name"] == "Teal widget"


def test_an_update_with_the_current_if_match_raises_the_version(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json=WIDGET, headers=admin)

    response = client.patch(
        "/api/v1/items/ABC-1", json={"active": False}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["active"] is False


def test_a_list_pages_through_every_item_once(client: TestClient, admin: dict[str, str]) -> None:
    for n in range(7):
        client.post("/api/v1/items", json={"sku": f"SKU-{n}", "name": f"Item {n}"}, headers=admin)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/items", params=params, headers=admin).json()
        seen += [i["sku"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"SKU-{n}" for n in range(7)]


def test_a_lower_case_unit_of_measure_is_stored_upper_case(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post("/api/v1/items", json={**WIDGET, "uom": "ea"}, headers=admin)

    assert response.status_code == 201
    assert response.json()["uom"] == "EA"


def test_a_patch_setting_a_required_field_to_null_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json=WIDGET, headers=admin)

    response = client.patch("/api/v1/items/ABC-1", json={"name": None, "uom": None}, headers=admin)

    assert response.status_code == 422
    assert response.json()["code"] == "validation.failed"
    assert sorted(e["path"] for e in response.json()["errors"]) == ["name", "uom"]
    assert client.get("/api/v1/items/ABC-1", headers=admin).json()["name"] == "Blue widget"


def test_a_patch_with_null_clears_an_optional_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json=WIDGET, headers=admin)

    response = client.patch("/api/v1/items/ABC-1", json={"gtin": None}, headers=admin)

    assert response.status_code == 200
    assert response.json()["gtin"] is None
