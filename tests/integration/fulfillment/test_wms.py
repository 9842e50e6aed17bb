"""Release to the WMS and the WMS's messages back: acknowledgement, statuses, shipments."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.catalog import repository as catalog
from oms.db import Database
from oms.fulfillment import release
from oms.fulfillment.models import WmsMessage
from oms.inbox.models import InboxMessage
from oms.inventory.models import Movement, MovementKind
from oms.orders import holds
from oms.orders import repository as orders
from oms.orders.models import HoldType, OrderStatus
from oms.outbox.models import OutboxEvent
from oms.routing import repository as routing
from oms.routing.models import FulfillmentStatus
from tests.conftest import AuthHeaders
from tests.integration.fulfillment.factories import (
    UPS,
    fo_now,
    planned,
    post,
    released,
    shipment,
    status_of,
)
from tests.integration.orders import factories as order_data


def topics(session: Session) -> list[str]:
    return list(session.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id)))


def test_release_moves_the_units_to_released_and_sets_the_ship_by_deadline(db: Database) -> None:
    order_id, fo = released(db)

    with db.transaction() as session:
        now = fo_now(session, fo.id)
        [line] = orders.lines_of(session, order_id)
        assert now.status == FulfillmentStatus.RELEASED
        assert now.ship_by is not None
        assert now.released_at is not None
        assert now.ship_by > now.released_at
        assert (line.allocated, line.released) == (0, 3)
        assert "fulfillment_order.released" in topics(session)
        assert "order.released" in topics(session)
    assert status_of(db, order_id) == OrderStatus.RELEASED


def test_releasing_what_is_due_with_a_scoped_key_releases_only_work_in_its_scope(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = planned(db)
    url = "/api/v1/fulfillment-orders/release-due"

    elsewhere = client.post(url, headers=auth_headers("sales_ops", warehouses=["EDI"]))
    other_channel = client.post(url, headers=auth_headers("sales_ops", channels=["b2b"]))
    in_scope = client.post(url, headers=auth_headers("sales_ops", warehouses=["DAL"]))

    assert elsewhere.json() == {"released": []}
    assert other_channel.json() == {"released": []}
    assert in_scope.json() == {"released": [fo.number]}


def test_a_held_order_is_planned_but_not_released(db: Database, client: TestClient) -> None:
    order_id, fo = planned(db)
    with db.transaction() as session:
        holds.place_hold(session, order_id, type=HoldType.FRAUD, reason="check", actor=SYSTEM)
        assert release.release_due(session, actor=SYSTEM) == []
        assert fo_now(session, fo.id).status == FulfillmentStatus.PLANNED


def test_an_acknowledgement_is_applied_once_per_message_id(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    wms = auth_headers("warehouse")
    body = {"message_id": "wms-1", "accepted": True, "reference": "W-9"}

    first = post(client, wms, fo, "ack", body)
    again = post(client, wms, fo, "ack", body)

    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "applied"
    assert first.json()["fulfillment_order"]["status"] == "acknowledged"
    assert again.json()["outcome"] == "duplicate"
    with db.transaction() as session:
        assert fo_now(session, fo.id).version == 3
        assert len(list(session.scalars(select(WmsMessage)))) == 1
        assert len(list(session.scalars(select(InboxMessage)))) >= 2


def test_a_shipment_consumes_the_reservation_and_lowers_on_hand_through_the_ledger(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "ack", {"message_id": "m1", "accepted": True})
    post(client, wms, fo, "status", {"message_id": "m2", "status": "picking"})
    post(client, wms, fo, "status", {"message_id": "m3", "status": "packed"})

    answer = post(client, wms, fo, "shipments", shipment("m4", 3))

    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["fulfillment_order"]["status"] == "shipped"
    assert shown["shipment"]["carrier"] == "UPS"
    assert shown["shipment"]["service"] == "GROUND"
    assert [p["tracking_number"] for p in shown["shipment"]["packages"]] == [UPS]
    assert status_of(db, order_id) == OrderStatus.SHIPPED
    with db.transaction() as session:
        moves = list(
            session.scalars(select(Movement).where(Movement.kind == MovementKind.SHIPMENT))
        )
        assert [(m.on_hand_delta, m.reserved_delta) for m in moves] == [(-3, -3)]
        assert order_data.ledger_holds(session)
        [line] = orders.lines_of(session, order_id)
        assert (line.released, line.shipped) == (0, 3)
        shipped = [e for e in session.scalars(select(OutboxEvent)) if e.topic == "order.shipped"]
        assert shipped[0].payload["lines"][0]["tracking_numbers"] == [UPS]
        assert shipped[0].payload["carrier"] == "UPS"


def test_a_duplicate_shipment_message_changes_nothing(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "shipments", shipment("s1", 3))

    again = post(client, wms, fo, "shipments", shipment("s1", 3))

    assert again.json()["outcome"] == "duplicate"
    assert again.json()["shipment"]["number"].startswith("SH-")
    with db.transaction() as session:
        moves = session.scalars(select(Movement).where(Movement.kind == MovementKind.SHIPMENT))
        assert len(list(moves)) == 1


def test_a_status_older_than_the_fulfillment_orders_is_ignored(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "shipments", shipment("s1", 3))

    late = post(client, wms, fo, "status", {"message_id": "p1", "status": "packed"})

    assert late.status_code == 200
    assert late.json()["outcome"] == "ignored"
    assert late.json()["fulfillment_order"]["status"] == "shipped"
    with db.transaction() as session:
        kept = session.scalars(select(WmsMessage).where(WmsMessage.message_id == "p1")).one()
        assert kept.outcome == "ignored"


def test_a_rejection_sends_the_units_to_the_next_warehouse(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, fo = released(db)

    answer = post(
        client,
        auth_headers("warehouse"),
        fo,
        "ack",
        {"message_id": "r1", "accepted": False, "reason": "flooded"},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["fulfillment_order"]["status"] == "rejected"
    assert answer.json()["fulfillment_order"]["reject_reason"] == "flooded"
    with db.transaction() as session:
        others = [
            f for f in routing.fulfillment_orders_of_order(session, order_id) if f.id != fo.id
        ]
        assert [f.status for f in others] == [FulfillmentStatus.PLANNED]
        assert catalog.warehouses_by_ids(session, [others[0].warehouse_id])[0].code != "DAL"


def test_a_rejection_after_the_acknowledgement_still_sends_the_units_back_to_routing(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "ack", {"message_id": "a1", "accepted": True})
    post(client, wms, fo, "status", {"message_id": "p1", "status": "picking"})

    answer = post(
        client, wms, fo, "ack", {"message_id": "r1", "accepted": False, "reason": "bin empty"}
    )

    assert answer.json()["outcome"] == "applied", answer.text
    assert answer.json()["fulfillment_order"]["status"] == "rejected"
    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.released, line.allocated) == (0, 3)
        others = [
            f for f in routing.fulfillment_orders_of_order(session, order_id) if f.id != fo.id
        ]
        assert [routing.units_left(session, f.id) for f in others] == [3]
        assert order_data.ledger_holds(session)


def test_an_acceptance_after_the_work_moved_on_is_ignored(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "status", {"message_id": "p1", "status": "picking"})

    late = post(client, wms, fo, "ack", {"message_id": "a1", "accepted": True})

    assert late.json()["outcome"] == "ignored"
    assert late.json()["fulfillment_order"]["status"] == "picking"


def test_a_rejection_after_the_shipment_is_ignored(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, fo = released(db)
    wms = auth_headers("warehouse")
    post(client, wms, fo, "shipments", shipment("s1", 3))

    late = post(client, wms, fo, "ack", {"message_id": "r1", "accepted": False, "reason": "late"})

    assert late.json()["outcome"] == "ignored"
    assert status_of(db, order_id) == OrderStatus.SHIPPED


def test_a_short_final_shipment_sends_the_rest_back_to_routing(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, fo = released(db)

    answer = post(client, auth_headers("warehouse"), fo, "shipments", shipment("s1", 2))

    assert answer.json()["note"] == "short by 1 units: sent to reroute"
    assert answer.json()["fulfillment_order"]["status"] == "shipped"
    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.shipped, line.released, line.allocated) == (2, 0, 1)
        others = [
            f for f in routing.fulfillment_orders_of_order(session, order_id) if f.id != fo.id
        ]
        assert [routing.units_left(session, f.id) for f in others] == [1]
        assert order_data.ledger_holds(session)
    assert status_of(db, order_id) == OrderStatus.PARTIALLY_SHIPPED


def test_a_short_shipment_is_backordered_when_the_warehouse_says_so(
    db: Database, client: TestClient, auth_headers: AuthHeaders, admin: dict[str, str]
) -> None:
    order_id, fo = planned(db)
    client.put(
        "/api/v1/warehouses/DAL/wms-connection", json={"short_ship": "backorder"}, headers=admin
    )
    with db.transaction() as session:
        release.release_due(session, actor=SYSTEM)

    post(client, auth_headers("warehouse"), fo, "shipments", shipment("s1", 1))

    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.shipped, line.backordered) == (1, 2)
        assert order_data.ledger_holds(session)
        assert orders.standing_refusals(session) == {(line.id, fo.warehouse_id)}, (
            "the backorder pass is not to send the units back to DAL"
        )


def test_a_non_final_shipment_leaves_the_fulfillment_order_open(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    wms = auth_headers("warehouse")

    first = post(client, wms, fo, "shipments", shipment("s1", 1, final=False))
    last = post(client, wms, fo, "shipments", shipment("s2", 2))

    assert first.json()["fulfillment_order"]["status"] == "released"
    assert last.json()["fulfillment_order"]["status"] == "shipped"
    assert last.json()["note"] is None
    with db.transaction() as session:
        announced = [t for t in topics(session) if "shipped" in t and "fulfillment" in t]
        assert announced == [
            "fulfillment_order.partially_shipped",
            "fulfillment_order.shipped",
        ]


def test_times_without_a_zone_from_the_wms_are_taken_as_utc(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    wms = auth_headers("warehouse")

    picking = post(
        client,
        wms,
        fo,
        "status",
        {"message_id": "p1", "status": "picking", "at": "2026-11-27T10:00:00"},
    )
    shipped = post(
        client, wms, fo, "shipments", shipment("s1", 3, shipped_at="2026-11-27T11:00:00")
    )

    assert picking.status_code == 200, picking.text
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["shipment"]["shipped_at"] == "2026-11-27T11:00:00Z"
    assert shipped.json()["fulfillment_order"]["acknowledged_at"] == "2026-11-27T10:00:00Z"


def test_a_shipment_of_more_than_the_fulfillment_order_holds_names_the_line(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)

    answer = post(client, auth_headers("warehouse"), fo, "shipments", shipment("s1", 4))

    assert answer.status_code == 422
    problem = answer.json()
    assert problem["errors"][0]["path"] == "lines[0].quantity"
    assert problem["errors"][0]["code"] == "shipment.too_many_units"
    with db.transaction() as session:
        kept = session.scalars(select(InboxMessage).where(InboxMessage.kind == "wms.shipment"))
        assert [m.status for m in kept] == ["failed"]


def test_an_unknown_carrier_is_refused_with_its_path(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)

    answer = post(
        client, auth_headers("warehouse"), fo, "shipments", shipment("s1", 3, carrier="Owl Post")
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "carrier"


def test_a_rejection_without_a_reason_names_the_reason_field(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)

    answer = post(
        client, auth_headers("warehouse"), fo, "ack", {"message_id": "r1", "accepted": False}
    )

    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["reason"]


def test_waves_without_wave_times_name_the_wave_times_field(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    planned(db)

    answer = client.put(
        "/api/v1/warehouses/DAL/wms-connection", json={"release_mode": "waves"}, headers=admin
    )

    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["wave_times"]


def test_a_service_too_long_to_keep_is_refused_at_its_path(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    body = shipment("s1", 3, service="Guaranteed Economy Freight Saver Plus " * 2)

    answer = post(client, auth_headers("warehouse"), fo, "shipments", body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == "service"
    with db.transaction() as session:
        kept = session.scalars(select(InboxMessage).where(InboxMessage.kind == "wms.shipment"))
        assert [m.status for m in kept] == ["failed"]


def test_a_message_naming_work_by_a_long_unknown_key_is_kept_before_it_is_refused(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    released(db)
    key = "WMS-ORDER-2026-11-27-000123-A" * 4

    answer = client.post(
        f"/api/v1/fulfillment-orders/{key}/ack",
        json={"message_id": "a1", "accepted": True},
        headers=auth_headers("warehouse"),
    )

    assert answer.status_code == 404, answer.text
    with db.transaction() as session:
        kept = session.scalars(select(InboxMessage).where(InboxMessage.kind == "wms.ack")).one()
        assert kept.status == "failed"
        assert kept.external_id == key[:100]


def test_an_unscoped_integration_key_may_not_speak_for_a_wms(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = released(db)
    body = {"message_id": "a1", "accepted": True}

    unscoped = post(client, auth_headers("integration"), fo, "ack", body)
    scoped = post(client, auth_headers("integration", warehouses=["DAL"]), fo, "ack", body)
    elsewhere = post(client, auth_headers("warehouse", warehouses=["EDI"]), fo, "ack", body)

    assert unscoped.status_code == 403
    assert scoped.status_code == 200
    assert elsewhere.status_code == 404


def test_a_message_for_planned_work_is_refused(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    _, fo = planned(db)

    answer = post(
        client, auth_headers("warehouse"), fo, "ack", {"message_id": "a", "accepted": True}
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "fulfillment.not_released"


def test_a_push_connection_gets_released_work_on_its_warehouse_topic(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    _, fo = planned(db)

    made = client.put(
        "/api/v1/warehouses/DAL/wms-connection",
        json={"url": "https://wms.example.com/hooks"},
        headers=admin,
    )
    shown = client.get("/api/v1/warehouses/DAL/wms-connection", headers=admin)
    with db.transaction() as session:
        release.release_due(session, actor=SYSTEM)
        pushed = [e for e in session.scalars(select(OutboxEvent)) if e.topic.startswith("wms.")]

    assert made.status_code == 200, made.text
    assert made.json()["secret"].startswith("whsec_")
    assert shown.json()["secret"] is None
    assert shown.json()["url"] == "https://wms.example.com/hooks"
    assert [e.topic for e in pushed] == ["wms.dal.fulfillment_order.released"]
    document = pushed[0].payload["fulfillment_order"]
    assert document["number"] == fo.number
    assert document["lines"] == [{"line_number": 1, "sku": "ABC-1", "quantity": 3}]
    assert document["ship_to"]["city"] == "New York"


def test_waves_release_what_was_planned_before_the_last_wave(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    _, fo = planned(db)
    client.put(
        "/api/v1/warehouses/DAL/wms-connection",
        json={"release_mode": "waves", "wave_times": ["06:00", "14:00"]},
        headers=admin,
    )
    created = fo.created_at.astimezone(dt.UTC)
    with db.transaction() as session:
        zone = catalog.warehouses_by_ids(session, [fo.warehouse_id])[0].timezone
    assert zone == "UTC"
    before_next_wave = created.replace(hour=23, minute=59) if created.hour >= 14 else None

    with db.transaction() as session:
        if before_next_wave is not None:
            assert release.release_due(session, actor=SYSTEM, now=before_next_wave) == []
        next_day = created + dt.timedelta(days=1)
        assert release.release_due(
            session, actor=SYSTEM, now=next_day.replace(hour=14, minute=1)
        ) == [fo.number]


def test_last_wave_is_the_latest_wave_time_passed() -> None:
    now = dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.UTC)

    assert release.last_wave(now, ["06:00", "14:00"], "UTC") == now.replace(hour=6)
    assert release.last_wave(now.replace(hour=5), ["06:00", "14:00"], "UTC") == dt.datetime(
        2026, 11, 26, 14, 0, tzinfo=dt.UTC
    )
    assert release.last_wave(now, [], "UTC") is None


def test_late_and_at_risk_list_unshipped_work_by_its_deadline(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    _, fo = released(db)
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        found = fo_now(session, fo.id)

        found.ship_by = now - dt.timedelta(minutes=5)
    late = client.get("/api/v1/fulfillment-orders?late=true", headers=admin).json()["items"]
    at_risk = client.get("/api/v1/fulfillment-orders?at_risk=true", headers=admin).json()["items"]
    with db.transaction() as session:
        fo_now(session, fo.id).ship_by = now + dt.timedelta(minutes=30)
    soon = client.get("/api/v1/fulfillment-orders?at_risk=true", headers=admin).json()["items"]

    assert [f["number"] for f in late] == [fo.number]
    assert at_risk == []
    assert [f["number"] for f in soon] == [fo.number]
