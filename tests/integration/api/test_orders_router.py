"""One order over HTTP: its detail, timeline, holds, edits with If-Match, cancellations and
closing; orders of channels outside a scoped key's do not exist."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from tests.conftest import AuthHeaders
from tests.integration.catalog.factories import address
from tests.integration.orders import factories


@pytest.fixture
def order_id(db: Database) -> int:
    """ABC-1 × 12 (10 at DAL, 2 at NJ) and XYZ-9 × 5 (3 at DAL, 2 backordered), channel web
    (its rule set splits a line between warehouses)."""
    with db.transaction() as session:
        factories.master_data(session, channels=("web", "b2b"), split_within_line=True)
        return factories.order(session, lines=[("ABC-1", 12), ("XYZ-9", 5)])


def url(order_id: int, tail: str = "") -> str:
    return f"/api/v1/orders/{order_id}{tail}"


def test_the_detail_shows_every_bucket_the_allocations_and_the_fulfillment_orders(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.get(url(order_id), headers=admin)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert (body["status"], body["channel"], body["on_hold"]) == (
        "partially_allocated",
        "web",
        False,
    )
    first, second = body["lines"]
    assert {k: first[k] for k in ("quantity", "open", "allocated", "backordered", "cancelled")} == {
        "quantity": 12,
        "open": 0,
        "allocated": 12,
        "backordered": 0,
        "cancelled": 0,
    }
    assert [(a["warehouse"], a["quantity"]) for a in first["allocations"]] == [
        ("DAL", 10),
        ("NJ", 2),
    ]
    assert (second["allocated"], second["backordered"]) == (3, 2)
    assert [fo["warehouse"] for fo in body["fulfillment_orders"]] == ["DAL", "NJ"]
    assert (body["holds"], body["shipments"]) == ([], [])


def test_an_order_planned_at_two_warehouses_shows_two_fulfillment_orders_with_their_lines(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.get(url(order_id), headers=admin)

    assert response.status_code == 200
    dal, nj = response.json()["fulfillment_orders"]
    assert (dal["warehouse"], dal["status"], nj["warehouse"], nj["status"]) == (
        "DAL",
        "planned",
        "NJ",
        "planned",
    )
    assert dal["number"] == f"FO-{dal['id']:06d}"
    assert dal["updated_at"] >= dal["created_at"]
    assert [(line["line_number"], line["sku"], line["quantity"]) for line in dal["lines"]] == [
        (1, "ABC-1", 10),
        (2, "XYZ-9", 3),
    ]
    assert [(line["line_number"], line["sku"], line["quantity"]) for line in nj["lines"]] == [
        (1, "ABC-1", 2)
    ]
    shown = client.get(f"/api/v1/fulfillment-orders/{nj['id']}", headers=admin).json()
    assert (shown["number"], shown["order_id"]) == (nj["number"], order_id)


def test_a_key_scoped_to_a_warehouse_sees_only_that_warehouses_fulfillment_orders(
    client: TestClient, auth_headers: AuthHeaders, order_id: int
) -> None:
    response = client.get(url(order_id), headers=auth_headers("warehouse", warehouses=["NJ"]))

    assert response.status_code == 200
    assert [fo["warehouse"] for fo in response.json()["fulfillment_orders"]] == ["NJ"]


def test_an_unknown_order_is_a_404_with_a_stable_code(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.get(url(order_id + 1000), headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "order.not_found"


def test_a_key_scoped_to_other_channels_finds_no_order(
    client: TestClient, auth_headers: AuthHeaders, order_id: int
) -> None:
    headers = auth_headers("admin", channels=["b2b"])

    read = client.get(url(order_id), headers=headers)
    cancel = client.post(url(order_id, "/cancel"), json={"reason": "x"}, headers=headers)

    assert (read.status_code, cancel.status_code) == (404, 404)
    assert cancel.json()["code"] == "order.not_found"


def test_a_key_scoped_to_the_order_s_channel_finds_it(
    client: TestClient, auth_headers: AuthHeaders, order_id: int
) -> None:
    response = client.get(url(order_id), headers=auth_headers("viewer", channels=["web"]))

    assert response.status_code == 200


def test_cancelling_the_order_answers_it_cancelled(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.post(url(order_id, "/cancel"), json={"reason": "buyer asked"}, headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "buyer asked")
    assert all(line["allocations"] == [] for line in body["lines"])
    assert response.headers["ETag"] == '"2"'


def test_cancelling_a_cancelled_order_is_a_conflict(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    client.post(url(order_id, "/cancel"), json={"reason": "buyer asked"}, headers=admin)

    response = client.post(url(order_id, "/cancel"), json={"reason": "again"}, headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "order.cannot_cancel_cancelled"


def test_a_cancellation_without_a_reason_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.post(url(order_id, "/cancel"), json={"reason": ""}, headers=admin)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["reason"]


def test_cancelling_part_of_a_line(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.post(
        url(order_id, "/lines/2/cancel"), json={"reason": "fewer", "quantity": 2}, headers=admin
    )

    assert response.status_code == 200
    line = response.json()["lines"][1]
    assert (line["backordered"], line["allocated"], line["cancelled"]) == (0, 3, 2)


def test_cancelling_released_units_of_a_line_is_a_conflict(
    client: TestClient, admin: dict[str, str], order_id: int, db: Database
) -> None:
    with db.transaction() as session:
        factories.release_units(session, order_id, 1, 12)

    response = client.post(url(order_id, "/lines/1/cancel"), json={"reason": "x"}, headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "order.cannot_cancel_released_units"


def test_cancelling_more_units_than_the_line_has_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.post(
        url(order_id, "/lines/2/cancel"), json={"reason": "x", "quantity": 6}, headers=admin
    )

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["quantity"]


def test_holds_are_placed_and_released_with_who_and_why(
    client: TestClient, auth_headers: AuthHeaders, order_id: int
) -> None:
    ops = auth_headers("sales_ops")
    placed = client.post(
        url(order_id, "/holds"), json={"type": "fraud", "reason": "score 91"}, headers=ops
    )
    client.post(url(order_id, "/holds"), json={"type": "payment", "reason": "auth"}, headers=ops)

    released = client.post(
        url(order_id, f"/holds/{placed.json()['id']}/release"),
        json={"note": "called the buyer"},
        headers=ops,
    )

    assert placed.status_code == 201
    assert placed.json()["placed_by"].endswith(":test-sales_ops")
    assert released.status_code == 200
    assert (released.json()["active"], released.json()["release_note"]) == (
        False,
        "called the buyer",
    )
    detail = client.get(url(order_id), headers=ops).json()
    assert detail["on_hold"] is True
    assert [(h["type"], h["active"]) for h in detail["holds"]] == [
        ("fraud", False),
        ("payment", True),
    ]


def test_a_hold_of_an_unknown_type_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.post(
        url(order_id, "/holds"), json={"type": "whim", "reason": "x"}, headers=admin
    )

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["type"]


def test_releasing_a_hold_twice_is_a_conflict(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    hold = client.post(
        url(order_id, "/holds"), json={"type": "manual", "reason": "look"}, headers=admin
    ).json()
    client.post(url(order_id, f"/holds/{hold['id']}/release"), json={"note": "ok"}, headers=admin)

    response = client.post(
        url(order_id, f"/holds/{hold['id']}/release"), json={"note": "ok"}, headers=admin
    )

    assert response.status_code == 409
    assert response.json()["code"] == "order.hold_already_released"


def test_an_edit_with_a_stale_if_match_is_refused(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    client.patch(url(order_id), json={"service_level": "expedited"}, headers=admin)

    response = client.patch(
        url(order_id), json={"service_level": "overnight"}, headers={**admin, "If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "order.version_mismatch"
    assert client.get(url(order_id), headers=admin).json()["service_level"] == "expedited"


def test_an_edit_with_the_current_if_match_raises_the_version(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.patch(
        url(order_id),
        json={
            "ship_to": address(line1="5 Elm St", city="Austin", postal_code="73301"),
            "lines": [{"line_number": 2, "quantity": 3}],
            "add_lines": [{"sku": "ABC-1", "quantity": 1, "unit_price": "9.50"}],
        },
        headers={**admin, "If-Match": '"1"'},
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    body = response.json()
    assert body["ship_to"]["city"] == "Austin"
    assert [(ln["line_number"], ln["quantity"] - ln["cancelled"]) for ln in body["lines"]] == [
        (1, 12),
        (2, 3),
        (3, 1),
    ]
    assert body["status"] == "allocated"


def test_an_edit_naming_an_unknown_sku_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.patch(
        url(order_id),
        json={"add_lines": [{"sku": "NOPE-1", "quantity": 1, "unit_price": "1"}]},
        headers=admin,
    )

    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("add_lines[0].sku", "order.unknown_sku")
    ]


def test_an_edit_with_a_bad_postcode_is_refused_at_its_path(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.patch(
        url(order_id), json={"ship_to": address(postal_code="ABCDE")}, headers=admin
    )

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["ship_to.postal_code"]


def test_an_open_order_cannot_be_closed(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    response = client.post(url(order_id, "/close"), headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "order.cannot_close_partially_allocated"


def test_a_cancelled_order_is_closed(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    client.post(url(order_id, "/cancel"), json={"reason": "gone"}, headers=admin)

    response = client.post(url(order_id, "/close"), headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "closed"


def test_the_timeline_lists_every_action_in_order_a_page_at_a_time(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    client.post(url(order_id, "/holds"), json={"type": "manual", "reason": "look"}, headers=admin)
    client.patch(url(order_id), json={"service_level": "overnight"}, headers=admin)
    client.post(url(order_id, "/lines/2/cancel"), json={"reason": "x"}, headers=admin)
    client.post(url(order_id, "/cancel"), json={"reason": "gone"}, headers=admin)
    client.post(url(order_id, "/close"), headers=admin)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(url(order_id, "/events"), params=params, headers=admin).json()
        seen += [e["type"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["created", "held", "changed", "line_cancelled", "cancelled", "closed"]


def test_a_viewer_reads_but_may_not_cancel(
    client: TestClient, auth_headers: AuthHeaders, order_id: int
) -> None:
    viewer = auth_headers("viewer")

    read = client.get(url(order_id), headers=viewer)
    cancel = client.post(url(order_id, "/cancel"), json={"reason": "x"}, headers=viewer)

    assert (read.status_code, cancel.status_code) == (200, 403)
