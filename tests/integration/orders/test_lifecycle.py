"""Finding an order in scope, cancelling it whole or by line, closing it: each refusal
with its code, every reservation given back, the ledger still equal to the balances."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import select

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.errors import InvalidTransition, ValidationFailed
from oms.inventory.models import Reservation, ReservationStatus
from oms.orders import holds, lifecycle, repository
from oms.orders.lifecycle import CannotCancelReleasedUnits, LineAlreadyCancelled, OrderNotFound
from oms.orders.models import HoldType, OrderStatus
from oms.outbox.models import OutboxEvent
from tests.integration.catalog.factories import audit_actions
from tests.integration.orders import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session, channels=("web", "b2b"), split_within_line=True)
    return db


@pytest.fixture
def order_id(stocked: Database) -> int:
    """ABC-1 × 12 (10 at DAL, 2 at NJ) and XYZ-9 × 5 (3 at DAL, 2 backordered): the channels
    split a line within itself, so the order holds stock at both warehouses."""
    with stocked.transaction() as session:
        return factories.order(session, lines=[("ABC-1", 12), ("XYZ-9", 5)])


def reservations(db: Database) -> dict[ReservationStatus, int]:
    with db.transaction() as session:
        found: dict[ReservationStatus, int] = {}
        for r in session.scalars(select(Reservation)):
            found[ReservationStatus(r.status)] = found.get(ReservationStatus(r.status), 0) + 1
        return found


def test_the_factory_order_is_allocated_and_backordered(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        order, lines = factories.stored(session, order_id)

        assert order.status == OrderStatus.PARTIALLY_ALLOCATED
        assert [(ln.allocated, ln.backordered) for ln in lines] == [(12, 0), (3, 2)]


def test_an_order_of_a_channel_outside_the_scope_is_not_found(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session, pytest.raises(OrderNotFound) as refused:
        lifecycle.get_order(session, order_id, actor=factories.scoped("b2b"))

    assert refused.value.code == "order.not_found"


def test_an_order_of_a_channel_in_scope_is_found(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        found = lifecycle.get_order(session, order_id, actor=factories.scoped("web"))

    assert found.id == order_id


def test_cancelling_an_order_releases_every_reservation(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="customer asked", actor=SYSTEM)

    with stocked.transaction() as session:
        order, lines = factories.stored(session, order_id)
        assert order.status == OrderStatus.CANCELLED
        assert order.cancel_reason == "customer asked"
        assert [(ln.cancelled, ln.allocated, ln.backordered) for ln in lines] == [
            (12, 0, 0),
            (5, 0, 0),
        ]
        assert repository.allocations_of_order(session, order_id) == []
        assert factories.ledger_holds(session)
    assert reservations(stocked) == {ReservationStatus.RELEASED: 3}


def test_a_cancelled_order_gives_its_stock_back_to_the_next_order(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="customer asked", actor=SYSTEM)

    with stocked.transaction() as session:
        again = factories.order(session, "1002", lines=[("ABC-1", 15), ("XYZ-9", 3)])
        order, _ = factories.stored(session, again)

    assert order.status == OrderStatus.ALLOCATED


def test_cancelling_an_order_writes_the_event_the_audit_row_and_the_outbox_event(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        order = lifecycle.cancel_order(session, order_id, reason="fraud", actor=SYSTEM)
        number = order.number

    with stocked.transaction() as session:
        events = [e.type for e in repository.events_of(session, order_id)]
        topics = list(
            session.scalars(
                select(OutboxEvent.topic)
                .where(OutboxEvent.key == f"order:{number}")
                .order_by(OutboxEvent.id)
            )
        )
        assert events == ["created", "cancelled"]
        assert topics == ["order.created", "order.cancelled"]
        assert audit_actions(session, "sales_order", number)[-1] == "order.cancelled"


def test_cancelling_an_order_with_released_units_is_refused_and_changes_nothing(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        factories.release_units(session, order_id, 1, 4)

    with stocked.transaction() as session, pytest.raises(CannotCancelReleasedUnits) as refused:
        lifecycle.cancel_order(session, order_id, reason="too late", actor=SYSTEM)

    assert refused.value.code == "order.cannot_cancel_released_units"
    assert refused.value.details["line_number"] == 1
    with stocked.transaction() as session:
        _, lines = factories.stored(session, order_id)
        assert [ln.cancelled for ln in lines] == [0, 0]


def test_cancelling_a_shipped_order_is_refused_by_the_transition_table(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        factories.ship_everything(session, order_id)

    with stocked.transaction() as session, pytest.raises(InvalidTransition) as refused:
        lifecycle.cancel_order(session, order_id, reason="too late", actor=SYSTEM)

    assert refused.value.code == "order.cannot_cancel_shipped"


def test_a_cancellation_needs_a_reason(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(ValidationFailed) as refused:
        lifecycle.cancel_order(session, order_id, reason="  ", actor=SYSTEM)

    assert [p.path for p in refused.value.problems] == ["reason"]


def test_cancelling_part_of_a_line_takes_backordered_units_before_allocated_ones(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_line(session, order_id, 2, reason="fewer", quantity=3, actor=SYSTEM)

    with stocked.transaction() as session:
        order, lines = factories.stored(session, order_id)
        assert (lines[1].backordered, lines[1].allocated, lines[1].cancelled) == (0, 2, 3)
        assert order.status == OrderStatus.ALLOCATED
        assert factories.ledger_holds(session)
        [event] = repository.events_of(session, order_id)[-1:]
        assert event.type == "line_cancelled"
        assert event.data["from_backordered"] == 2
        assert event.data["from_allocated"] == 1


def test_cancelling_a_whole_line_releases_its_reservations_at_every_warehouse(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_line(session, order_id, 1, reason="out of fashion", actor=SYSTEM)

    with stocked.transaction() as session:
        _, lines = factories.stored(session, order_id)
        assert (lines[0].allocated, lines[0].cancelled) == (0, 12)
        left = repository.allocations_of_order(session, order_id)
        assert {a.line_id for a in left} == {lines[1].id}
        assert factories.ledger_holds(session)
    assert reservations(stocked) == {ReservationStatus.RELEASED: 2, ReservationStatus.ACTIVE: 1}


def test_cancelling_more_of_a_line_than_is_unreleased_is_refused(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        factories.release_units(session, order_id, 1, 10)

    with stocked.transaction() as session, pytest.raises(CannotCancelReleasedUnits) as refused:
        lifecycle.cancel_line(session, order_id, 1, reason="fewer", quantity=3, actor=SYSTEM)

    assert refused.value.code == "order.cannot_cancel_released_units"
    assert refused.value.details["cancellable"] == 2


def test_the_unreleased_units_of_a_partly_released_line_can_be_cancelled(
    order_id: int, stocked: Database
) -> None:
    with stocked.transaction() as session:
        factories.release_units(session, order_id, 1, 10)

    with stocked.transaction() as session:
        lifecycle.cancel_line(session, order_id, 1, reason="fewer", quantity=2, actor=SYSTEM)

    with stocked.transaction() as session:
        _, lines = factories.stored(session, order_id)
        assert (lines[0].released, lines[0].allocated, lines[0].cancelled) == (10, 0, 2)
        assert factories.ledger_holds(session)


def test_cancelling_a_cancelled_line_again_is_refused(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_line(session, order_id, 2, reason="gone", actor=SYSTEM)

    with stocked.transaction() as session, pytest.raises(LineAlreadyCancelled) as refused:
        lifecycle.cancel_line(session, order_id, 2, reason="gone", actor=SYSTEM)

    assert refused.value.code == "order.line_already_cancelled"


def test_cancelling_a_line_the_order_lacks_is_not_found(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(lifecycle.OrderLineNotFound) as refused:
        lifecycle.cancel_line(session, order_id, 7, reason="gone", actor=SYSTEM)

    assert refused.value.code == "order.line_not_found"


def test_cancelling_every_line_cancels_the_order(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_line(session, order_id, 1, reason="gone", actor=SYSTEM)
        lifecycle.cancel_line(session, order_id, 2, reason="gone", actor=SYSTEM)

    with stocked.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.status == OrderStatus.CANCELLED


def test_a_shipped_order_can_be_closed(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        factories.ship_everything(session, order_id)

    with stocked.transaction() as session:
        lifecycle.close_order(session, order_id, actor=SYSTEM)

    with stocked.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.status == OrderStatus.CLOSED
        assert order.closed_at is not None
        assert repository.events_of(session, order_id)[-1].data == {"from_status": "shipped"}


def test_a_cancelled_order_can_be_closed(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="gone", actor=SYSTEM)

    with stocked.transaction() as session:
        order = lifecycle.close_order(session, order_id, actor=SYSTEM)

        assert order.status == OrderStatus.CLOSED


def test_an_open_order_cannot_be_closed(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(InvalidTransition) as refused:
        lifecycle.close_order(session, order_id, actor=SYSTEM)

    assert refused.value.code == "order.cannot_close_partially_allocated"


def test_every_action_raises_the_version(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        holds.place_hold(session, order_id, type=HoldType.MANUAL, reason="check", actor=SYSTEM)
        lifecycle.cancel_line(session, order_id, 2, reason="gone", actor=SYSTEM)
        lifecycle.cancel_order(session, order_id, reason="gone", actor=SYSTEM)

    with stocked.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.version == 4


def test_the_timeline_lists_every_action_in_order(order_id: int, stocked: Database) -> None:
    with stocked.transaction() as session:
        hold = holds.place_hold(
            session, order_id, type=HoldType.FRAUD, reason="score 91", actor=SYSTEM
        )
        holds.release_hold(session, order_id, hold.id, note="called the buyer", actor=SYSTEM)
        lifecycle.cancel_line(session, order_id, 2, reason="gone", quantity=1, actor=SYSTEM)
        lifecycle.cancel_order(session, order_id, reason="changed mind", actor=SYSTEM)
        lifecycle.close_order(session, order_id, actor=SYSTEM)

    with stocked.transaction() as session:
        events = repository.events_of(session, order_id)
        assert [e.type for e in events] == [
            "created",
            "held",
            "hold_released",
            "line_cancelled",
            "cancelled",
            "closed",
        ]
        assert all(e.actor == "system:system" for e in events)


def test_a_key_scoped_to_other_warehouses_still_gives_the_order_s_reservations_back(
    order_id: int, stocked: Database
) -> None:
    only_nj = replace(factories.scoped("web"), warehouses=frozenset({"NJ"}))

    with stocked.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="gone", actor=only_nj)

    assert reservations(stocked) == {ReservationStatus.RELEASED: 3}


@pytest.mark.postgres_only
def test_concurrent_cancellations_of_one_order_cancel_it_once(
    order_id: int, stocked: Database
) -> None:
    start = threading.Barrier(4)

    def attempt(n: int) -> str:
        start.wait()
        try:
            with stocked.transaction() as session:
                lifecycle.cancel_order(session, order_id, reason=f"try {n}", actor=SYSTEM)
        except InvalidTransition as refused:
            return refused.code
        return "cancelled"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))

    assert outcomes == ["cancelled"] + ["order.cannot_cancel_cancelled"] * 3
    assert reservations(stocked) == {ReservationStatus.RELEASED: 3}
    with stocked.transaction() as session:
        assert [e.type for e in repository.events_of(session, order_id)] == ["created", "cancelled"]
        assert factories.ledger_holds(session)
