"""`/api/v1/shipments`: the list with its filters and scopes, one shipment with each
package's tracking history, and the order detail's shipments."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from oms.db import Database
from oms.fulfillment import shipments
from oms.fulfillment.schemas import ShipmentOut
from tests.conftest import AuthHeaders
from tests.integration.fulfillment.factories import UPS, post, released, shipment
from tests.integration.fulfillment.test_tracking import (
    DELIVERED,
    IN_TRANSIT,
    SECOND,
    shipped,
    tracker_with,
    webhook,
)
from tests.integration.orders.test_views import queries


def listed(client: TestClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/shipments", params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_list_shows_shipments_with_their_packages_and_filters_them(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    order_id = shipped(db, client, auth_headers, UPS, SECOND)
    webhook(client, tracker_with(IN_TRANSIT))

    [found] = listed(client, admin)

    assert found["number"].startswith("SH-")
    assert found["order_id"] == order_id
    assert found["warehouse"] == "DAL"
    assert found["carrier"] == "UPS"
    assert found["status"] == "pre_transit"
    assert [(p["tracking_number"], p["status"]) for p in found["packages"]] == [
        (UPS, "in_transit"),
        (SECOND, "pre_transit"),
    ]
    assert found["lines"] == [{"line_number": 1, "sku": "ABC-1", "quantity": 3}]
    assert listed(client, admin, order_id=order_id) == [found]
    assert listed(client, admin, order_id=order_id + 1) == []
    assert listed(client, admin, warehouse="dal") == [found]
    assert listed(client, admin, warehouse="EDI") == []
    assert listed(client, admin, carrier="UPSN") == [found]
    assert listed(client, admin, carrier="FedEx") == []
    assert listed(client, admin, status="pre_transit") == [found]
    assert listed(client, admin, status="delivered") == []
    assert listed(client, admin, tracking_number="1z 999 aa1 01 2345 6795") == [found]
    assert listed(client, admin, tracking_number="1Z000") == []


def test_the_list_pages_with_a_cursor(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    shipped(db, client, auth_headers)
    first = client.get("/api/v1/shipments", params={"limit": 1}, headers=admin).json()

    assert len(first["items"]) == 1
    assert first["next_cursor"] is None
    bad = client.get("/api/v1/shipments", params={"sort": "carrier"}, headers=admin)
    assert bad.status_code == 422


def test_a_scoped_key_sees_only_its_warehouses_and_channels_shipments(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    shipped(db, client, auth_headers)
    number = listed(client, auth_headers("admin"))[0]["number"]

    keys = {
        "own warehouse": auth_headers("warehouse", warehouses=["DAL"]),
        "other warehouse": auth_headers("warehouse", warehouses=["EDI"]),
        "own channel": auth_headers("viewer", channels=["web"]),
        "other channel": auth_headers("viewer", channels=["b2b"]),
    }

    seen = {name: len(listed(client, headers)) for name, headers in keys.items()}
    shown = {
        name: client.get(f"/api/v1/shipments/{number}", headers=headers).status_code
        for name, headers in keys.items()
    }
    assert seen == {"own warehouse": 1, "other warehouse": 0, "own channel": 1, "other channel": 0}
    assert shown == {
        "own warehouse": 200,
        "other warehouse": 404,
        "own channel": 200,
        "other channel": 404,
    }
    hidden = client.get(
        "/api/v1/shipments", params={"warehouse": "DAL"}, headers=keys["other warehouse"]
    )
    assert hidden.json()["items"] == []


def test_the_detail_shows_each_packages_events_newest_first(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    shipped(db, client, auth_headers)
    webhook(client, tracker_with(IN_TRANSIT, DELIVERED))
    [found] = listed(client, admin)

    by_number = client.get(f"/api/v1/shipments/{found['number']}", headers=admin)
    by_id = client.get(f"/api/v1/shipments/{found['id']}", headers=admin)
    missing = client.get("/api/v1/shipments/SH-999999", headers=admin)
    nonsense = client.get("/api/v1/shipments/parcel", headers=admin)

    assert by_number.status_code == 200, by_number.text
    assert by_number.json() == by_id.json()
    shown = by_number.json()
    assert shown["status"] == "delivered"
    assert shown["delivered_at"].startswith("2022-09-21T15:30:00")
    [package] = shown["packages"]
    assert package["tracking_number"] == UPS
    assert package["delivered_at"].startswith("2022-09-21T15:30:00")
    assert [e["status"] for e in package["events"]] == [
        "delivered",
        "in_transit",
        "pre_transit",
        "pre_transit",
    ]
    assert package["events"][0]["description"] == "Delivered, front door"
    assert package["events"][0]["location"] == "NEW YORK, NY 10001, US"
    assert package["events"][0]["provider"] == "easypost"
    assert shown["lines"] == [{"line_number": 1, "sku": "ABC-1", "quantity": 3}]
    assert missing.status_code == 404
    assert missing.json()["code"] == "shipment.not_found"
    assert nonsense.status_code == 404


def test_the_order_detail_shows_its_shipment_with_tracking(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    order_id = shipped(db, client, auth_headers)
    webhook(client, tracker_with(IN_TRANSIT))

    answer = client.get(f"/api/v1/orders/{order_id}", headers=admin)

    assert answer.status_code == 200, answer.text
    [found] = answer.json()["shipments"]
    [fo] = answer.json()["fulfillment_orders"]
    assert found["fulfillment_order"] == fo["number"]
    assert found["order_number"] == answer.json()["number"]
    assert found["warehouse"] == "DAL"
    assert found["carrier"] == "UPS"
    assert found["service"] == "GROUND"
    assert [(p["tracking_number"], p["status"]) for p in found["packages"]] == [(UPS, "in_transit")]
    assert found == listed(client, admin)[0]


def test_the_order_detail_reads_its_shipments_in_three_queries_however_many(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "shipments", shipment("s1", 1, final=False))
    post(client, wms, fo, "shipments", shipment("s2", 2))
    known = {fo.id: (fo.number, "DAL")}

    with db.transaction() as session:
        read: list[list[ShipmentOut]] = []
        sent = queries(
            session, lambda: read.append(shipments.of_order(session, order_id, "SO", known))
        )
        none = queries(session, lambda: shipments.of_order(session, order_id, "SO", {}))

    assert [s.lines[0].quantity for s in read[0]] == [1, 2]
    assert len([q for q in sent if not q.startswith("BEGIN")]) == 3
    assert none == []
