"""WMS stock snapshots over HTTP: JSON or CSV, stored raw first, reported line by line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from oms.db import Database
from oms.inventory import repository as stock
from tests.conftest import AuthHeaders
from tests.integration.inventory import factories

URL = "/api/v1/inventory/snapshots"


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        for sku in ("A", "B", "C"):
            factories.item(session, sku)
        factories.warehouse(session, "DAL")
        factories.warehouse(session, "NJ")
        factories.stock(session, "A", "DAL", 100)
        factories.stock(session, "B", "DAL", 50)
        factories.stock(session, "C", "DAL", 10)
    return db


def send(
    client: TestClient,
    headers: dict[str, str],
    document: Any,
    *,
    content_type: str = "application/json",
    **params: Any,
) -> Any:
    raw = json.dumps(document) if content_type == "application/json" else document
    return client.post(
        URL,
        params={"warehouse": "DAL", **params},
        content=raw,
        headers={**headers, "Content-Type": content_type},
    )


def on_hand(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    lines = client.get("/api/v1/inventory", params={"warehouse": "DAL"}, headers=headers).json()
    return {line["sku"]: line["on_hand"] for line in lines["items"]}


def test_a_json_snapshot_answers_201_with_every_line_of_the_report(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = send(
        client,
        admin,
        {"lines": [{"sku": "A", "counted": 100}, {"sku": "B", "counted": 47}]},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert body["status"] == "applied"
    assert body["warehouse"] == "DAL"
    a, b = body["report"]
    assert {k: b[k] for k in b if k not in ("id", "decided_by", "decided_at")} == {
        "sku": "B",
        "counted": 47,
        "in_flight": 0,
        "on_hand": 50,
        "moved_since": 0,
        "expected": 50,
        "difference": -3,
        "reserved": 0,
        "status": "applied",
        "short_of_reservations": False,
    }
    assert (a["sku"], a["status"]) == ("A", "matched")
    assert on_hand(client, admin)["B"] == 47


def test_a_csv_snapshot_is_read_like_a_json_one(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = send(
        client,
        admin,
        "sku,counted,in_flight\nA,95,5\nC,9,\n",
        content_type="text/csv; charset=utf-8",
    )

    assert response.status_code == 201, response.text
    report = {
        line["sku"]: (line["difference"], line["status"]) for line in response.json()["report"]
    }
    assert report == {"A": (0, "matched"), "C": (-1, "applied")}
    assert response.json()["format"] == "csv"


def test_a_difference_above_the_threshold_waits_and_can_be_approved(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = send(client, admin, [{"sku": "C", "counted": 60}]).json()
    [line] = made["report"]

    approved = client.post(f"{URL}/{made['id']}/lines/{line['id']}/approve", headers=admin)

    assert (made["status"], line["status"]) == ("pending_approval", "pending_approval")
    assert approved.status_code == 200
    assert approved.json()["status"] == "applied"
    assert approved.json()["report"][0]["status"] == "approved"
    assert approved.json()["report"][0]["decided_by"].endswith(":test-admin")
    assert on_hand(client, admin)["C"] == 60


def test_a_rejected_difference_leaves_stock_as_it_was(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    made = send(client, admin, [{"sku": "C", "counted": 60}]).json()
    [line] = made["report"]

    rejected = client.post(f"{URL}/{made['id']}/lines/{line['id']}/reject", headers=admin)
    again = client.post(f"{URL}/{made['id']}/lines/{line['id']}/approve", headers=admin)

    assert rejected.json()["report"][0]["status"] == "rejected"
    assert again.status_code == 409
    assert again.json()["code"] == "inventory.snapshot_line_decided"
    assert on_hand(client, admin)["C"] == 10


def test_the_report_says_when_the_count_is_short_of_reservations(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    client.post(
        "/api/v1/reservations",
        json={"sku": "C", "warehouse": "DAL", "quantity": 8, "reference": "SO-1"},
        headers=admin,
    )

    [line] = send(client, admin, [{"sku": "C", "counted": 5}]).json()["report"]

    assert (line["reserved"], line["short_of_reservations"]) == (8, True)


def test_complete_in_the_query_counts_unlisted_items_as_zero(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = send(
        client, admin, [{"sku": "A", "counted": 100}, {"sku": "B", "counted": 50}], complete=True
    )

    report = {
        line["sku"]: (line["counted"], line["difference"]) for line in response.json()["report"]
    }
    assert report["C"] == (0, -10)


def test_bad_lines_answer_422_naming_every_line_and_the_raw_snapshot_is_kept(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    raw = "sku,counted\nA,100\nNOPE,3\nB,-1\nC,x\n"

    response = send(client, admin, raw, content_type="text/csv")

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "inventory.snapshot_invalid"
    assert [e["path"] for e in problem["errors"]] == ["line 4.counted", "line 5.counted"]
    snapshot_id = problem["details"]["snapshot_id"]
    with stocked.transaction() as session:
        stored = stock.snapshot_by_id(session, snapshot_id)
        assert stored is not None
        assert (stored.raw, stored.status) == (raw, "failed")
    assert on_hand(client, admin) == {"A": 100, "B": 50, "C": 10}


def test_unknown_skus_are_named_by_line_and_the_failed_snapshot_can_be_read(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    failed = send(
        client,
        admin,
        {
            "lines": [
                {"sku": "NOPE", "counted": 1},
                {"sku": "A", "counted": 1},
                {"sku": "ZZ", "counted": 2},
            ]
        },
    ).json()

    response = client.get(f"{URL}/{failed['details']['snapshot_id']}", headers=admin)

    assert [e["path"] for e in failed["errors"]] == ["lines[0].sku", "lines[2].sku"]
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert [e["path"] for e in body["errors"]] == ["lines[0].sku", "lines[2].sku"]
    assert body["report"] == []


def test_a_document_that_is_not_json_is_kept_and_named(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(
        URL,
        params={"warehouse": "DAL"},
        content=b'{"lines": [',
        headers={**admin, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["body"]
    with stocked.transaction() as session:
        stored = stock.snapshot_by_id(session, response.json()["details"]["snapshot_id"])
        assert stored is not None
        assert stored.raw == '{"lines": ['


def test_a_snapshot_in_another_format_is_415(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = send(client, admin, "<count/>", content_type="application/xml")

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_a_snapshot_needs_its_warehouse(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.post(URL, json=[{"sku": "A", "counted": 1}], headers=admin)

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["query.warehouse"]


def test_an_unknown_snapshot_is_a_404(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    response = client.get(f"{URL}/424242", headers=admin)

    assert response.status_code == 404
    assert response.json()["code"] == "inventory.snapshot_not_found"


def test_a_key_scoped_to_another_warehouse_can_neither_send_nor_read_a_snapshot(
    client: TestClient, admin: dict[str, str], auth_headers: AuthHeaders, stocked: Database
) -> None:
    made = send(client, admin, [{"sku": "A", "counted": 100}]).json()
    scoped = auth_headers("warehouse", warehouses=["NJ"])

    sent = send(client, scoped, [{"sku": "A", "counted": 1}])
    read = client.get(f"{URL}/{made['id']}", headers=scoped)

    assert sent.status_code == 404
    assert sent.json()["code"] == "catalog.warehouse_not_found"
    assert read.status_code == 404


def test_a_snapshot_sent_again_with_the_same_idempotency_key_is_stored_once(
    client: TestClient, admin: dict[str, str], stocked: Database
) -> None:
    headers = {**admin, "Idempotency-Key": "count-2030-01-01"}
    first = send(client, headers, [{"sku": "B", "counted": 47}])

    again = send(client, headers, [{"sku": "B", "counted": 47}])

    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert on_hand(client, admin)["B"] == 47
