"""Re-routing a fulfillment order's remainder away from the warehouse that rejected or
short-picked it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.catalog import repository as catalog
from oms.db import Database
from oms.errors import ValidationFailed
from oms.inventory import balances, ledger
from oms.orders import backorders, reroute
from oms.orders import repository as orders_repository
from oms.orders.models import OrderStatus
from oms.routing import repository as routing
from oms.routing.models import FulfillmentOrder, FulfillmentStatus
from tests.integration.orders import factories as orders
from tests.integration.routing import factories


def routed(db: Database, quantity: int = 3, **network: Any) -> tuple[int, int]:
    """An order of `quantity` ABC-1 routed on intake to DAL: (order id, its FO id)."""
    with db.transaction() as session:
        factories.network(session, **network)
        order_id = factories.order(session, lines=[("ABC-1", quantity)])
        [fo] = routing.fulfillment_orders_of_order(session, order_id)
        assert warehouse(session, fo) == "DAL"
        return order_id, fo.id


def warehouse(session: Session, fo: FulfillmentOrder) -> str:
    return catalog.warehouses_by_ids(session, [fo.warehouse_id])[0].code


def by_warehouse(session: Session, order_id: int) -> dict[str, tuple[str, int]]:
    """Warehouse code → (status, units) of the order's fulfillment orders."""
    found = routing.fulfillment_orders_of_order(session, order_id)
    return {warehouse(session, fo): (fo.status, routing.units_left(session, fo.id)) for fo in found}


def test_a_rejected_fulfillment_order_goes_to_the_next_warehouse(db: Database) -> None:
    order_id, fo_id = routed(db)

    with db.transaction() as session:
        done = reroute.reroute(session, fo_id, actor=SYSTEM)

    assert (done.units, done.planned, done.backordered) == (3, 3, 0)
    with db.transaction() as session:
        assert by_warehouse(session, order_id) == {
            "DAL": (FulfillmentStatus.CANCELLED, 0),
            "RNO": (FulfillmentStatus.PLANNED, 3),
        }
        found, [line] = orders.stored(session, order_id)
        assert (line.allocated, line.backordered) == (3, 0)
        assert found.status == OrderStatus.ALLOCATED
        assert balances.verify(session).ok


def test_part_of_a_line_can_be_rerouted(db: Database) -> None:
    order_id, fo_id = routed(db)
    with db.transaction() as session:
        _, [line] = orders.stored(session, order_id)
        line_id = line.id

    with db.transaction() as session:
        reroute.reroute(session, fo_id, lines={line_id: 1}, actor=SYSTEM)

    with db.transaction() as session:
        assert by_warehouse(session, order_id) == {
            "DAL": (FulfillmentStatus.PLANNED, 2),
            "EDI": (FulfillmentStatus.PLANNED, 1),
        }
        assert balances.verify(session).ok


def test_what_no_other_warehouse_holds_becomes_backordered(db: Database) -> None:
    order_id, fo_id = routed(db, on_hand={("ABC-1", "DAL"): 5})

    with db.transaction() as session:
        done = reroute.reroute(session, fo_id, actor=SYSTEM)

    assert (done.planned, done.backordered) == (0, 3)
    with db.transaction() as session:
        found, [line] = orders.stored(session, order_id)
        assert (line.allocated, line.backordered) == (0, 3)
        assert found.status == OrderStatus.BACKORDERED
        assert balances.verify(session).ok


def test_a_released_fulfillment_order_emptied_by_a_reroute_ends_rejected(db: Database) -> None:
    order_id, fo_id = routed(db)
    with db.transaction() as session:
        orders.release_units(session, order_id, 1, 3)
        fo = routing.fulfillment_order_by_id(session, fo_id)
        assert fo is not None
        fo.status = FulfillmentStatus.RELEASED

    with db.transaction() as session:
        reroute.reroute(session, fo_id, actor=SYSTEM)

    with db.transaction() as session:
        assert by_warehouse(session, order_id)["DAL"] == (FulfillmentStatus.REJECTED, 0)
        _, [line] = orders.stored(session, order_id)
        assert (line.released, line.allocated) == (0, 3)


def test_a_shipped_fulfillment_order_cannot_be_rerouted(db: Database) -> None:
    _, fo_id = routed(db)
    with db.transaction() as session:
        fo = routing.fulfillment_order_by_id(session, fo_id)
        assert fo is not None
        fo.status = FulfillmentStatus.SHIPPED

    with db.transaction() as session, pytest.raises(reroute.CannotReroute):
        reroute.reroute(session, fo_id, actor=SYSTEM)


def test_rerouting_more_units_than_the_fulfillment_order_holds_is_refused(db: Database) -> None:
    order_id, fo_id = routed(db)
    with db.transaction() as session:
        _, [line] = orders.stored(session, order_id)
        line_id = line.id

    with db.transaction() as session, pytest.raises(ValidationFailed):
        reroute.reroute(session, fo_id, lines={line_id: 4}, actor=SYSTEM)


def given_back(db: Database, **network: Any) -> int:
    """An order of 3 ABC-1 routed to DAL, the only warehouse holding it, whose
    fulfillment order DAL gave back: the order, backordered."""
    order_id, fo_id = routed(db, on_hand={("ABC-1", "DAL"): 5}, **network)
    with db.transaction() as session:
        assert reroute.reroute(session, fo_id, actor=SYSTEM).backordered == 3
    return order_id


def backorders_served(db: Database) -> int:
    with db.transaction() as session:
        return backorders.reallocate_backorders(session, actor=SYSTEM).units


def test_the_backorder_pass_does_not_send_a_line_back_to_the_warehouse_that_gave_it_back(
    db: Database,
) -> None:
    order_id = given_back(db)

    assert backorders_served(db) == 0
    assert backorders_served(db) == 0, "nor on the next tick"
    with db.transaction() as session:
        _, [line] = orders.stored(session, order_id)
        assert (line.allocated, line.backordered) == (0, 3)
        assert balances.verify(session).ok


@pytest.mark.parametrize(
    "restocked",
    [
        lambda session: ledger.adjust(
            session, sku="ABC-1", warehouse="DAL", quantity=-1, reason="damaged", actor=SYSTEM
        ),
        lambda session: ledger.receive(
            session, sku="ABC-1", warehouse="DAL", quantity=4, actor=SYSTEM
        ),
    ],
    ids=["adjusted", "replenished"],
)
def test_a_line_given_back_goes_there_again_once_the_warehouses_stock_was_known_afresh(
    db: Database, restocked: Any
) -> None:
    order_id = given_back(db)
    with db.transaction() as session:
        restocked(session)

    assert backorders_served(db) == 3
    with db.transaction() as session:
        assert by_warehouse(session, order_id)["DAL"] == (FulfillmentStatus.PLANNED, 3)
        _, [line] = orders.stored(session, order_id)
        assert (line.allocated, line.backordered) == (3, 0)
        assert orders_repository.standing_refusals(session) == set(), "the refusal is gone"


def test_stock_known_afresh_elsewhere_leaves_the_refusal_standing(db: Database) -> None:
    given_back(db)
    with db.transaction() as session:
        ledger.receive(session, sku="ABC-1", warehouse="RNO", quantity=4, actor=SYSTEM)
        ledger.receive(session, sku="XYZ-9", warehouse="DAL", quantity=4, actor=SYSTEM)
        refused = orders_repository.standing_refusals(session)

    assert len(refused) == 1
    assert backorders_served(db) == 3, "served at RNO, which has it now, not at DAL"


def test_lines_given_back_do_not_crowd_the_other_backorders_out_of_a_pass(db: Database) -> None:
    given_back(db)
    with db.transaction() as session:
        later = factories.order(session, "1002", lines=[("XYZ-9", 9)])  # none in stock
        ledger.receive(session, sku="XYZ-9", warehouse="DAL", quantity=5, actor=SYSTEM)

    with db.transaction() as session:
        done = backorders.reallocate_backorders(session, actor=SYSTEM, limit=1)

    assert (done.units, done.more_due) == (5, True)
    with db.transaction() as session:
        _, [line] = orders.stored(session, later)
        assert (line.allocated, line.backordered) == (5, 4)


def test_a_line_given_back_leaves_the_stock_to_the_backorders_after_it(db: Database) -> None:
    order_id, fo_id = routed(db, on_hand={("ABC-1", "DAL"): 3})
    with db.transaction() as session:
        later = factories.order(session, "1002", lines=[("ABC-1", 2)])
        _, [waiting] = orders.stored(session, later)
        assert waiting.backordered == 2
    with db.transaction() as session:
        reroute.reroute(session, fo_id, actor=SYSTEM)

    assert backorders_served(db) == 2
    with db.transaction() as session:
        _, [first] = orders.stored(session, order_id)
        _, [second] = orders.stored(session, later)
        assert (first.allocated, first.backordered) == (0, 3)
        assert (second.allocated, second.backordered) == (2, 0)
