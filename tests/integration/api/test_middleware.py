"""Request context: every answer, a failure's too, carries its request id; logs name who asked."""

from __future__ import annotations

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from oms.db import StaleRead


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    @app.post("/api/v1/contended")
    def contended() -> None:
        raise StaleRead("units taken by a concurrent order on every attempt")

    return app


def test_an_unexpected_failure_is_a_500_problem_carrying_the_request_id(
    failing_app: FastAPI,
) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/broken", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["X-Request-ID"] == "trace-500"
    assert response.json()["code"] == "server.error"
    assert response.json()["request_id"] == "trace-500"


def test_an_unexpected_failure_is_logged_once_with_its_request_id(failing_app: FastAPI) -> None:
    with (
        TestClient(failing_app, raise_server_exceptions=False) as client,
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        client.get("/api/v1/broken", headers={"X-Request-ID": "trace-500"})

    failures = [line for line in logs if line["event"] == "unhandled_error"]
    assert len(failures) == 1
    assert failures[0]["request_id"] == "trace-500"


def test_the_request_log_line_names_the_request_id_and_the_principal(
    client: TestClient, admin: dict[str, str]
) -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        client.get("/api/v1/items", headers={**admin, "X-Request-ID": "trace-7"})

    [line] = [line for line in logs if line["event"] == "request"]
    assert line["request_id"] == "trace-7"
    assert line["principal"].startswith("api_key:")
    assert line["principal"].endswith(":test-admin")


def test_the_request_log_line_never_carries_the_api_key(
    client: TestClient, admin: dict[str, str]
) -> None:
    secret = admin["Authorization"].removeprefix("Bearer ")

    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        client.get("/api/v1/items", headers=admin)

    assert secret not in repr(logs)


def test_a_request_without_an_id_gets_a_new_one_each_time(client: TestClient) -> None:
    seen = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}

    assert len(seen) == 3
    assert all(len(found) == 32 for found in seen)


def test_the_request_log_line_of_an_order_refused_names_who_sent_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        answer = client.post("/api/v1/orders", json={"external_id": "E-1"}, headers=admin)

    assert answer.status_code == 422
    [line] = [line for line in logs if line["event"] == "request"]
    assert line["principal"].endswith(":test-admin")


def test_work_that_met_a_lock_conflict_on_every_attempt_is_a_503_to_send_again(
    failing_app: FastAPI,
) -> None:
    with (
        TestClient(failing_app, raise_server_exceptions=False) as client,
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        response = client.post("/api/v1/contended", headers={"X-Request-ID": "trace-503"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["request_id"]) == (
        "server.contended",
        "trace-503",
    )
    assert [line["event"] for line in logs if line["log_level"] in ("error", "warning")] == [
        "request_contended"
    ]
