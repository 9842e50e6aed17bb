"""The B2B credit check at intake: open orders plus this one over the limit → a credit hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.auth.principal import SYSTEM
from oms.catalog import customers
from oms.catalog.schemas import CustomerCreate
from oms.db import Database
from oms.orders import credit, lifecycle, repository
from oms.orders.models import HoldType
from tests.integration.catalog import factories as catalog_data
from tests.integration.inventory import factories as stock
from tests.integration.orders import factories
from tests.integration.orders.deliveries import deliver, payload

# ABC-1 at 19.99: 5 units are 99.95.
LIMIT = "100.00"


@pytest.fixture
def master(db: Database) -> Database:
    with db.transaction() as session:
        factories.master_data(session, on_hand={("ABC-1", "DAL"): 100})
        customers.create_customer(
            session,
            CustomerCreate.model_validate(catalog_data.b2b_customer("C-1", credit_limit=LIMIT)),
            actor=SYSTEM,
        )
    return db


def b2b_order(external_id: str, units: int, **overrides: Any) -> dict[str, Any]:
    return payload(
        external_id, customer={"account_number": "C-1"}, lines=[("ABC-1", units)], **overrides
    )


def test_a_b2b_order_within_the_credit_limit_is_not_held(master: Database) -> None:
    result = deliver(master, b2b_order("1", 5))

    assert result.holds == []


def test_a_b2b_order_over_the_credit_limit_is_put_on_credit_hold(master: Database) -> None:
    result = deliver(master, b2b_order("1", 6))

    assert [(h.type, h.reason) for h in result.holds] == [
        (
            HoldType.CREDIT,
            "open orders and this one come to 119.94 USD, over the credit limit of 100.00",
        )
    ]


def test_the_customers_open_orders_count_towards_the_limit(master: Database) -> None:
    deliver(master, b2b_order("1", 3))

    second = deliver(master, b2b_order("2", 3))

    assert [h.type for h in second.holds] == [HoldType.CREDIT]


def test_a_cancelled_order_no_longer_counts_towards_the_limit(master: Database) -> None:
    first = deliver(master, b2b_order("1", 3))
    with master.transaction() as session:
        lifecycle.cancel_order(session, first.order.id, reason="changed mind", actor=SYSTEM)

    second = deliver(master, b2b_order("2", 3))

    assert second.holds == []


def test_an_order_in_another_currency_than_the_limits_is_held_saying_why(
    master: Database,
) -> None:
    with master.transaction() as session:
        stock.channel(session, "eu", currency="EUR", warehouses=["DAL"])

    result = deliver(master, b2b_order("1", 1, channel="eu", currency="EUR"))

    assert [h.reason for h in result.holds] == [
        "orders in EUR cannot be weighed against the USD credit limit of 100.00"
    ]


def test_a_credit_hold_is_on_the_timeline(master: Database) -> None:
    result = deliver(master, b2b_order("1", 6))

    with master.transaction() as session:
        events = repository.events_of(session, result.order.id)
        assert [(e.type, e.data.get("type")) for e in events] == [
            ("created", None),
            ("held", "credit"),
        ]


def test_a_consumer_is_not_credit_checked(master: Database) -> None:
    result = deliver(master, payload("1", lines=[("ABC-1", 50)]))

    assert result.holds == []


def test_the_shortfall_names_the_exposure_and_the_limit() -> None:
    reason = credit.shortfall(
        Decimal(100), "USD", {"USD": Decimal("60.00")}, order_value=Decimal("40.01")
    )

    assert reason == "open orders and this one come to 100.01 USD, over the credit limit of 100.00"


def test_an_order_exactly_at_the_limit_fits() -> None:
    assert credit.shortfall(Decimal(100), "USD", {"USD": Decimal(60)}, Decimal(40)) is None
