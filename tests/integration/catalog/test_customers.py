"""Customer services against the real database."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.catalog import customers, repository
from oms.catalog.models import Customer
from oms.catalog.schemas import CustomerCreate, CustomerUpdate
from oms.db import Database
from oms.kit.paging import PageRequest
from tests.integration.catalog import factories


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as tx:
        yield tx


def add(session: Session, payload: dict[str, object]) -> Customer:
    return customers.create_customer(session, CustomerCreate.model_validate(payload), actor=SYSTEM)


def test_a_new_customer_is_audited_and_announced_under_its_id(session: Session) -> None:
    customer = add(session, factories.b2c_customer())

    key = str(customer.id)
    assert factories.audit_actions(session, "customer", key) == ["customer.created"]
    assert factories.event_topics(session, f"customer:{key}") == ["customer.created"]


def test_the_first_email_is_the_one_orders_are_matched_by(session: Session) -> None:
    customer = add(session, factories.b2c_customer(emails=["A@x.example", "b@x.example"]))

    found = customers.search_customers(
        session, repository.CustomerFilter(email="a@x.example"), PageRequest()
    )

    assert customer.email == "a@x.example"
    assert [c.id for c in found.items] == [customer.id]


def test_a_credit_limit_is_kept_as_a_decimal(session: Session) -> None:
    customer = add(session, factories.b2b_customer(credit_limit="1234.5678"))

    session.expire(customer)

    assert customers.get_customer(session, customer.id).credit_limit == Decimal("1234.5678")


def test_an_update_that_changes_nothing_writes_nothing(session: Session) -> None:
    customer = add(session, factories.b2c_customer())

    customers.update_customer(session, customer.id, CustomerUpdate(name="Jane Doe"), actor=SYSTEM)

    assert customer.version == 1
    assert factories.audit_actions(session, "customer", str(customer.id)) == ["customer.created"]


def test_clearing_the_emails_clears_the_matching_email(session: Session) -> None:
    customer = add(session, factories.b2c_customer())

    customers.update_customer(session, customer.id, CustomerUpdate(emails=[]), actor=SYSTEM)

    assert customer.email is None


def test_the_create_schema_names_the_matching_email() -> None:
    data = CustomerCreate.model_validate(factories.b2c_customer(emails=["X@Y.example"]))

    assert data.email == "x@y.example"
