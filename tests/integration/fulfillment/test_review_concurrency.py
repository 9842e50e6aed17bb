"""Release and the WMS's messages under concurrency on PostgreSQL: every path locks the
order before its fulfillment orders, so a release never deadlocks with an edit, a
cancellation or a WMS message, and never releases work its order was held for meanwhile."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.fulfillment import release, wms
from oms.fulfillment.schemas import ShipmentIn
from oms.orders import holds, lifecycle
from oms.orders import repository as orders
from oms.orders.models import HoldType
from oms.routing import repository as routing
from oms.routing.models import FulfillmentStatus
from tests.integration.fulfillment.test_wms import planned, released, shipment
from tests.integration.orders import factories as order_data

pytestmark = pytest.mark.postgres_only


def blocked_sessions(db: Database) -> int:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def wait_until_blocked_or_done(db: Database, work: Future[Any], count: int = 1) -> None:
    """Until `work` has finished, or `count` sessions wait for a lock another one holds."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if work.done() or blocked_sessions(db) >= count:
            return
        time.sleep(0.02)
    pytest.fail("the work neither finished nor waited for a lock")


def release_due(db: Database) -> list[str]:
    with db.transaction() as session:
        return release.release_due(session, actor=SYSTEM)


def fulfillment_status(db: Database, fo_id: int) -> FulfillmentStatus:
    with db.transaction() as session:
        found = routing.fulfillment_order_by_id(session, fo_id)
        assert found is not None
        return FulfillmentStatus(found.status)


def test_a_hold_placed_while_work_is_due_keeps_it_unreleased(db: Database) -> None:
    order_id, fo = planned(db)

    with ThreadPoolExecutor(1) as pool:
        with db.transaction() as operator:
            orders.order_by_id(operator, order_id, lock=True)
            releasing = pool.submit(release_due, db)
            wait_until_blocked_or_done(db, releasing)
            holds.place_hold(operator, order_id, type=HoldType.FRAUD, reason="check", actor=SYSTEM)
        released_numbers = releasing.result(timeout=10)

    assert released_numbers == []
    assert fulfillment_status(db, fo.id) == FulfillmentStatus.PLANNED


def test_cancelling_an_order_while_its_work_is_due_neither_deadlocks_nor_releases_it(
    db: Database,
) -> None:
    order_id, fo = planned(db)

    with ThreadPoolExecutor(1) as pool:
        with db.transaction() as operator:
            order = lifecycle.get_order(operator, order_id, actor=SYSTEM, lock=True)
            releasing = pool.submit(release_due, db)
            wait_until_blocked_or_done(db, releasing)
            lifecycle.cancel(operator, order, reason="changed my mind", actor=SYSTEM)
        released_numbers = releasing.result(timeout=10)

    assert released_numbers == []
    assert fulfillment_status(db, fo.id) == FulfillmentStatus.CANCELLED
    with db.transaction() as session:
        assert order_data.ledger_holds(session)


def test_releasing_by_hand_while_the_order_is_cancelled_waits_and_finds_nothing_to_release(
    db: Database,
) -> None:
    order_id, fo = planned(db)

    def release_by_hand() -> str:
        try:
            with db.transaction() as session:
                release.release_one(session, fo.id, actor=SYSTEM)
        except release.NotPlanned as refused:
            return refused.code
        return "released"

    with ThreadPoolExecutor(1) as pool:
        with db.transaction() as operator:
            order = lifecycle.get_order(operator, order_id, actor=SYSTEM, lock=True)
            releasing = pool.submit(release_by_hand)
            wait_until_blocked_or_done(db, releasing)
            lifecycle.cancel(operator, order, reason="changed my mind", actor=SYSTEM)
        outcome = releasing.result(timeout=10)

    assert outcome == "fulfillment.not_planned"
    assert fulfillment_status(db, fo.id) == FulfillmentStatus.CANCELLED


def test_a_wms_shipment_waits_for_the_order_before_taking_its_fulfillment_order(
    db: Database,
) -> None:
    order_id, fo = released(db)
    data = ShipmentIn.model_validate(shipment("s1", 3))

    def ship() -> str:
        with db.transaction() as session:
            return str(wms.ship(session, fo.id, data, actor=SYSTEM, inbox_id=None).outcome)

    with ThreadPoolExecutor(1) as pool:
        with db.transaction() as releaser:
            # A path that locks the order, then the fulfillment order (as a release does).
            orders.order_by_id(releaser, order_id, lock=True)
            shipping = pool.submit(ship)
            wait_until_blocked_or_done(db, shipping)
            with pytest.raises(release.NotPlanned):
                release.release_one(releaser, fo.id, actor=SYSTEM)
        outcome = shipping.result(timeout=10)

    assert outcome == "applied"
    assert fulfillment_status(db, fo.id) == FulfillmentStatus.SHIPPED
