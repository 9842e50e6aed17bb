"""Holds: several at once, each with who and why; released one by one with a note;
refused on orders that are finished."""

from __future__ import annotations

import pytest

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.errors import InvalidTransition, ValidationFailed
from oms.orders import holds, lifecycle, repository
from oms.orders.holds import HoldAlreadyReleased, HoldNotFound
from oms.orders.models import HoldType, OrderStatus
from tests.integration.orders import factories


@pytest.fixture
def order_id(db: Database) -> int:
    with db.transaction() as session:
        factories.master_data(session)
        return factories.order(session)


def test_a_hold_records_who_placed_it_and_why(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        holds.place_hold(
            session, order_id, type=HoldType.FRAUD, reason="score 91", actor=factories.scoped("web")
        )

    with db.transaction() as session:
        [hold] = repository.holds_of(session, order_id)
        assert (hold.type, hold.reason, hold.placed_by) == ("fraud", "score 91", "api_key:scoped")
        assert hold.active


def test_a_hold_leaves_the_status_alone(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        holds.place_hold(session, order_id, type=HoldType.PAYMENT, reason="auth", actor=SYSTEM)

    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.status == OrderStatus.ALLOCATED


def test_several_holds_may_be_active_at_once(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        for kind in (HoldType.PAYMENT, HoldType.FRAUD, HoldType.MANUAL):
            holds.place_hold(session, order_id, type=kind, reason=f"{kind} check", actor=SYSTEM)

    with db.transaction() as session:
        active = repository.holds_of(session, order_id, active_only=True)
        assert [h.type for h in active] == ["payment", "fraud", "manual"]


def test_releasing_one_hold_keeps_the_others(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        payment = holds.place_hold(
            session, order_id, type=HoldType.PAYMENT, reason="auth", actor=SYSTEM
        )
        holds.place_hold(session, order_id, type=HoldType.ADDRESS, reason="no zip", actor=SYSTEM)

    with db.transaction() as session:
        released = holds.release_hold(session, order_id, payment.id, note="captured", actor=SYSTEM)
        assert (released.released_by, released.release_note) == ("system:system", "captured")

    with db.transaction() as session:
        active = repository.holds_of(session, order_id, active_only=True)
        assert [h.type for h in active] == ["address"]
        event = repository.events_of(session, order_id)[-1]
        assert event.type == "hold_released"
        assert event.data["holds_left"] == ["address"]


def test_releasing_a_hold_needs_a_note(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        hold = holds.place_hold(
            session, order_id, type=HoldType.CREDIT, reason="limit", actor=SYSTEM
        )

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        holds.release_hold(session, order_id, hold.id, note=" ", actor=SYSTEM)

    assert [p.path for p in refused.value.problems] == ["note"]


def test_a_hold_is_released_only_once(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        hold = holds.place_hold(
            session, order_id, type=HoldType.CREDIT, reason="limit", actor=SYSTEM
        )
        holds.release_hold(session, order_id, hold.id, note="paid", actor=SYSTEM)

    with db.transaction() as session, pytest.raises(HoldAlreadyReleased) as refused:
        holds.release_hold(session, order_id, hold.id, note="paid", actor=SYSTEM)

    assert refused.value.code == "order.hold_already_released"


def test_a_hold_of_another_order_is_not_found(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        other = factories.order(session, "1002")
        hold = holds.place_hold(session, other, type=HoldType.MANUAL, reason="x", actor=SYSTEM)

    with db.transaction() as session, pytest.raises(HoldNotFound) as refused:
        holds.release_hold(session, order_id, hold.id, note="no", actor=SYSTEM)

    assert refused.value.code == "order.hold_not_found"


def test_holding_a_cancelled_order_is_refused(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="gone", actor=SYSTEM)

    with db.transaction() as session, pytest.raises(InvalidTransition) as refused:
        holds.place_hold(session, order_id, type=HoldType.MANUAL, reason="late", actor=SYSTEM)

    assert refused.value.code == "order.cannot_hold_cancelled"


def test_holding_a_closed_order_is_refused(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="gone", actor=SYSTEM)
        lifecycle.close_order(session, order_id, actor=SYSTEM)

    with db.transaction() as session, pytest.raises(InvalidTransition) as refused:
        holds.place_hold(session, order_id, type=HoldType.MANUAL, reason="late", actor=SYSTEM)

    assert refused.value.code == "order.cannot_hold_closed"


def test_a_hold_needs_a_reason(order_id: int, db: Database) -> None:
    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        holds.place_hold(session, order_id, type=HoldType.MANUAL, reason="", actor=SYSTEM)

    assert [p.path for p in refused.value.problems] == ["reason"]
