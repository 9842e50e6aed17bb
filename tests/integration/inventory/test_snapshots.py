"""WMS stock snapshots: differences corrected or parked, in-flight shipments respected."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.errors import ValidationFailed
from oms.inventory import balances, reservations, snapshots
from oms.inventory.ledger import Reference
from oms.inventory.models import SnapshotStatus
from oms.kit import clock
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        for sku in ("A", "B", "C"):
            factories.item(session, sku)
        factories.warehouse(session, "DAL")
        factories.stock(session, "A", "DAL", 100)
        factories.stock(session, "B", "DAL", 50)
        factories.stock(session, "C", "DAL", 10)
    return db


def take(db: Database, document: object, *, fmt: str = "json", threshold: int = 10) -> int:
    raw = json.dumps(document) if fmt == "json" else str(document)
    with db.transaction() as session:
        snapshot_id = snapshots.store(session, warehouse="DAL", raw=raw, fmt=fmt, actor=SYSTEM).id
    with db.transaction() as session:
        snapshots.process(session, snapshot_id, threshold=threshold, actor=SYSTEM)
    return snapshot_id


def on_hand(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return {found.sku: found.on_hand for found in balances.stock_lines(session, actor=SYSTEM)}


def report(db: Database, snapshot_id: int) -> dict[str, tuple[int, str]]:
    with db.transaction() as session:
        return {
            r.sku: (r.difference, r.status)
            for r in snapshots.report(session, snapshot_id, actor=SYSTEM)
        }


def test_small_differences_are_corrected_and_large_ones_wait(stocked: Database) -> None:
    snapshot_id = take(
        stocked,
        {
            "lines": [
                {"sku": "A", "counted": 100},
                {"sku": "B", "counted": 47},
                {"sku": "C", "counted": 40},
            ]
        },
    )

    assert report(stocked, snapshot_id) == {
        "A": (0, "matched"),
        "B": (-3, "applied"),
        "C": (30, "pending_approval"),
    }
    assert on_hand(stocked) == {"A": 100, "B": 47, "C": 10}


def test_an_approved_difference_is_booked_and_closes_the_snapshot(stocked: Database) -> None:
    snapshot_id = take(stocked, [{"sku": "C", "counted": 40}])
    with stocked.transaction() as session:
        [line] = [line for line, _ in snapshots.stock.snapshot_lines(session, snapshot_id)]

    with stocked.transaction() as session:
        snapshots.decide(session, snapshot_id, line.id, approve=True, actor=SYSTEM)
        status = snapshots.get(session, snapshot_id, actor=SYSTEM).status

    assert on_hand(stocked)["C"] == 40
    assert status == SnapshotStatus.APPLIED
    with stocked.transaction() as session:
        assert balances.verify(session).ok


def test_shipments_in_flight_at_the_wms_are_not_corrected_away(stocked: Database) -> None:
    # The WMS shipped 5 of A and counted 95; we have not been told of the shipment yet.
    snapshot_id = take(stocked, [{"sku": "A", "counted": 95, "in_flight": 5}])

    assert report(stocked, snapshot_id) == {"A": (0, "matched")}
    assert on_hand(stocked)["A"] == 100


def test_movements_booked_after_the_count_are_not_counted_twice(stocked: Database) -> None:
    with stocked.transaction() as session:
        reservation = reservations.reserve(
            session, sku="A", warehouse="DAL", quantity=5, reference="SO-1", actor=SYSTEM
        )
    counted_at = clock.now()
    with stocked.transaction() as session:
        reservations.consume(
            session, reservation.id, quantity=5, reference=Reference("shipment", "1"), actor=SYSTEM
        )

    # Counted before the shipment we booked: the WMS saw 100, we now hold 95.
    snapshot_id = take(
        stocked, {"as_of": counted_at.isoformat(), "lines": [{"sku": "A", "counted": 100}]}
    )

    assert report(stocked, snapshot_id) == {"A": (0, "matched")}
    assert on_hand(stocked)["A"] == 95


def test_a_complete_snapshot_counts_missing_items_as_zero(stocked: Database) -> None:
    snapshot_id = take(
        stocked,
        {"complete": True, "lines": [{"sku": "A", "counted": 100}, {"sku": "B", "counted": 50}]},
    )

    assert report(stocked, snapshot_id)["C"] == (-10, "applied")


def test_a_csv_snapshot_names_each_bad_line(stocked: Database) -> None:
    raw = "sku,counted\nA,100\nB,-1\nZZZ,4\n"
    with stocked.transaction() as session:
        snapshot_id = snapshots.store(session, warehouse="DAL", raw=raw, fmt="csv", actor=SYSTEM).id

    with stocked.transaction() as session, pytest.raises(ValidationFailed) as raised:
        snapshots.process(session, snapshot_id, threshold=10, actor=SYSTEM)

    assert [p.path for p in raised.value.problems] == ["line 3.counted"]


def test_an_unknown_sku_is_named_and_nothing_is_booked(stocked: Database) -> None:
    with stocked.transaction() as session:
        snapshot_id = snapshots.store(
            session,
            warehouse="DAL",
            raw=json.dumps([{"sku": "B", "counted": 49}, {"sku": "ZZZ", "counted": 1}]),
            fmt="json",
            actor=SYSTEM,
        ).id

    with stocked.transaction() as session, pytest.raises(ValidationFailed) as raised:
        snapshots.process(session, snapshot_id, threshold=10, actor=SYSTEM)

    assert [p.path for p in raised.value.problems] == ["lines[1].sku"]
    assert on_hand(stocked)["B"] == 50


def test_a_count_never_takes_as_of_in_the_future_into_account(stocked: Database) -> None:
    future = (clock.now() + dt.timedelta(hours=1)).isoformat()

    snapshot_id = take(stocked, {"as_of": future, "lines": [{"sku": "A", "counted": 100}]})

    assert report(stocked, snapshot_id) == {"A": (0, "matched")}
