"""Release and the WMS's messages under concurrency on PostgreSQL: every path locks the
order before its fulfillment orders, so a release never deadlocks with an edit, a
cancellation or a WMS message, and never releases work its order was held for meanwhile."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select, text

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.fulfillment import release, wms
from oms.fulfillment.schemas import AckIn, ShipmentIn
from oms.inventory.models import Movement, MovementKind
from oms.orders import holds, lifecycle
from oms.orders import repository as orders
from oms.orders.models import HoldType
from oms.routing import repository as routing
from oms.routing.models import FulfillmentStatus
from tests.integration.fulfillment.factories import planned, released, shipment
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


def test_two_deliveries_of_one_shipment_message_at_once_ship_it_once(db: Database) -> None:
    order_id, fo = released(db)
    data = ShipmentIn.model_validate(shipment("s1", 3))
    start = threading.Barrier(2)

    def deliver(_: int) -> str:
        start.wait()
        with db.transaction() as session:
            return str(wms.ship(session, fo.id, data, actor=SYSTEM, inbox_id=None).outcome)

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(deliver, range(2)))

    assert outcomes == ["applied", "duplicate"]
    with db.transaction() as session:
        moves = session.scalars(select(Movement).where(Movement.kind == MovementKind.SHIPMENT))
        assert len(list(moves)) == 1
        [line] = orders.lines_of(session, order_id)
        assert line.shipped == 3
        assert order_data.ledger_holds(session)


def test_a_message_sent_while_its_work_is_being_released_waits_and_applies(
    db: Database,
) -> None:
    _, fo = planned(db)

    def acknowledge() -> str:
        with db.transaction() as session:
            data = AckIn(message_id="a1", accepted=True)
            return str(wms.acknowledge(session, fo.id, data, actor=SYSTEM, inbox_id=None).outcome)

    with ThreadPoolExecutor(1) as pool:
        with db.transaction() as releaser:
            assert release.release_due(releaser, actor=SYSTEM) == [fo.number]
            message = pool.submit(acknowledge)
            wait_until_blocked_or_done(db, message)
        outcome = message.result(timeout=10)

    assert outcome == "applied"
    assert fulfillment_status(db, fo.id) == FulfillmentStatus.ACKNOWLEDGED
