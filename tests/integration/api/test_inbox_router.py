"""The inbox over HTTP: failures listed with their errors, payloads kept as they arrived,
a replay after the fix, and channel scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.orders import factories
from tests.integration.orders.deliveries import payload


@pytest.fixture
def master(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session, channels=("web", "b2b"))
    return db


def send(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> int:
    """Post an order; the id of the inbox message that keeps it."""
    response = client.post("/api/v1/orders", json=body, headers=headers)
    if response.status_code == 422:
        return int(response.json()["details"]["inbox_id"])
    return int(response.json()["inbox_id"])


def messages(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/inbox", params=params, headers=headers)
    assert response.status_code == 200
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def test_failed_payloads_are_listed_with_their_errors(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    send(client, admin, payload("1"))
    failed = send(client, admin, payload("2", lines=[("NEW-1", 1)]))

    found = messages(client, admin, status="failed")

    assert [(m["id"], m["external_id"], m["attempts"]) for m in found] == [(failed, "2", 1)]
    assert found[0]["errors"] == [
        {
            "path": "lines[0].sku",
            "message": "no item has the SKU 'NEW-1'",
            "code": "order.unknown_sku",
        }
    ]


def test_payloads_are_listed_newest_first_and_filtered_by_channel_and_kind(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    first = send(client, admin, payload("1"))
    second = send(client, admin, payload("2"))
    send(client, admin, payload("3", channel="b2b"))

    found = messages(client, admin, channel="web", kind="sales_order")

    assert [m["id"] for m in found] == [second, first]
    assert {m["status"] for m in found} == {"accepted"}


def test_a_message_shows_the_payload_as_it_arrived_and_what_it_became(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    raw = b'{"channel":"web",  "external_id":"1", "currency":"USD"}'
    response = client.post(
        "/api/v1/orders", content=raw, headers={**admin, "Content-Type": "application/json"}
    )
    message_id = response.json()["details"]["inbox_id"]

    shown = client.get(f"/api/v1/inbox/{message_id}", headers=admin).json()

    assert shown["body"] == raw.decode()
    assert (shown["kind"], shown["source"], shown["status"]) == ("sales_order", "api", "failed")
    assert {e["path"] for e in shown["errors"]} == {"customer", "ship_to", "lines"}


def test_a_failed_payload_replayed_after_the_fix_becomes_an_order(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    message_id = send(client, admin, payload(lines=[("NEW-1", 1)]))
    client.post("/api/v1/items", json={"sku": "NEW-1", "name": "New widget"}, headers=admin)

    response = client.post(f"/api/v1/inbox/{message_id}/replay", headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "created"
    assert body["order"]["lines"][0]["sku"] == "NEW-1"
    assert body["order"]["lines"][0]["backordered"] == 1
    message = body["message"]
    assert (message["status"], message["attempts"], message["errors"]) == ("accepted", 2, [])
    assert message["document_id"] == body["order"]["number"]


def test_a_replay_that_fails_again_is_a_422_and_counts_the_attempt(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    message_id = send(client, admin, payload(lines=[("NEW-1", 1)]))

    response = client.post(f"/api/v1/inbox/{message_id}/replay", headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "order.unknown_sku"
    shown = client.get(f"/api/v1/inbox/{message_id}", headers=admin).json()
    assert (shown["status"], shown["attempts"]) == ("failed", 2)


def test_a_payload_that_did_not_fail_is_not_replayed(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    message_id = send(client, admin, payload())

    response = client.post(f"/api/v1/inbox/{message_id}/replay", headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "inbox.not_replayable"


def test_an_unknown_message_is_a_404(
    client: TestClient, admin: dict[str, str], master: Database
) -> None:
    response = client.get("/api/v1/inbox/424242", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "inbox.message_not_found"


def test_a_key_scoped_to_a_channel_sees_only_that_channels_payloads(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, master: Database
) -> None:
    send(client, admin, payload("1", channel="web"))
    other = send(client, admin, payload("2", channel="b2b", lines=[("NEW-1", 1)]))
    scoped = auth_headers("integration", channels=["web"])

    assert [m["channel"] for m in messages(client, scoped)] == ["web"]
    assert client.get(f"/api/v1/inbox/{other}", headers=scoped).status_code == 404
    assert client.post(f"/api/v1/inbox/{other}/replay", headers=scoped).status_code == 404


def test_a_viewer_may_not_read_the_inbox(
    client: TestClient, auth_headers: AuthHeaders, master: Database
) -> None:
    assert client.get("/api/v1/inbox", headers=auth_headers("viewer")).status_code == 403
