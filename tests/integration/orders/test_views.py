"""The order detail's fulfillment orders: read in two queries however many there are, their
lines by order line."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.kit.validation import parse
from oms.orders import edits, repository, views
from oms.orders.edits import OrderEdit
from oms.orders.models import SalesOrder
from oms.orders.views import OrderOut
from tests.integration.orders import factories


def stored(session: Session, order_id: int) -> SalesOrder:
    found = repository.order_by_id(session, order_id)
    assert found is not None
    return found


def detail(session: Session, order_id: int) -> OrderOut:
    return views.order_out(session, stored(session, order_id))


def queries(session: Session, run: Callable[[], Any]) -> list[str]:
    """The SQL statements `run` sends."""
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return statements


def test_the_detail_costs_the_same_queries_for_one_fulfillment_order_as_for_two(
    db: Database,
) -> None:
    with db.transaction() as session:
        factories.master_data(session, split_within_line=True)
        one = factories.order(session, "1001", lines=[("ABC-1", 2)])
        two = factories.order(session, "1002", lines=[("ABC-1", 13), ("XYZ-9", 2)])
        none = factories.order(session, "1003", lines=[("ABC-1", 5)])

    with db.transaction() as session:
        shown = {order_id: detail(session, order_id) for order_id in (one, two, none)}
        assert [len(shown[o].fulfillment_orders) for o in (one, two, none)] == [1, 2, 0]
        found = {order_id: stored(session, order_id) for order_id in shown}
        sent = {
            order_id: queries(session, partial(views.order_out, session, order))
            for order_id, order in found.items()
        }

    assert len(sent[one]) == len(sent[two])
    fulfillment = {o: [q for q in sent[o] if "fulfillment_order" in q] for o in sent}
    assert [len(fulfillment[o]) for o in (one, two, none)] == [2, 2, 1]
    assert "JOIN warehouses" in fulfillment[two][0]


def test_units_an_edit_adds_to_a_line_show_once_on_the_line_of_its_fulfillment_order(
    db: Database,
) -> None:
    with db.transaction() as session:
        factories.master_data(session)
        order_id = factories.order(session, lines=[("ABC-1", 2)])
    with db.transaction() as session:
        edits.edit_order(
            session,
            order_id,
            parse(OrderEdit, {"lines": [{"line_number": 1, "quantity": 5}]}),
            actor=SYSTEM,
        )

    with db.transaction() as session:
        [fo] = detail(session, order_id).fulfillment_orders
        assert fo.warehouse == "DAL"
        assert [(line.line_number, line.sku, line.quantity) for line in fo.lines] == [
            (1, "ABC-1", 5)
        ]
