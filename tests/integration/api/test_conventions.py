"""The HTTP conventions every router shares: problem+json, request ids, idempotency."""

from __future__ import annotations

from fastapi.testclient import TestClient

from oms.auth import repository, service
from oms.auth.principal import SYSTEM
from oms.db import Database
from tests.conftest import AuthHeaders

WIDGET = {"sku": "ABC-1", "name": "Blue widget"}
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["code"] == code
    return body


def test_a_request_without_credentials_is_a_401_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/items"), 401, "auth.unauthenticated")


def test_an_unknown_api_key_is_a_401_problem(client: TestClient) -> None:
    response = client.get(
        "/api/v1/items", headers={"Authorization": "Bearer oms_abcdefgh_notarealsecretatall0000"}
    )

    assert_problem(response, 401, "auth.unauthenticated")


def test_a_revoked_api_key_is_a_401_problem_with_its_own_code(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    assert client.get("/api/v1/items", headers=admin).status_code == 200
    with db.transaction() as session:
        key = repository.list_api_keys(session)[0]
        service.revoke_api_key(session, key_id=key.id, actor=SYSTEM)

    assert_problem(client.get("/api/v1/items", headers=admin), 401, "auth.api_key_revoked")


def test_a_role_without_the_permission_gets_a_403_problem(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    response = client.post("/api/v1/items", json=WIDGET, headers=auth_headers("viewer"))

    body = assert_problem(response, 403, "auth.forbidden")
    assert body["details"] == {"permission": "items.write"}


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404, "http.not_found")


def test_a_conflict_is_a_409_problem(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/items", json=WIDGET, headers=admin)

    assert_problem(
        client.post("/api/v1/items", json=WIDGET, headers=admin), 409, "catalog.item_exists"
    )


def test_a_validation_problem_lists_every_bad_field_with_its_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/items",
        json={"sku": "has space", "name": "", "weight": -1, "colour": "blue"},
        headers=admin,
    )

    body = assert_problem(response, 422, "validation.failed")
    paths = sorted(e["path"] for e in body["errors"])  # type: ignore[attr-defined]
    assert paths == ["colour", "name", "sku", "weight"]


def test_a_malformed_json_body_is_a_422_problem(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/items", content=b"{not json", headers={**admin, "Content-Type": "application/json"}
    )

    assert_problem(response, 422, "validation.failed")


def test_a_bad_query_parameter_is_named_in_the_problem(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/items", params={"limit": 0}, headers=admin)

    body = assert_problem(response, 422, "validation.failed")
    assert [e["path"] for e in body["errors"]] == ["query.limit"]  # type: ignore[attr-defined]


def test_an_unknown_sort_key_is_refused_naming_the_allowed_ones(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/items", params={"sort": "colour"}, headers=admin)

    body = assert_problem(response, 422, "validation.failed")
    assert "sku" in body["errors"][0]["message"]  # type: ignore[index]


def test_a_given_request_id_is_echoed_and_carried_by_problems(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/items", headers={"X-Request-ID": "trace-42"})

    assert response.headers["X-Request-ID"] == "trace-42"
    assert response.json()["request_id"] == "trace-42"


def test_a_request_without_an_id_gets_one_made(client: TestClient) -> None:
    response = client.get("/healthz")

    assert len(response.headers["X-Request-ID"]) == 32


def test_a_request_id_lands_in_the_audit_trail(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/items", json=WIDGET, headers={**admin, "X-Request-ID": "req-audit-1"})

    entries = client.get("/api/v1/audit", params={"request_id": "req-audit-1"}, headers=admin)

    assert [e["action"] for e in entries.json()["items"]] == ["item.created"]


def test_a_retried_post_with_the_same_idempotency_key_gets_the_first_answer(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "Idempotency-Key": "create-abc-1"}
    first = client.post("/api/v1/items", json=WIDGET, headers=headers)

    second = client.post("/api/v1/items", json=WIDGET, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_an_idempotency_key_reused_with_another_body_is_a_409(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "Idempotency-Key": "create-abc-1"}
    client.post("/api/v1/items", json=WIDGET, headers=headers)

    response = client.post("/api/v1/items", json={**WIDGET, "sku": "ABC-2"}, headers=headers)

    assert_problem(response, 409, "idempotency.key_reused")
    assert client.get("/api/v1/items/ABC-2", headers=admin).status_code == 404


def test_idempotency_keys_of_different_callers_do_not_meet(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    first = client.post(
        "/api/v1/items", json=WIDGET, headers={**auth_headers("admin"), "Idempotency-Key": "k1"}
    )

    second = client.post(
        "/api/v1/items",
        json={**WIDGET, "sku": "ABC-2"},
        headers={**auth_headers("purchasing"), "Idempotency-Key": "k1"},
    )

    assert first.status_code == second.status_code == 201


def test_a_refused_request_is_replayed_as_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "Idempotency-Key": "bad-1"}
    first = client.post("/api/v1/items", json={"sku": "X"}, headers=headers)

    second = client.post("/api/v1/items", json={"sku": "X"}, headers=headers)

    assert first.status_code == second.status_code == 422
    assert second.headers["Idempotent-Replayed"] == "true"


def test_an_idempotency_key_reused_with_another_query_is_a_409(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "Idempotency-Key": "q-1"}
    client.post("/api/v1/items", params={"x": "1"}, json=WIDGET, headers=headers)

    response = client.post("/api/v1/items", params={"x": "2"}, json=WIDGET, headers=headers)

    assert_problem(response, 409, "idempotency.key_reused")
