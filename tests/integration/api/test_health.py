"""Health, readiness and metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from oms.api.app import create_app
from oms.config import Settings
from oms.db import Database


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_schema_is_at_the_newest_migration(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_readyz_is_not_ready_on_an_unmigrated_database(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    app = create_app(Settings(database_url=url, embedded_worker=False), database=Database(url))

    with TestClient(app) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "behind"


def test_metrics_count_requests_by_route_template(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/api/v1/items/ABC-1", headers=admin)
    client.get("/api/v1/items/ABC-2", headers=admin)

    body = client.get("/metrics").text

    assert (
        'oms_http_requests_total{method="GET",route="/api/v1/items/{sku}",status="404"} 2.0' in body
    )
    assert (
        'oms_http_request_duration_seconds_count{method="GET",route="/api/v1/items/{sku}"}' in body
    )


def test_metrics_show_the_outbox_backlog(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)

    body = client.get("/metrics").text

    assert 'oms_outbox_backlog{kind="undispatched_events"} 1.0' in body


def test_the_openapi_document_is_served(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert "/api/v1/items" in response.json()["paths"]


def test_sqlite_runs_with_wal_and_foreign_keys(client: TestClient) -> None:
    db: Database = client.app.state.database  # type: ignore[attr-defined]
    if db.dialect != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
