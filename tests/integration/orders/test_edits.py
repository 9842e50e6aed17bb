"""Edits (PATCH) and channel change requests: what is not yet released changes, new units
are allocated at once, fewer units give their reservations back, and a refused edit
changes nothing at all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.errors import InvalidTransition, PreconditionFailed, ValidationFailed
from oms.kit.validation import parse
from oms.orders import edits, lifecycle, repository
from oms.orders.edits import CannotEditReleasedUnits, OrderEdit
from oms.orders.lifecycle import CannotCancelReleasedUnits
from oms.orders.models import OrderStatus
from oms.orders.schemas import content_hash
from tests.integration.catalog.factories import address
from tests.integration.orders import factories


@pytest.fixture
def order_id(db: Database) -> int:
    """ABC-1 × 4 (at DAL) and XYZ-9 × 2 (at DAL)."""
    with db.transaction() as session:
        factories.master_data(session)
        return factories.order(session, lines=[("ABC-1", 4), ("XYZ-9", 2)])


def edit(db: Database, order_id: int, **body: Any) -> None:
    with db.transaction() as session:
        edits.edit_order(session, order_id, parse(OrderEdit, body), actor=SYSTEM)


def quantities(session: Session, order_id: int) -> dict[int, tuple[int, int, int, int]]:
    """Per line number: (quantity, allocated, backordered, cancelled)."""
    _, lines = factories.stored(session, order_id)
    return {
        ln.line_number: (ln.quantity, ln.allocated, ln.backordered, ln.cancelled) for ln in lines
    }


NEW_ADDRESS = address(line1="5 Elm St", city="Austin", postal_code="73301", name="Ada")


def test_changing_the_ship_to_records_before_and_after(order_id: int, db: Database) -> None:
    edit(db, order_id, ship_to=NEW_ADDRESS)

    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.ship_to["city"] == "Austin"
        assert order.version == 2
        event = repository.events_of(session, order_id)[-1]
        assert event.type == "changed"
        assert event.data["changes"]["ship_to"][1]["city"] == "Austin"
        assert event.data["changes"]["ship_to"][0]["city"] == "Dallas"


def test_a_ship_to_with_a_bad_postcode_is_refused_at_its_path(order_id: int) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(OrderEdit, {"ship_to": {**NEW_ADDRESS, "postal_code": "ABCDE"}})

    assert [p.path for p in refused.value.problems] == ["ship_to.postal_code"]


def test_changing_the_service_level_raises_the_version(order_id: int, db: Database) -> None:
    edit(db, order_id, service_level="overnight")

    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert (order.service_level, order.version) == ("overnight", 2)


def test_an_edit_that_changes_nothing_records_nothing(order_id: int, db: Database) -> None:
    edit(db, order_id, service_level="standard", lines=[{"line_number": 1, "quantity": 4}])

    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.version == 1
        assert [e.type for e in repository.events_of(session, order_id)] == ["created"]


def test_more_units_are_allocated_at_once_and_the_totals_follow(
    order_id: int, db: Database
) -> None:
    edit(db, order_id, lines=[{"line_number": 1, "quantity": 9}])

    with db.transaction() as session:
        assert quantities(session, order_id)[1] == (9, 9, 0, 0)
        order, _ = factories.stored(session, order_id)
        assert order.status == OrderStatus.ALLOCATED
        assert order.subtotal == Decimal("219.89")
        assert factories.ledger_holds(session)


def test_fewer_units_cancel_the_difference_and_give_reservations_back(
    order_id: int, db: Database
) -> None:
    edit(db, order_id, lines=[{"line_number": 1, "quantity": 1}])

    with db.transaction() as session:
        assert quantities(session, order_id)[1] == (4, 1, 0, 3)
        [allocated] = [
            a.quantity
            for a in repository.allocations_of_order(session, order_id)
            if a.line_id == factories.stored(session, order_id)[1][0].id
        ]
        assert allocated == 1
        assert factories.ledger_holds(session)


def test_a_removed_line_has_every_unit_cancelled(order_id: int, db: Database) -> None:
    edit(db, order_id, remove_lines=[2])

    with db.transaction() as session:
        assert quantities(session, order_id)[2] == (2, 0, 0, 2)
        assert factories.ledger_holds(session)


def test_an_added_line_is_allocated_at_once(order_id: int, db: Database) -> None:
    edit(db, order_id, add_lines=[{"sku": "ABC-1", "quantity": 3, "unit_price": "5.00"}])

    with db.transaction() as session:
        assert quantities(session, order_id)[3] == (3, 3, 0, 0)
        order, _ = factories.stored(session, order_id)
        assert order.status == OrderStatus.ALLOCATED
        assert repository.events_of(session, order_id)[-1].data["changes"]["line 3"] == [
            None,
            {"sku": "ABC-1", "quantity": 3},
        ]


def test_an_added_line_of_an_unknown_sku_is_refused_and_nothing_changes(
    order_id: int, db: Database
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        edit(
            db,
            order_id,
            service_level="overnight",
            add_lines=[
                {"sku": "ABC-1", "quantity": 1, "unit_price": "5"},
                {"sku": "NOPE-1", "quantity": 1, "unit_price": "5"},
                {"sku": "OLD-1", "quantity": 1, "unit_price": "5"},
            ],
        )

    assert [(p.path, p.code) for p in refused.value.problems] == [
        ("add_lines[1].sku", "order.unknown_sku"),
        ("add_lines[2].sku", "order.inactive_sku"),
    ]
    with db.transaction() as session:
        order, lines = factories.stored(session, order_id)
        assert (order.service_level, len(lines), order.version) == ("standard", 2, 1)


def test_a_quantity_change_of_a_missing_line_is_refused_at_its_path(
    order_id: int, db: Database
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        edit(db, order_id, lines=[{"line_number": 9, "quantity": 1}])

    assert [(p.path, p.code) for p in refused.value.problems] == [
        ("lines[0].line_number", "order.line_not_found")
    ]


def test_a_line_named_twice_in_one_edit_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(OrderEdit, {"lines": [{"line_number": 1, "quantity": 2}], "remove_lines": [1]})

    assert [p.path for p in refused.value.problems] == ["remove_lines[0]"]


def test_fewer_units_than_are_released_is_refused_and_nothing_changes(
    order_id: int, db: Database
) -> None:
    with db.transaction() as session:
        factories.release_units(session, order_id, 1, 3)

    with pytest.raises(CannotCancelReleasedUnits) as refused:
        edit(
            db,
            order_id,
            lines=[{"line_number": 1, "quantity": 2}, {"line_number": 2, "quantity": 1}],
        )

    assert refused.value.code == "order.cannot_cancel_released_units"
    with db.transaction() as session:
        assert quantities(session, order_id) == {1: (4, 1, 0, 0), 2: (2, 2, 0, 0)}


def test_the_ship_to_of_an_order_with_released_units_cannot_change(
    order_id: int, db: Database
) -> None:
    with db.transaction() as session:
        factories.release_units(session, order_id, 1, 1)

    with pytest.raises(CannotEditReleasedUnits) as refused:
        edit(db, order_id, ship_to=NEW_ADDRESS)

    assert refused.value.code == "order.cannot_edit_released_units"


def test_an_edit_against_an_old_version_is_refused(order_id: int, db: Database) -> None:
    edit(db, order_id, service_level="expedited")

    with db.transaction() as session, pytest.raises(PreconditionFailed) as refused:
        edits.edit_order(
            session,
            order_id,
            OrderEdit(service_level="overnight"),
            actor=SYSTEM,
            expected_version=1,
        )

    assert refused.value.code == "order.version_mismatch"


def test_a_cancelled_order_cannot_be_edited(order_id: int, db: Database) -> None:
    with db.transaction() as session:
        lifecycle.cancel_order(session, order_id, reason="gone", actor=SYSTEM)

    with pytest.raises(InvalidTransition) as refused:
        edit(db, order_id, service_level="overnight")

    assert refused.value.code == "order.cannot_edit_cancelled"


# -- change requests --------------------------------------------------------------------------


def change(db: Database, order_id: int, **overrides: Any) -> edits.ChangeOutcome:
    lines = overrides.pop("lines", [("ABC-1", 4), ("XYZ-9", 2)])
    incoming = factories.order_in(lines=lines, **overrides)
    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        return edits.apply_change_request(session, order, incoming, actor=SYSTEM)


def test_a_redelivery_with_the_same_content_changes_nothing(order_id: int, db: Database) -> None:
    outcome = change(db, order_id)

    assert outcome.applied
    assert not outcome.changed
    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.version == 1


def test_a_redelivery_with_a_new_ship_to_changes_it_and_the_content_hash(
    order_id: int, db: Database
) -> None:
    outcome = change(db, order_id, ship_to=NEW_ADDRESS)

    assert outcome.applied
    assert set(outcome.changes) == {"ship_to"}
    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        expected = factories.order_in(lines=[("ABC-1", 4), ("XYZ-9", 2)], ship_to=NEW_ADDRESS)
        assert order.content_hash == content_hash(expected)
        assert repository.events_of(session, order_id)[-1].data["source"] == "channel"


def test_a_redelivery_with_new_quantities_and_lines_applies_them(
    order_id: int, db: Database
) -> None:
    outcome = change(db, order_id, lines=[("ABC-1", 6), ("XYZ-9", 1), ("ABC-1", 1)])

    assert outcome.applied
    with db.transaction() as session:
        assert quantities(session, order_id) == {
            1: (6, 6, 0, 0),
            2: (2, 1, 0, 1),
            3: (1, 1, 0, 0),
        }
        assert factories.ledger_holds(session)


def test_a_line_missing_from_a_redelivery_is_cancelled(order_id: int, db: Database) -> None:
    outcome = change(db, order_id, lines=[("ABC-1", 4)])

    assert outcome.changes == {
        "line 2": [{"sku": "XYZ-9", "quantity": 2}, {"sku": "XYZ-9", "quantity": 0}]
    }
    with db.transaction() as session:
        assert quantities(session, order_id)[2] == (2, 0, 0, 2)


def test_a_redelivery_marked_cancelled_cancels_the_order(order_id: int, db: Database) -> None:
    outcome = change(db, order_id, cancelled=True, cancel_reason="buyer cancelled")

    assert outcome.applied
    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "buyer cancelled")
        assert repository.allocations_of_order(session, order_id) == []
        assert factories.ledger_holds(session)


def test_a_redelivery_that_reaches_released_units_is_refused_and_applies_nothing(
    order_id: int, db: Database
) -> None:
    with db.transaction() as session:
        factories.release_units(session, order_id, 1, 4)
        before, _ = factories.stored(session, order_id)
        stored_hash = before.content_hash

    outcome = change(db, order_id, lines=[("ABC-1", 2), ("XYZ-9", 1)])

    assert not outcome.applied
    assert outcome.code == "order.change_refused"
    assert outcome.details["cause"] == "order.cannot_cancel_released_units"
    assert "line 1" in (outcome.reason or "")
    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.content_hash == stored_hash
        assert quantities(session, order_id) == {1: (4, 0, 0, 0), 2: (2, 2, 0, 0)}
        assert [e.type for e in repository.events_of(session, order_id)] == ["created"]


def test_a_redelivered_cancellation_of_a_released_order_is_refused(
    order_id: int, db: Database
) -> None:
    with db.transaction() as session:
        factories.release_units(session, order_id, 2, 2)

    outcome = change(db, order_id, cancelled=True, cancel_reason="buyer cancelled")

    assert (outcome.applied, outcome.code) == (False, "order.change_refused")
    with db.transaction() as session:
        order, _ = factories.stored(session, order_id)
        assert order.status == OrderStatus.PARTIALLY_RELEASED
        assert factories.ledger_holds(session)


def test_a_redelivery_that_changes_a_line_s_sku_is_refused(order_id: int, db: Database) -> None:
    outcome = change(db, order_id, lines=[("XYZ-9", 4), ("XYZ-9", 2)])

    assert not outcome.applied
    assert [(p["path"], p["code"]) for p in outcome.details["problems"]] == [
        ("lines[0].sku", "order.line_sku_changed")
    ]


def test_a_redelivery_adding_an_unknown_sku_is_refused_at_its_path(
    order_id: int, db: Database
) -> None:
    outcome = change(db, order_id, lines=[("ABC-1", 4), ("XYZ-9", 2), ("NOPE-1", 1)])

    assert not outcome.applied
    assert [p["path"] for p in outcome.details["problems"]] == ["lines[2].sku"]
