"""The webhooks routes over HTTP: subscriptions, the delivery log, redelivery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.config import Settings
from oms.db import Database
from oms.jobs.relay import relay_once
from oms.outbox import dispatch
from tests.integration.jobs.receiver import Receiver

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"
DELIVERIES = "/api/v1/webhooks/deliveries"
HOOK = {"url": "https://hooks.example.com/oms", "topics": ["item.*"]}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as running:
        yield running


def subscribe(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(SUBSCRIPTIONS, json={**HOOK, **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_creating_a_subscription_answers_its_secret_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = subscribe(client, admin, name="ERP")

    again = client.get(f"{SUBSCRIPTIONS}/{created['id']}", headers=admin)

    assert created["secret"].startswith("whsec_")
    assert (created["name"], created["topics"], created["active"]) == ("ERP", ["item.*"], True)
    assert again.status_code == 200
    assert "secret" not in again.json()
    assert again.headers["ETag"] == '"1"'


def test_a_subscription_needs_an_http_url_and_at_least_one_topic(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        SUBSCRIPTIONS, json={"url": "ftp://example.com/x", "topics": []}, headers=admin
    )

    assert response.status_code == 422
    assert sorted(e["path"] for e in response.json()["errors"]) == ["topics", "url"]


def test_a_topic_that_is_no_pattern_is_refused_naming_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(SUBSCRIPTIONS, json={**HOOK, "topics": ["order.*.x"]}, headers=admin)

    assert response.status_code == 422
    assert "order.*.x" in response.json()["errors"][0]["message"]


def test_rotating_the_secret_answers_the_new_one(client: TestClient, admin: dict[str, str]) -> None:
    created = subscribe(client, admin)

    response = client.patch(
        f"{SUBSCRIPTIONS}/{created['id']}", json={"rotate_secret": True}, headers=admin
    )

    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    assert response.json()["secret"] != created["secret"]
    assert response.headers["ETag"] == '"2"'


def test_pausing_a_subscription_answers_it_without_a_secret(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = subscribe(client, admin)

    response = client.patch(
        f"{SUBSCRIPTIONS}/{created['id']}",
        json={"active": False, "topics": ["*"]},
        headers={**admin, "If-Match": '"1"'},
    )

    assert response.status_code == 200
    assert (response.json()["active"], response.json()["topics"]) == (False, ["*"])
    assert "secret" not in response.json()


def test_a_patch_setting_a_subscription_field_to_null_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = subscribe(client, admin, name="ERP")

    response = client.patch(
        f"{SUBSCRIPTIONS}/{created['id']}", json={"url": None, "active": None}, headers=admin
    )

    assert response.status_code == 422
    assert sorted(e["path"] for e in response.json()["errors"]) == ["active", "url"]


def test_a_stale_if_match_on_a_subscription_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = subscribe(client, admin)
    client.patch(f"{SUBSCRIPTIONS}/{created['id']}", json={"active": False}, headers=admin)

    response = client.patch(
        f"{SUBSCRIPTIONS}/{created['id']}",
        json={"active": True},
        headers={**admin, "If-Match": '"1"'},
    )

    assert response.status_code == 412
    assert response.json()["code"] == "webhooks.version_mismatch"


def test_the_subscription_list_pages_through_every_subscription(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = [subscribe(client, admin, name=f"hook {n}")["id"] for n in range(3)]

    first = client.get(SUBSCRIPTIONS, params={"limit": 2}, headers=admin).json()
    second = client.get(
        SUBSCRIPTIONS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
    ).json()

    assert [s["id"] for s in first["items"] + second["items"]] == made
    assert second["next_cursor"] is None


def test_an_unknown_subscription_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get(f"{SUBSCRIPTIONS}/999", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "webhooks.subscription_not_found"


def test_only_an_admin_manages_webhooks(client: TestClient, auth_headers: Any) -> None:
    response = client.get(SUBSCRIPTIONS, headers=auth_headers("integration"))

    assert response.status_code == 403
    assert response.json()["code"] == "auth.forbidden"


def test_the_delivery_log_shows_status_attempts_status_code_and_latency(
    client: TestClient,
    admin: dict[str, str],
    db: Database,
    settings: Settings,
    receiver: Receiver,
) -> None:
    subscription = subscribe(client, admin, url=receiver.url)
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)
    relay_once(db, settings, relay_name="relay-a")

    response = client.get(
        DELIVERIES,
        params={"subscription_id": subscription["id"], "event_topic": "item.created"},
        headers=admin,
    )

    assert response.status_code == 200
    [delivery] = response.json()["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert delivery["last_latency_ms"] > 0
    assert delivery["event_id"] == receiver.hits[0].webhook_id


def test_the_delivery_log_filters_by_status(
    client: TestClient,
    admin: dict[str, str],
    db: Database,
    settings: Settings,
    receiver: Receiver,
) -> None:
    subscribe(client, admin, url=receiver.url)
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)
    relay_once(db, settings, relay_name="relay-a")

    dead = client.get(DELIVERIES, params={"status": "dead"}, headers=admin).json()
    delivered = client.get(DELIVERIES, params={"status": "delivered"}, headers=admin).json()

    assert (len(dead["items"]), len(delivered["items"])) == (0, 1)


def test_a_delivery_shows_its_payload_and_attempts(
    client: TestClient,
    admin: dict[str, str],
    db: Database,
    settings: Settings,
    receiver: Receiver,
) -> None:
    subscribe(client, admin, url=receiver.url)
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)
    relay_once(db, settings, relay_name="relay-a")
    [listed] = client.get(DELIVERIES, headers=admin).json()["items"]

    response = client.get(f"{DELIVERIES}/{listed['id']}", headers=admin)

    detail = response.json()
    assert detail["payload"]["sku"] == "ABC-1"
    assert [(a["attempt"], a["status_code"], a["relay"]) for a in detail["attempt_log"]] == [
        (1, 200, "relay-a")
    ]


def test_redelivering_a_delivered_webhook_sends_it_again(
    client: TestClient,
    admin: dict[str, str],
    db: Database,
    settings: Settings,
    receiver: Receiver,
) -> None:
    subscribe(client, admin, url=receiver.url)
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)
    relay_once(db, settings, relay_name="relay-a")
    [listed] = client.get(DELIVERIES, headers=admin).json()["items"]

    response = client.post(f"{DELIVERIES}/{listed['id']}/redeliver", headers=admin)
    relay_once(db, settings, relay_name="relay-a")

    assert (response.status_code, response.json()["status"]) == (200, "pending")
    assert len(receiver.hits) == 2
    after = client.get(f"{DELIVERIES}/{listed['id']}", headers=admin).json()
    assert (after["status"], after["attempts"]) == ("delivered", 2)


def test_redelivering_a_pending_webhook_is_a_conflict(
    client: TestClient, admin: dict[str, str], db: Database, settings: Settings
) -> None:
    subscribe(client, admin)
    client.post("/api/v1/items", json={"sku": "ABC-1", "name": "Blue widget"}, headers=admin)
    with db.transaction() as session:
        dispatch.fan_out(session, limit=10)
    [listed] = client.get(DELIVERIES, headers=admin).json()["items"]

    response = client.post(f"{DELIVERIES}/{listed['id']}/redeliver", headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "webhooks.cannot_redeliver"


def test_an_unknown_delivery_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get(f"{DELIVERIES}/999", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "webhooks.delivery_not_found"
