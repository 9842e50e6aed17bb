"""`/api/v1/returns` over HTTP: request, authorize, the WMS's receipt, inspect, close;
problems with their paths, ETags, scope, listing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from oms.db import Database
from oms.fulfillment.models import WmsMessage
from oms.inbox.models import InboxMessage
from tests.conftest import AuthHeaders
from tests.integration.fulfillment import factories
from tests.integration.orders import factories as order_data

URL = "/api/v1/returns"
ONE_WAREHOUSE = {("ABC-1", "DAL"): 10}


@pytest.fixture
def order_id(db: Database, client: TestClient, auth_headers: AuthHeaders) -> int:
    """An order of 3 ABC-1 at 20.00 shipped from DAL, with 5.00 shipping."""
    return factories.shipped_order(
        db, client, auth_headers("warehouse"), shipping_charge="5.00", on_hand=ONE_WAREHOUSE
    )


def ask(client: TestClient, headers: dict[str, str], order_id: int, units: int = 2) -> Any:
    return client.post(
        URL,
        json={
            "order_id": order_id,
            "lines": [{"line_number": 1, "quantity": units, "reason": "too small"}],
            "shipping_refund": "prorated",
        },
        headers=headers,
    )


def act(client: TestClient, headers: dict[str, str], number: str, action: str, **kw: Any) -> Any:
    return client.post(f"{URL}/{number}/{action}", headers=headers, **kw)


def receipt(message_id: str, units: int, **line: Any) -> dict[str, Any]:
    return {"message_id": message_id, "lines": [{"sku": "ABC-1", "quantity": units, **line}]}


def test_a_return_goes_from_request_to_closed_over_http(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, order_id: int
) -> None:
    wms = auth_headers("warehouse")

    asked = ask(client, admin, order_id)
    number = asked.json()["number"]
    authorized = act(client, admin, number, "authorize")
    received = act(client, wms, number, "receipt", json=receipt("rcv-1", 2))
    inspected = act(
        client,
        wms,
        number,
        "inspect",
        json={"lines": [{"line_number": 1, "resellable": 1, "damaged": 1}]},
    )
    closed = act(client, admin, number, "close")

    assert asked.status_code == 201, asked.text
    assert asked.json()["warehouse"] == "DAL"
    assert asked.headers["ETag"] == '"1"'
    assert authorized.json()["status"] == "authorized"
    # 2 × 20.00, and 5.00 × 40 / 60 of the shipping
    assert authorized.json()["refund_amount"] == "43.33"
    assert authorized.json()["shipping_refund_amount"] == "3.33"
    assert received.status_code == 200, received.text
    assert received.json()["outcome"] == "applied"
    assert received.json()["rma"]["status"] == "received"
    assert inspected.status_code == 200, inspected.text
    assert inspected.json()["status"] == "restocked"
    assert inspected.json()["lines"][0]["resellable"] == 1
    assert closed.json()["status"] == "closed"
    assert closed.headers["ETag"] == '"5"'


def test_a_return_is_read_by_id_or_number(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    made = ask(client, admin, order_id).json()

    by_id = client.get(f"{URL}/{made['id']}", headers=admin)
    by_number = client.get(f"{URL}/{made['number'].lower()}", headers=admin)

    assert by_id.json() == by_number.json() == made
    assert by_id.headers["ETag"] == '"1"'


def test_a_return_may_name_its_order_by_number(
    db: Database, client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    with db.transaction() as session:
        order, _ = order_data.stored(session, order_id)

    answer = client.post(
        URL,
        json={"order_number": order.number, "lines": [{"line_number": 1, "quantity": 1}]},
        headers=admin,
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["order_id"] == order_id


def test_asking_back_more_than_was_shipped_names_the_line_and_the_units_allowed(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    answer = ask(client, admin, order_id, units=5)

    assert answer.status_code == 422
    [problem] = answer.json()["errors"]
    assert problem["path"] == "lines[0].quantity"
    assert problem["code"] == "return.too_many_units"
    assert "at most 3 units" in problem["message"]


def test_a_request_names_its_order_once(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.post(URL, json={"lines": [{"line_number": 1, "quantity": 1}]}, headers=admin)

    assert answer.status_code == 422
    assert "order_id or by order_number" in answer.text


def test_an_action_the_status_does_not_allow_is_a_conflict_with_a_stable_code(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    number = ask(client, admin, order_id).json()["number"]

    answer = act(
        client,
        admin,
        number,
        "inspect",
        json={"lines": [{"line_number": 1, "resellable": 1, "damaged": 0}]},
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "return.cannot_inspect_requested"


def test_an_action_against_an_older_version_is_refused(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    number = ask(client, admin, order_id).json()["number"]

    stale = act(client, {**admin, "If-Match": '"7"'}, number, "authorize")
    current = act(client, {**admin, "If-Match": '"1"'}, number, "authorize")

    assert stale.status_code == 412
    assert stale.json()["code"] == "return.version_mismatch"
    assert current.status_code == 200


def test_a_rejection_needs_a_reason_and_keeps_it(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    number = ask(client, admin, order_id).json()["number"]

    blank = act(client, admin, number, "reject", json={"reason": " "})
    rejected = act(client, admin, number, "reject", json={"reason": "used"})

    assert blank.status_code == 422
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "used"


# -- the WMS's receipt ----------------------------------------------------------------------


def test_a_receipt_is_kept_raw_and_applied_once_per_message_id(
    db: Database,
    client: TestClient,
    admin: dict[str, str],
    auth_headers: AuthHeaders,
    order_id: int,
) -> None:
    wms = auth_headers("warehouse")
    number = ask(client, admin, order_id).json()["number"]
    act(client, admin, number, "authorize")

    first = act(client, wms, number, "receipt", json=receipt("rcv-1", 1))
    again = act(client, wms, number, "receipt", json=receipt("rcv-1", 1))

    assert first.json()["outcome"] == "applied"
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["rma"]["lines"][0]["received"] == 1
    assert again.json()["rma"]["version"] == first.json()["rma"]["version"]
    with db.transaction() as session:
        kept = session.scalars(
            select(InboxMessage.status).where(InboxMessage.kind == "wms.return_receipt")
        )
        assert sorted(kept) == ["accepted", "duplicate"]


def test_a_receipt_beyond_what_was_authorized_is_refused_and_noted_on_the_inbox(
    db: Database,
    client: TestClient,
    admin: dict[str, str],
    auth_headers: AuthHeaders,
    order_id: int,
) -> None:
    number = ask(client, admin, order_id).json()["number"]
    act(client, admin, number, "authorize")

    answer = act(client, auth_headers("warehouse"), number, "receipt", json=receipt("rcv-1", 3))

    assert answer.status_code == 422
    [problem] = answer.json()["errors"]
    assert problem["path"] == "lines[0].quantity"
    assert answer.json()["details"]["inbox_id"]
    with db.transaction() as session:
        stored = session.get(InboxMessage, answer.json()["details"]["inbox_id"])
        assert stored is not None
        assert stored.status == "failed"


def test_an_unscoped_integration_key_may_not_send_a_receipt(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, order_id: int
) -> None:
    number = ask(client, admin, order_id).json()["number"]
    act(client, admin, number, "authorize")

    unscoped = act(client, auth_headers("integration"), number, "receipt", json=receipt("a", 1))
    scoped = act(
        client,
        auth_headers("integration", warehouses=["DAL"]),
        number,
        "receipt",
        json=receipt("b", 1),
    )

    assert unscoped.status_code == 403
    assert unscoped.json()["code"] == "fulfillment.integration_not_scoped"
    assert scoped.status_code == 200, scoped.text


# -- scope and listing ----------------------------------------------------------------------


def test_an_order_or_return_outside_the_keys_channels_does_not_exist(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, order_id: int
) -> None:
    number = ask(client, admin, order_id).json()["number"]
    outsider = auth_headers("sales_ops", channels=["b2b"])

    asked = ask(client, outsider, order_id)
    read = client.get(f"{URL}/{number}", headers=outsider)
    listed = client.get(URL, headers=outsider)
    authorized = act(client, outsider, number, "authorize")

    assert asked.status_code == 404
    assert asked.json()["code"] == "order.not_found"
    assert read.status_code == 404
    assert listed.json()["items"] == []
    assert authorized.status_code == 404


def test_a_warehouse_key_sees_only_the_returns_of_its_warehouses(
    db: Database,
    client: TestClient,
    admin: dict[str, str],
    auth_headers: AuthHeaders,
    order_id: int,
) -> None:
    number = ask(client, admin, order_id).json()["number"]
    act(client, admin, number, "authorize")
    elsewhere = auth_headers("warehouse", warehouses=["EDI"])

    read = client.get(f"{URL}/{number}", headers=elsewhere)
    received = act(client, elsewhere, number, "receipt", json=receipt("rcv-1", 1))
    mine = client.get(URL, headers=auth_headers("warehouse", warehouses=["DAL"]))

    assert read.status_code == 404
    assert received.status_code == 404
    assert [r["number"] for r in mine.json()["items"]] == [number]
    with db.transaction() as session:
        kept = session.scalars(select(WmsMessage).where(WmsMessage.return_id.is_not(None)))
        assert list(kept) == []


def test_returns_are_listed_by_order_status_and_warehouse_a_page_at_a_time(
    client: TestClient, admin: dict[str, str], order_id: int
) -> None:
    first = ask(client, admin, order_id, units=1).json()["number"]
    second = ask(client, admin, order_id, units=1).json()["number"]
    act(client, admin, second, "authorize")

    page = client.get(URL, params={"limit": 1}, headers=admin).json()
    rest = client.get(URL, params={"limit": 1, "cursor": page["next_cursor"]}, headers=admin)
    authorized = client.get(URL, params={"status": "authorized"}, headers=admin).json()
    at_dal = client.get(URL, params={"warehouse": "dal", "order_id": order_id}, headers=admin)
    at_edi = client.get(URL, params={"warehouse": "EDI"}, headers=admin).json()

    assert [r["number"] for r in page["items"]] == [first]
    assert [r["number"] for r in rest.json()["items"]] == [second]
    assert [r["number"] for r in authorized["items"]] == [second]
    assert len(at_dal.json()["items"]) == 2
    assert at_edi["items"] == []


def test_a_receipt_naming_an_unknown_return_is_kept_before_it_is_refused(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    answer = client.post(
        "/api/v1/returns/RMA-999999/receipt",
        json=receipt("r1", 1),
        headers=auth_headers("warehouse"),
    )

    assert answer.status_code == 404, answer.text
    with db.transaction() as session:
        [kept] = session.scalars(select(InboxMessage))
        assert kept.status == "failed"
        assert kept.external_id == "RMA-999999"


def test_a_return_key_too_long_to_be_one_is_refused_at_its_path(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    answer = client.post(
        f"/api/v1/returns/{'RMA-1' * 20}/receipt",
        json=receipt("r1", 1),
        headers=auth_headers("warehouse"),
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "path.rma"
