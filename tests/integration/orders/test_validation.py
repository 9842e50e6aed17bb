"""Validation at intake: each failure refused at its exact path with its code, every problem
at once and nothing written; or, for a channel that asks for it, the order kept on hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from oms.catalog.models import Customer
from oms.db import Database
from oms.errors import ValidationFailed
from oms.orders import intake, repository
from oms.orders.models import HoldType, OrderStatus, SalesOrder
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock
from tests.integration.orders import factories
from tests.integration.orders.deliveries import deliver, payload

HOLD_INVALID = {"intake": {"on_invalid": "hold"}}


@pytest.fixture
def master(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session)
        stock.channel(session, "lenient", warehouses=["DAL", "NJ"], settings=HOLD_INVALID)
        stock.channel(session, "closed", warehouses=["DAL"], active=False)
    return db


def refused(db: Database, body: dict[str, Any] | str) -> list[tuple[str, str]]:
    """(path, code) of each problem the delivery was refused for."""
    with pytest.raises(ValidationFailed) as failure:
        deliver(db, body)
    return [(p.path, p.code) for p in failure.value.problems]


def counts(db: Database) -> tuple[int, int]:
    with db.transaction() as session:
        orders = session.scalar(select(func.count(SalesOrder.id)))
        customers = session.scalar(select(func.count(Customer.id)))
        return int(orders or 0), int(customers or 0)


def test_an_unknown_sku_is_refused_at_its_line(master: Database) -> None:
    body = payload(lines=[("ABC-1", 1), ("NOPE-1", 1)])

    assert refused(master, body) == [("lines[1].sku", "order.unknown_sku")]


def test_an_inactive_sku_is_refused_at_its_line(master: Database) -> None:
    assert refused(master, payload(lines=[("OLD-1", 1)])) == [
        ("lines[0].sku", "order.inactive_sku")
    ]


@pytest.mark.parametrize("quantity", [0, -3])
def test_a_quantity_not_above_zero_is_refused_at_its_line(master: Database, quantity: int) -> None:
    assert refused(master, payload(lines=[("ABC-1", quantity)])) == [
        ("lines[0].quantity", "greater_than")
    ]


def test_a_postcode_that_does_not_fit_the_country_is_refused_at_the_ship_to(
    master: Database,
) -> None:
    body = payload(ship_to=catalog_data.address(postal_code="ABCDE"))

    assert refused(master, body) == [("ship_to.postal_code", "value_error")]


def test_an_unknown_country_is_refused_at_the_bill_to(master: Database) -> None:
    body = payload(bill_to=catalog_data.address(country="XX"))

    assert refused(master, body) == [("bill_to.country", "value_error")]


def test_a_currency_the_channel_does_not_sell_in_is_refused(master: Database) -> None:
    assert refused(master, payload(currency="EUR")) == [("currency", "order.currency_mismatch")]


def test_a_total_that_does_not_add_up_is_refused_at_that_total(master: Database) -> None:
    body = payload(lines=[("ABC-1", 2)], totals={"subtotal": "39.98", "total": "40.00"})

    assert refused(master, body) == [("totals.total", "order.totals_mismatch")]


def test_totals_are_compared_to_the_currencys_precision(master: Database) -> None:
    body = payload(lines=[("ABC-1", 2)], totals={"subtotal": "39.980", "total": "39.9800"})

    assert deliver(master, body).outcome == intake.Outcome.CREATED


def test_an_unknown_channel_is_refused(master: Database) -> None:
    assert refused(master, payload(channel="nowhere")) == [("channel", "order.unknown_channel")]


def test_an_inactive_channel_is_refused(master: Database) -> None:
    assert refused(master, payload(channel="closed")) == [("channel", "order.inactive_channel")]


def test_a_customer_id_that_names_nobody_is_refused(master: Database) -> None:
    assert refused(master, payload(customer={"id": 424242})) == [
        ("customer.id", "order.unknown_customer")
    ]


def test_an_account_number_that_names_nobody_is_refused(master: Database) -> None:
    assert refused(master, payload(customer={"account_number": "C-404"})) == [
        ("customer.account_number", "order.unknown_customer")
    ]


def test_a_payload_that_is_not_json_is_refused_at_the_body(master: Database) -> None:
    assert refused(master, "{not json") == [("body", "json_invalid")]


def test_every_problem_is_reported_at_once(master: Database) -> None:
    body = payload(lines=[("NOPE-1", 1), ("OLD-1", 1)], currency="EUR", totals={"total": "1.00"})

    assert refused(master, body) == [
        ("lines[0].sku", "order.unknown_sku"),
        ("lines[1].sku", "order.inactive_sku"),
        ("currency", "order.currency_mismatch"),
        ("totals.total", "order.totals_mismatch"),
    ]


def test_structure_and_address_problems_are_reported_together(master: Database) -> None:
    body = payload(lines=[("ABC-1", 0)], ship_to=catalog_data.address(postal_code="ABCDE"))

    assert refused(master, body) == [
        ("ship_to.postal_code", "value_error"),
        ("lines[0].quantity", "greater_than"),
    ]


def test_a_refused_order_leaves_nothing_behind(master: Database) -> None:
    refused(master, payload(lines=[("NOPE-1", 1)]))

    assert counts(master) == (0, 0)


# -- channels that hold instead of refusing ---------------------------------------------


def test_an_unknown_sku_is_held_for_a_channel_that_holds_and_its_line_is_not_reserved(
    master: Database,
) -> None:
    result = deliver(master, payload(channel="lenient", lines=[("ABC-1", 1), ("NOPE-1", 2)]))

    assert result.outcome == intake.Outcome.CREATED
    assert [(h.type, h.reason) for h in result.holds] == [
        (
            HoldType.MANUAL,
            "invalid order: lines[1].sku: no item has the SKU 'NOPE-1' (order.unknown_sku)",
        )
    ]
    with master.transaction() as session:
        order, lines = factories.stored(session, result.order.id)
        assert [(line.sku, line.item_id is None, line.allocated) for line in lines] == [
            ("ABC-1", False, 1),
            ("NOPE-1", True, 0),
        ]
        assert order.status == OrderStatus.PARTIALLY_ALLOCATED


def test_a_bad_address_is_held_on_an_address_hold_and_kept_as_sent(master: Database) -> None:
    address = catalog_data.address(postal_code="ABCDE")

    result = deliver(master, payload(channel="lenient", ship_to=address))

    assert [h.type for h in result.holds] == [HoldType.ADDRESS]
    assert [(p.path, p.code) for p in result.problems] == [("ship_to.postal_code", "value_error")]
    with master.transaction() as session:
        order, _ = factories.stored(session, result.order.id)
        assert order.ship_to == address


def test_an_order_with_several_kinds_of_problem_gets_a_hold_of_each_type(
    master: Database,
) -> None:
    body = payload(
        channel="lenient",
        currency="EUR",
        lines=[("NOPE-1", 1)],
        ship_to=catalog_data.address(postal_code="ABCDE"),
    )

    result = deliver(master, body)

    assert [h.type for h in result.holds] == [HoldType.ADDRESS, HoldType.MANUAL]
    with master.transaction() as session:
        events = [e.type for e in repository.events_of(session, result.order.id)]
        assert events == ["created", "held", "held"]


def test_a_held_order_delivered_again_unchanged_is_a_duplicate(master: Database) -> None:
    body = payload(channel="lenient", ship_to=catalog_data.address(postal_code="ABCDE"))
    first = deliver(master, body)

    again = deliver(master, json.dumps(body))

    assert again.outcome == intake.Outcome.DUPLICATE
    assert again.order.id == first.order.id


def test_a_held_order_delivered_again_with_another_bad_address_is_refused(
    master: Database,
) -> None:
    deliver(master, payload(channel="lenient", ship_to=catalog_data.address(postal_code="ABCDE")))

    problems = refused(
        master, payload(channel="lenient", ship_to=catalog_data.address(postal_code="XYZ"))
    )

    assert problems == [("ship_to.postal_code", "value_error")]


def test_other_structure_problems_are_refused_even_for_a_channel_that_holds(
    master: Database,
) -> None:
    body = payload(channel="lenient", lines=[("ABC-1", 0)])

    assert refused(master, body) == [("lines[0].quantity", "greater_than")]


def test_a_scoped_sender_cannot_hold_orders_on_a_channel_it_does_not_see(
    master: Database,
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        deliver(master, payload(channel="lenient"), actor=factories.scoped("web"))

    assert [p.code for p in failure.value.problems] == ["order.unknown_channel"]
