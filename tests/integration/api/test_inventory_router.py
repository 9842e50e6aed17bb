"""The stock routes over HTTP: balances, availability, adjustments, movements, transfers,
settings, the channel ATP feed, and warehouse scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from oms.inventory import availability
from tests.conftest import AuthHeaders
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "A")
        factories.item(session, "B")
        factories.warehouse(session, "DAL")
        factories.warehouse(session, "NJ")
        factories.channel(session, "web", warehouses=["DAL", "NJ"])
        factories.channel(session, "b2b", warehouses=["NJ"])
        factories.stock(session, "A", "DAL", 10)
        factories.stock(session, "A", "NJ", 4)
        factories.stock(session, "B", "DAL", 7)
    return db


def publish(db: Database) -> None:
    with db.transaction() as session:
        availability.publish_changes(session)


# -- balances ------------------------------------------------------------------------


def test_the_stock_list_shows_every_figure_under_its_json_name(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get(
        "/api/v1/inventory", params={"sku": "A", "warehouse": "DAL"}, headers=admin
    )

    assert response.status_code == 200
    [line] = response.json()["items"]
    assert line == {
        "sku": "A",
        "warehouse": "DAL",
        "on_hand": 10,
        "reserved": 0,
        "safety_stock": 0,
        "available": 10,
        "inbound": 0,
        "inbound_detail": [],
        "reorder_point": None,
        "reorder_quantity": None,
        "min_quantity": None,
        "max_quantity": None,
        "below_reorder_point": False,
    }


def test_the_stock_list_pages_with_a_cursor_without_repeating_a_line(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    first = client.get("/api/v1/inventory", params={"limit": 2}, headers=admin).json()
    second = client.get(
        "/api/v1/inventory", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
    ).json()

    pairs = [(r["sku"], r["warehouse"]) for r in first["items"] + second["items"]]
    assert pairs == [("A", "DAL"), ("A", "NJ"), ("B", "DAL")]
    assert second["next_cursor"] is None


def test_the_stock_list_filters_lines_below_their_reorder_point(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    client.put(
        "/api/v1/inventory/reorder-settings",
        json={"sku": "A", "warehouse": "NJ", "reorder_point": 5, "reorder_quantity": 20},
        headers=admin,
    )

    response = client.get("/api/v1/inventory", params={"below_reorder_point": True}, headers=admin)

    [line] = response.json()["items"]
    assert (line["sku"], line["warehouse"], line["reorder_point"]) == ("A", "NJ", 5)
    assert line["below_reorder_point"] is True


def test_an_items_availability_is_given_per_warehouse_and_in_total(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get("/api/v1/items/A/availability", headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert [(w["warehouse"], w["available"]) for w in body["warehouses"]] == [
        ("DAL", 10),
        ("NJ", 4),
    ]
    assert body["total"] == {
        "on_hand": 14,
        "reserved": 0,
        "safety_stock": 0,
        "available": 14,
        "inbound": 0,
    }


def test_the_availability_of_an_unknown_item_is_a_404(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get("/api/v1/items/NOPE/availability", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.item_not_found"


# -- adjustments and movements -------------------------------------------------------


def test_an_adjustment_answers_201_with_the_resulting_balance(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        "/api/v1/inventory/adjustments",
        json={
            "sku": "A",
            "warehouse": "DAL",
            "quantity": -3,
            "reason": "damaged",
            "note": "forklift",
        },
        headers=admin,
    )

    assert response.status_code == 201
    assert (response.json()["on_hand"], response.json()["available"]) == (7, 7)


def test_an_adjustment_with_an_unknown_reason_names_the_field_and_the_choices(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        "/api/v1/inventory/adjustments",
        json={"sku": "A", "warehouse": "DAL", "quantity": 0, "reason": "oops"},
        headers=admin,
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = {e["path"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"quantity", "reason"}
    assert "damaged" in errors["reason"]


def test_an_adjustment_below_zero_on_hand_is_a_conflict(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        "/api/v1/inventory/adjustments",
        json={"sku": "A", "warehouse": "NJ", "quantity": -5, "reason": "lost"},
        headers=admin,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "inventory.negative_on_hand"
    assert response.json()["details"]["on_hand"] == 4


def test_an_adjustment_at_an_unknown_warehouse_is_a_404(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        "/api/v1/inventory/adjustments",
        json={"sku": "A", "warehouse": "ATL", "quantity": 1, "reason": "found"},
        headers=admin,
    )

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.warehouse_not_found"


def test_movements_show_codes_deltas_reason_and_actor_newest_first(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    client.post(
        "/api/v1/inventory/adjustments",
        json={"sku": "A", "warehouse": "DAL", "quantity": 2, "reason": "found", "note": "shelf 4"},
        headers=admin,
    )

    response = client.get(
        "/api/v1/inventory/movements", params={"sku": "A", "warehouse": "DAL"}, headers=admin
    )

    assert response.status_code == 200
    newest, initial = response.json()["items"]
    assert {
        k: newest[k] for k in ("sku", "warehouse", "kind", "on_hand_delta", "reason", "note")
    } == {
        "sku": "A",
        "warehouse": "DAL",
        "kind": "adjustment",
        "on_hand_delta": 2,
        "reason": "found",
        "note": "shelf 4",
    }
    assert newest["actor"].startswith("api_key:")
    assert newest["actor"].endswith(":test-admin")
    assert initial["reason"] == "initial_load"


def test_movements_filter_by_kind_and_show_their_reference(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    client.post(
        "/api/v1/reservations",
        json={"sku": "B", "warehouse": "DAL", "quantity": 2, "reference": "SO-9"},
        headers=admin,
    )

    response = client.get("/api/v1/inventory/movements", params={"kind": "reserve"}, headers=admin)

    [movement] = response.json()["items"]
    assert (movement["sku"], movement["reserved_delta"], movement["on_hand_delta"]) == ("B", 2, 0)
    assert movement["reference"]["type"] == "reservation"


def test_movements_of_an_unknown_kind_are_refused(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get("/api/v1/inventory/movements", params={"kind": "teleport"}, headers=admin)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["query.kind"]


# -- transfers -----------------------------------------------------------------------


def transfer(client: TestClient, headers: dict[str, str], quantity: int = 3) -> dict[str, object]:
    response = client.post(
        "/api/v1/inventory/transfers",
        json={
            "source": "DAL",
            "destination": "NJ",
            "lines": [{"sku": "A", "quantity": quantity}],
            "expected_at": "2030-01-02T10:00:00Z",
            "note": "rebalance",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_transfer_ships_from_the_source_and_shows_inbound_at_the_destination(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = transfer(client, admin)

    lines = client.get("/api/v1/inventory", params={"sku": "A"}, headers=admin).json()["items"]
    assert made["status"] == "in_transit"
    assert made["lines"] == [{"sku": "A", "quantity": 3}]
    by_warehouse = {line["warehouse"]: line for line in lines}
    assert by_warehouse["DAL"]["on_hand"] == 7
    assert by_warehouse["NJ"]["inbound"] == 3
    assert by_warehouse["NJ"]["inbound_detail"] == [
        {"quantity": 3, "expected_at": "2030-01-02T10:00:00Z", "source": f"transfer:{made['id']}"}
    ]


def test_a_transfer_is_read_back_by_its_id(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = transfer(client, admin)

    response = client.get(f"/api/v1/inventory/transfers/{made['id']}", headers=admin)

    assert response.status_code == 200
    assert response.json() == made


def test_receiving_a_transfer_books_it_in_once(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = transfer(client, admin)

    first = client.post(f"/api/v1/inventory/transfers/{made['id']}/receive", headers=admin)
    again = client.post(f"/api/v1/inventory/transfers/{made['id']}/receive", headers=admin)

    assert first.status_code == 200
    assert first.json()["status"] == "received"
    assert again.status_code == 409
    assert again.json()["code"] == "inventory.transfer_not_in_transit"
    [nj] = client.get(
        "/api/v1/inventory", params={"sku": "A", "warehouse": "NJ"}, headers=admin
    ).json()["items"]
    assert (nj["on_hand"], nj["inbound"]) == (7, 0)


def test_a_transfer_beyond_available_stock_is_a_conflict_with_the_figures(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        "/api/v1/inventory/transfers",
        json={"source": "NJ", "destination": "DAL", "lines": [{"sku": "A", "quantity": 9}]},
        headers=admin,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "inventory.insufficient_stock"
    assert (response.json()["details"]["requested"], response.json()["details"]["available"]) == (
        9,
        4,
    )


def test_a_transfer_to_its_own_source_is_refused(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        "/api/v1/inventory/transfers",
        json={"source": "DAL", "destination": "DAL", "lines": [{"sku": "A", "quantity": 1}]},
        headers=admin,
    )

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["destination"]


def test_an_unknown_transfer_is_a_404(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get("/api/v1/inventory/transfers/424242", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "inventory.transfer_not_found"


# -- settings ------------------------------------------------------------------------


def test_safety_stock_lowers_available_and_null_removes_it(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    set_rule = client.put(
        "/api/v1/inventory/safety-stock", json={"warehouse": "DAL", "quantity": 2}, headers=admin
    )
    with_rule = client.get("/api/v1/items/A/availability", headers=admin).json()
    client.put(
        "/api/v1/inventory/safety-stock", json={"warehouse": "DAL", "quantity": None}, headers=admin
    )
    without = client.get("/api/v1/items/A/availability", headers=admin).json()

    assert set_rule.status_code == 200
    assert set_rule.json()["balances_updated"] == 2
    assert with_rule["warehouses"][0]["available"] == 8
    assert without["warehouses"][0]["available"] == 10


def test_the_most_specific_safety_stock_wins(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    client.put(
        "/api/v1/inventory/safety-stock", json={"warehouse": "DAL", "quantity": 2}, headers=admin
    )
    client.put(
        "/api/v1/inventory/safety-stock",
        json={"sku": "A", "warehouse": "DAL", "quantity": 5},
        headers=admin,
    )

    lines = client.get("/api/v1/inventory", params={"warehouse": "DAL"}, headers=admin).json()

    assert {r["sku"]: r["safety_stock"] for r in lines["items"]} == {"A": 5, "B": 2}


def test_safety_stock_needs_an_item_or_a_warehouse(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.put("/api/v1/inventory/safety-stock", json={"quantity": 2}, headers=admin)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["sku"]


def test_reorder_settings_are_answered_as_stored(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.put(
        "/api/v1/inventory/reorder-settings",
        json={"sku": "B", "warehouse": "DAL", "min_quantity": 5, "max_quantity": 30},
        headers=admin,
    )

    assert response.status_code == 200
    assert response.json() == {
        "sku": "B",
        "warehouse": "DAL",
        "reorder_point": None,
        "reorder_quantity": None,
        "min_quantity": 5,
        "max_quantity": 30,
    }


def test_reorder_settings_mixing_both_styles_are_refused(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.put(
        "/api/v1/inventory/reorder-settings",
        json={
            "sku": "B",
            "warehouse": "DAL",
            "reorder_point": 5,
            "reorder_quantity": 10,
            "min_quantity": 5,
            "max_quantity": 30,
        },
        headers=admin,
    )

    assert response.status_code == 422
    assert "min_quantity" in [e["path"] for e in response.json()["errors"]]


# -- the channel availability feed ---------------------------------------------------


def test_the_feed_lists_every_item_with_the_newest_seq_as_its_etag(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    publish(stocked)

    response = client.get("/api/v1/channels/web/availability", headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert body["channel"] == "web"
    assert {e["sku"]: e["atp"] for e in body["items"]} == {"A": 14, "B": 7}
    assert response.headers["ETag"] == f'"{body["seq"]}"'
    assert body["seq"] == max(e["seq"] for e in body["items"])


def test_the_feed_answers_304_when_nothing_was_published_since_the_etag(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    publish(stocked)
    etag = client.get("/api/v1/channels/web/availability", headers=admin).headers["ETag"]

    response = client.get(
        "/api/v1/channels/web/availability", headers={**admin, "If-None-Match": etag}
    )

    assert response.status_code == 304
    assert response.headers["ETag"] == etag
    assert response.content == b""


def test_the_feed_answers_again_once_a_change_was_published(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    publish(stocked)
    etag = client.get("/api/v1/channels/web/availability", headers=admin).headers["ETag"]
    client.post(
        "/api/v1/inventory/adjustments",
        json={"sku": "B", "warehouse": "DAL", "quantity": 1, "reason": "found"},
        headers=admin,
    )
    publish(stocked)

    response = client.get(
        "/api/v1/channels/web/availability", headers={**admin, "If-None-Match": etag}
    )

    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_the_feed_since_a_seq_lists_only_later_changes_in_seq_order(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    publish(stocked)
    seq = client.get("/api/v1/channels/web/availability", headers=admin).json()["seq"]
    for sku in ("B", "A"):
        client.post(
            "/api/v1/inventory/adjustments",
            json={"sku": sku, "warehouse": "DAL", "quantity": 1, "reason": "found"},
            headers=admin,
        )
        publish(stocked)

    response = client.get("/api/v1/channels/web/availability", params={"since": seq}, headers=admin)

    items = response.json()["items"]
    assert [(e["sku"], e["atp"]) for e in items] == [("B", 8), ("A", 15)]
    assert all(e["seq"] > seq for e in items)
    assert [e["seq"] for e in items] == sorted(e["seq"] for e in items)


def test_the_feed_of_an_unknown_channel_is_a_404(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get("/api/v1/channels/nope/availability", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.channel_not_found"


# -- scope ---------------------------------------------------------------------------


def test_a_key_scoped_to_one_warehouse_lists_only_its_lines(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    scoped = auth_headers("viewer", warehouses=["NJ"])

    response = client.get("/api/v1/inventory", headers=scoped)

    assert [(r["sku"], r["warehouse"]) for r in response.json()["items"]] == [("A", "NJ")]


def test_a_key_scoped_to_one_warehouse_sees_only_its_part_of_an_items_availability(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    scoped = auth_headers("viewer", warehouses=["NJ"])

    body = client.get("/api/v1/items/A/availability", headers=scoped).json()

    assert [w["warehouse"] for w in body["warehouses"]] == ["NJ"]
    assert body["total"]["on_hand"] == 4


def test_a_warehouse_outside_the_scope_reads_as_absent(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    scoped = auth_headers("admin", warehouses=["NJ"])

    listed = client.get("/api/v1/inventory", params={"warehouse": "DAL"}, headers=scoped)
    movements = client.get(
        "/api/v1/inventory/movements", params={"warehouse": "DAL"}, headers=scoped
    )

    assert listed.json()["items"] == []
    assert movements.status_code == 404
    assert movements.json()["code"] == "catalog.warehouse_not_found"


def test_a_key_scoped_to_one_warehouse_cannot_adjust_another(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    scoped = auth_headers("warehouse", warehouses=["NJ"])

    response = client.post(
        "/api/v1/inventory/adjustments",
        json={"sku": "A", "warehouse": "DAL", "quantity": -1, "reason": "lost"},
        headers=scoped,
    )

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.warehouse_not_found"


def test_a_key_scoped_to_one_warehouse_sees_only_its_movements(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    scoped = auth_headers("viewer", warehouses=["NJ"])

    response = client.get("/api/v1/inventory/movements", headers=scoped)

    assert {m["warehouse"] for m in response.json()["items"]} == {"NJ"}


def test_a_transfer_between_warehouses_outside_the_scope_is_a_404(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, stocked: Database
) -> None:
    with stocked.transaction() as session:
        factories.warehouse(session, "ATL")
    made = client.post(
        "/api/v1/inventory/transfers",
        json={"source": "DAL", "destination": "ATL", "lines": [{"sku": "A", "quantity": 1}]},
        headers=admin,
    ).json()
    scoped = auth_headers("admin", warehouses=["NJ"])

    read = client.get(f"/api/v1/inventory/transfers/{made['id']}", headers=scoped)
    received = client.post(f"/api/v1/inventory/transfers/{made['id']}/receive", headers=scoped)

    assert (read.status_code, received.status_code) == (404, 404)


def test_a_channel_outside_the_keys_scope_has_no_feed(
    client: TestClient, auth_headers: AuthHeaders, stocked: Database
) -> None:
    publish(stocked)
    scoped = auth_headers("integration", channels=["b2b"])

    hidden = client.get("/api/v1/channels/web/availability", headers=scoped)
    own = client.get("/api/v1/channels/b2b/availability", headers=scoped)

    assert hidden.status_code == 404
    assert own.status_code == 200
    assert {e["sku"]: e["atp"] for e in own.json()["items"]} == {"A": 4, "B": 0}


def test_a_cursor_from_another_list_is_refused(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    other = client.get("/api/v1/items", params={"limit": 1}, headers=admin).json()["next_cursor"]

    response = client.get("/api/v1/inventory", params={"cursor": other}, headers=admin)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["cursor"]
