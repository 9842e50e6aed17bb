"""Supplier services against the real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from oms.auth.principal import SYSTEM
from oms.catalog import suppliers
from oms.catalog.schemas import SupplierCreate, SupplierUpdate
from oms.db import Database
from tests.integration.catalog import factories


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as tx:
        yield tx


def add(session: Session, code: str = "ACME", **overrides: object) -> None:
    data = SupplierCreate.model_validate(factories.supplier(code, **overrides))
    suppliers.create_supplier(session, data, actor=SYSTEM)


def test_a_new_supplier_is_audited_and_announced(session: Session) -> None:
    add(session)

    assert factories.audit_actions(session, "supplier", "ACME") == ["supplier.created"]
    assert factories.event_topics(session, "supplier:ACME") == ["supplier.created"]


def test_the_country_column_follows_the_address(session: Session) -> None:
    add(session)

    suppliers.update_supplier(
        session,
        "ACME",
        SupplierUpdate.model_validate({"address": factories.address()}),
        actor=SYSTEM,
    )

    assert suppliers.get_supplier(session, "ACME").country == "US"


def test_contacts_are_replaced_whole(session: Session) -> None:
    add(session)

    suppliers.update_supplier(
        session,
        "ACME",
        SupplierUpdate.model_validate({"contacts": [{"name": "Bo", "phone": "+1 415 555 0199"}]}),
        actor=SYSTEM,
    )

    assert suppliers.get_supplier(session, "ACME").contacts == [
        {"name": "Bo", "email": None, "phone": "+14155550199", "role": None}
    ]


def test_a_supplier_code_is_found_despite_surrounding_blanks(session: Session) -> None:
    add(session)

    assert suppliers.get_supplier(session, " ACME ").code == "ACME"
