"""An order edited or cancelled after part of it was released: only units not yet released
are given back, and the released work stays whole for its warehouse to ship."""

from __future__ import annotations

from fastapi.testclient import TestClient

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.fulfillment import release
from oms.orders import edits, lifecycle
from oms.orders import repository as orders
from oms.routing import repository as routing
from oms.routing.models import FulfillmentOrder, FulfillmentStatus
from tests.conftest import AuthHeaders
from tests.integration.fulfillment.factories import post, shipment
from tests.integration.orders import factories as order_data
from tests.integration.routing import factories


def split_and_partly_released(db: Database) -> tuple[int, FulfillmentOrder, FulfillmentOrder]:
    """An order of 5 ABC-1 on one line: 3 planned at DAL first, then 2 added by an edit,
    planned at EDI and released there (the newer work released, the older not yet):
    (order id, the planned DAL work, the released EDI work)."""
    with db.transaction() as session:
        factories.network(
            session, on_hand={("ABC-1", "DAL"): 3, ("ABC-1", "EDI"): 2, ("ABC-1", "RNO"): 9}
        )
        order_id = factories.order(session, lines=[("ABC-1", 3)])
        grow = edits.OrderEdit.model_validate({"lines": [{"line_number": 1, "quantity": 5}]})
        edits.edit_order(session, order_id, grow, actor=SYSTEM)
        older, newer = routing.fulfillment_orders_of_order(session, order_id)
        session.expunge_all()
    with db.transaction() as session:
        release.release_one(session, newer.id, actor=SYSTEM)
    return order_id, older, newer


def test_cancelling_a_lines_unreleased_units_leaves_its_released_work_shippable(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, older, newer = split_and_partly_released(db)
    with db.transaction() as session:
        lifecycle.cancel_line(session, order_id, 1, reason="too many", quantity=3, actor=SYSTEM)

    answer = post(client, auth_headers("warehouse"), newer, "shipments", shipment("s1", 2))

    assert answer.status_code == 200, answer.text
    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.allocated, line.released, line.shipped, line.cancelled) == (0, 0, 2, 3)
        cancelled = routing.fulfillment_order_by_id(session, older.id)
        assert cancelled is not None
        assert cancelled.status == FulfillmentStatus.CANCELLED
        assert order_data.ledger_holds(session)


def test_shortening_a_line_after_part_of_it_was_released_gives_back_only_unreleased_units(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id, older, newer = split_and_partly_released(db)
    shorter = edits.OrderEdit.model_validate({"lines": [{"line_number": 1, "quantity": 3}]})
    with db.transaction() as session:
        edits.edit_order(session, order_id, shorter, actor=SYSTEM)

    answer = post(client, auth_headers("warehouse"), newer, "shipments", shipment("s1", 2))

    assert answer.status_code == 200, answer.text
    with db.transaction() as session:
        [line] = orders.lines_of(session, order_id)
        assert (line.allocated, line.shipped, line.cancelled) == (1, 2, 2)
        assert routing.units_left(session, older.id) == 1
        assert order_data.ledger_holds(session)
