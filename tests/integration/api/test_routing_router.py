"""Rule sets over HTTP: versions per channel and for the default, one active per scope,
activation and roll-back, If-Match on a new version; and an order's routing explained."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.routing import factories

RULE_SETS = "/api/v1/routing/rule-sets"


@pytest.fixture
def network(db: Database) -> Database:
    with db.transaction() as session:
        factories.network(session)
    return db


def create(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    response = client.post(RULE_SETS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def order_id(db: Database, external_id: str = "1001") -> int:
    with db.transaction() as session:
        return factories.order(session, external_id, lines=[("ABC-1", 3)])


def test_a_new_channel_rule_set_is_version_1_and_active(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    response = client.post(
        RULE_SETS, json={"channel": "web", "ranking": ["priority"]}, headers=admin
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["version"], body["active"]) == ("web", 1, True)
    assert body["rules"]["ranking"] == ["priority"]
    assert body["rules"]["split"] == "split_by_line"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"{RULE_SETS}/{body['id']}"


def test_a_change_makes_the_next_version_and_keeps_the_old_one_inactive(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    first = create(client, admin, channel="web", ranking=["priority"])
    second = create(client, admin, channel="web", split="ship_complete", note="fewer parcels")

    listed = client.get(RULE_SETS, params={"channel": "web"}, headers=admin).json()["items"]

    assert [(r["id"], r["version"], r["active"]) for r in listed] == [
        (first["id"], 1, False),
        (second["id"], 2, True),
    ]
    assert listed[1]["note"] == "fewer parcels"


def test_the_default_rule_set_has_versions_of_its_own(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    create(client, admin, channel="web", ranking=["priority"])
    made = create(client, admin, fallback="hold_for_review")

    listed = client.get(RULE_SETS, params={"default": "true"}, headers=admin).json()["items"]

    assert [(r["channel"], r["version"]) for r in listed] == [(None, 1)]
    assert made["rules"]["fallback"] == "hold_for_review"


def test_activating_an_older_version_rolls_back_to_it(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    first = create(client, admin, channel="web", ranking=["priority"])
    create(client, admin, channel="web", ranking=["most_stock"])

    response = client.post(f"{RULE_SETS}/{first['id']}/activate", headers=admin)

    assert response.status_code == 200
    assert response.json()["active"] is True
    active = client.get(RULE_SETS, params={"active": "true"}, headers=admin).json()["items"]
    assert [(r["version"], r["rules"]["ranking"]) for r in active] == [(1, ["priority"])]


def test_a_version_made_inactive_waits_for_its_activation(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    made = client.post(
        RULE_SETS, params={"activate": "false"}, json={"channel": "web"}, headers=admin
    ).json()

    assert made["active"] is False
    assert client.get(RULE_SETS, params={"active": "true"}, headers=admin).json()["items"] == []


def test_the_active_version_routes_the_next_orders(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    before = order_id(network, "1001")
    create(client, admin, channel="web", ranking=["priority"])
    after = order_id(network, "1002")

    chosen = [
        client.get(f"/api/v1/fulfillment-orders?order_id={o}", headers=admin).json()["items"][0][
            "warehouse"
        ]
        for o in (before, after)
    ]

    assert chosen == ["DAL", "RNO"]


def test_one_version_is_read_with_its_etag(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    made = create(client, admin, channel="web")

    response = client.get(f"{RULE_SETS}/{made['id']}", headers=admin)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.json()["description"][0].startswith("filters: serves_channel")


def test_a_new_version_against_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    create(client, admin, channel="web")

    stale = client.post(RULE_SETS, json={"channel": "web"}, headers={**admin, "If-Match": '"0"'})
    current = client.post(RULE_SETS, json={"channel": "web"}, headers={**admin, "If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.json()["code"] == "routing.rule_set_version_mismatch"
    assert current.status_code == 201


def test_bad_rules_are_refused_at_their_paths(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    response = client.post(
        RULE_SETS,
        json={"filters": ["serves_channel", "teleports"], "ranking": [], "max_shipments": 0},
        headers=admin,
    )

    assert response.status_code == 422
    paths = {p["path"] for p in response.json()["errors"]}
    assert {"filters[1]", "ranking", "max_shipments"} <= paths


def test_a_rule_set_for_an_unknown_channel_is_refused(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    response = client.post(RULE_SETS, json={"channel": "nowhere"}, headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "routing.unknown_channel"


def test_an_unknown_rule_set_is_a_404(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    response = client.get(f"{RULE_SETS}/999", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "routing.rule_set_not_found"


def test_a_sales_ops_key_may_read_rule_sets_but_not_make_them(
    client: TestClient, auth_headers: AuthHeaders, network: Database
) -> None:
    headers = auth_headers("sales_ops")

    assert client.get(RULE_SETS, headers=headers).status_code == 200
    assert client.post(RULE_SETS, json={}, headers=headers).status_code == 403


# -- explain ------------------------------------------------------------------------------


def test_the_order_s_routing_shows_each_plan_with_its_trace(
    client: TestClient, admin: dict[str, str], network: Database
) -> None:
    made = order_id(network)

    response = client.get(f"/api/v1/orders/{made}/routing", headers=admin)

    assert response.status_code == 200
    [plan] = response.json()
    assert (plan["reason"], plan["rule_set_version"], plan["planned_units"]) == ("intake", 0, 3)
    assert plan["destination"]["region"] == "NY"
    [line] = plan["trace"]
    by_code = {c["warehouse"]: c for c in line["candidates"]}
    assert by_code["DAL"]["chosen"] is True
    assert by_code["EDI"]["reasons"] == ["holds 2 of 3"]
    assert by_code["MEM"]["reasons"] == ["does not serve channel web"]
    assert by_code["RNO"]["why"].startswith("ranked 2nd")
    assert set(by_code["DAL"]["scores"]) == {"distance_km", "priority", "stock", "cost"}
    assert plan["fulfillment_orders"] == [
        fo["number"]
        for fo in client.get(
            "/api/v1/fulfillment-orders", params={"order_id": made}, headers=admin
        ).json()["items"]
    ]


def test_the_routing_of_an_order_outside_the_key_s_channels_is_not_found(
    client: TestClient, auth_headers: AuthHeaders, network: Database
) -> None:
    made = order_id(network)

    response = client.get(
        f"/api/v1/orders/{made}/routing", headers=auth_headers("viewer", channels=["b2b"])
    )

    assert response.status_code == 404
