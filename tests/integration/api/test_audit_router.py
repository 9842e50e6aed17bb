"""The audit trail over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_an_update_is_audited_with_its_before_after_and_diff(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)
    client.patch("/api/v1/items/ABC-1", json={"name": "Teal widget"}, headers=admin)

    response = client.get(
        "/api/v1/audit", params={"entity_type": "item", "action": "item.updated"}, headers=admin
    )

    [entry] = response.json()["items"]
    assert entry["entity_id"] == "ABC-1"
    assert entry["actor"].startswith("api_key:")
    assert entry["diff"]["name"] == ["Blue widget", "Teal widget"]
    assert entry["diff"]["version"] == [1, 2]
    assert entry["before"]["name"] == "Blue widget"


def test_the_audit_trail_lists_newest_first_and_pages(
    client: TestClient, admin: dict[str, str]
) -> None:
    for n in range(3):
        client.post("/api/v1/items", json={"sku": f"S-{n}", "name": "x"}, headers=admin)

    first = client.get(
        "/api/v1/audit", params={"limit": 2, "entity_type": "item"}, headers=admin
    ).json()
    second = client.get(
        "/api/v1/audit",
        params={"limit": 2, "entity_type": "item", "cursor": first["next_cursor"]},
        headers=admin,
    ).json()

    ids = [e["entity_id"] for e in first["items"] + second["items"]]
    assert ids == ["S-2", "S-1", "S-0"]
    assert second["next_cursor"] is None


def test_an_update_that_changes_nothing_writes_no_audit_row(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)

    response = client.patch("/api/v1/items/ABC-1", json={"name": "Blue widget"}, headers=admin)

    assert response.headers["ETag"] == '"1"'
    entries = client.get("/api/v1/audit", params={"entity_type": "item"}, headers=admin)
    assert [e["action"] for e in entries.json()["items"]] == ["item.created"]


def test_the_audit_trail_filters_by_time(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)

    response = client.get(
        "/api/v1/audit",
        params={"since": "2999-01-01T00:00:00", "entity_type": "item"},
        headers=admin,
    )

    assert response.json()["items"] == []
