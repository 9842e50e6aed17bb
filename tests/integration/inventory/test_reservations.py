"""Reservations never oversell; releasing, consuming, moving and expiring keep the ledger."""

from __future__ import annotations

import datetime as dt

import pytest

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.inventory import balances, reservations
from oms.inventory import repository as stock
from oms.inventory.errors import InsufficientStock, ReservationNotActive
from oms.inventory.ledger import Reference
from oms.inventory.models import ReservationStatus
from oms.kit import clock
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "ABC-1")
        factories.warehouse(session, "DAL")
        factories.warehouse(session, "NJ")
        factories.stock(session, "ABC-1", "DAL", 10)
        factories.stock(session, "ABC-1", "NJ", 3)
    return db


def line(db: Database, warehouse: str = "DAL") -> balances.StockLine:
    with db.transaction() as session:
        [found] = balances.stock_lines(session, sku="ABC-1", warehouse=warehouse, actor=SYSTEM)
    return found


def reserve(db: Database, quantity: int, warehouse: str = "DAL", **options: object) -> int:
    with db.transaction() as session:
        made = reservations.reserve(
            session,
            sku="ABC-1",
            warehouse=warehouse,
            quantity=quantity,
            reference="SO-1",
            actor=SYSTEM,
            **options,  # type: ignore[arg-type]
        )
    return made.id


def verified(db: Database) -> bool:
    with db.transaction() as session:
        return balances.verify(session).ok


def test_a_reservation_lowers_available_and_keeps_on_hand(stocked: Database) -> None:
    reserve(stocked, 4)

    found = line(stocked)

    assert (found.on_hand, found.reserved, found.available) == (10, 4, 6)
    assert verified(stocked)


def test_a_reservation_beyond_available_is_refused_with_the_figures(stocked: Database) -> None:
    reserve(stocked, 8)

    with pytest.raises(InsufficientStock) as raised:
        reserve(stocked, 3)

    assert raised.value.details == {
        "sku": "ABC-1",
        "warehouse": "DAL",
        "requested": 3,
        "available": 2,
    }
    assert line(stocked).reserved == 8


def test_safety_stock_is_not_reservable(stocked: Database) -> None:
    from oms.inventory import settings

    with stocked.transaction() as session:
        settings.set_safety_stock(session, sku="ABC-1", warehouse="DAL", quantity=7, actor=SYSTEM)

    with pytest.raises(InsufficientStock):
        reserve(stocked, 4)

    assert line(stocked).available == 3


def test_releasing_gives_the_stock_back_once(stocked: Database) -> None:
    reservation_id = reserve(stocked, 4)
    with stocked.transaction() as session:
        reservations.release(session, reservation_id, actor=SYSTEM)

    with stocked.transaction() as session, pytest.raises(ReservationNotActive):
        reservations.release(session, reservation_id, actor=SYSTEM)

    assert line(stocked).reserved == 0
    assert verified(stocked)


def test_consuming_on_shipment_lowers_reserved_and_on_hand_together(stocked: Database) -> None:
    reservation_id = reserve(stocked, 4)

    with stocked.transaction() as session:
        after = reservations.consume(
            session, reservation_id, quantity=3, reference=Reference("shipment", "1"), actor=SYSTEM
        )

    found = line(stocked)
    assert (found.on_hand, found.reserved, found.available) == (7, 1, 6)
    assert after.status == ReservationStatus.ACTIVE
    assert verified(stocked)


def test_consuming_the_whole_reservation_closes_it(stocked: Database) -> None:
    reservation_id = reserve(stocked, 4)

    with stocked.transaction() as session:
        after = reservations.consume(
            session, reservation_id, quantity=4, reference=Reference("shipment", "1"), actor=SYSTEM
        )

    assert after.status == ReservationStatus.CONSUMED


def test_moving_a_reservation_checks_stock_at_the_new_warehouse(stocked: Database) -> None:
    reservation_id = reserve(stocked, 5)

    with stocked.transaction() as session, pytest.raises(InsufficientStock) as raised:
        reservations.move(session, reservation_id, warehouse="NJ", actor=SYSTEM)

    assert raised.value.details["available"] == 3
    assert line(stocked, "DAL").reserved == 5
    assert line(stocked, "NJ").reserved == 0
    assert verified(stocked)


def test_moving_a_reservation_where_stock_suffices_moves_it(stocked: Database) -> None:
    reservation_id = reserve(stocked, 2)

    with stocked.transaction() as session:
        moved = reservations.move(session, reservation_id, warehouse="NJ", actor=SYSTEM)

    assert moved.id != reservation_id
    assert (line(stocked, "DAL").reserved, line(stocked, "NJ").reserved) == (0, 2)
    assert verified(stocked)


def test_a_soft_reservation_is_released_when_it_expires(stocked: Database) -> None:
    reserve(stocked, 4, expires_in_seconds=60)
    reserve(stocked, 1)
    later = clock.now() + dt.timedelta(seconds=61)
    clock.set_clock(lambda: later)
    try:
        with stocked.transaction() as session:
            expired = reservations.expire_due(session)
    finally:
        clock.set_clock(None)

    assert expired == 1
    assert line(stocked).reserved == 1
    assert verified(stocked)


def test_a_ghost_reservation_is_caught_by_verify(stocked: Database) -> None:
    reservation_id = reserve(stocked, 2)
    with stocked.transaction() as session:
        held = reservations.get(session, reservation_id, actor=SYSTEM)
        stock.try_change(
            session, item_id=held.item_id, warehouse_id=held.warehouse_id, reserved_delta=1
        )

    with stocked.transaction() as session:
        report = balances.verify(session)

    assert not report.ok
    assert report.ledger_mismatches
    assert report.reservation_mismatches


def test_releasing_part_of_a_reservation_keeps_the_rest(stocked: Database) -> None:
    reservation_id = reserve(stocked, 4)

    with stocked.transaction() as session:
        left = reservations.release_part(session, reservation_id, quantity=3, actor=SYSTEM)

    assert (left.quantity, left.status) == (1, ReservationStatus.ACTIVE)
    assert line(stocked).reserved == 1
    assert verified(stocked)
