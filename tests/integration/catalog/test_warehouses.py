"""Warehouse services against the real database: scope, audit, no-op updates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.catalog import repository, warehouses
from oms.catalog.schemas import WarehouseCreate, WarehouseUpdate
from oms.db import Database
from oms.errors import PermissionDenied
from oms.kit.paging import PageRequest
from tests.integration.catalog import factories

DAL_ONLY = Principal(
    kind="api_key", id=3, name="dal", roles=frozenset({Role.ADMIN}), warehouses=frozenset({"DAL"})
)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as tx:
        yield tx


def add(session: Session, code: str, **overrides: object) -> None:
    data = WarehouseCreate.model_validate(factories.warehouse(code, **overrides))
    warehouses.create_warehouse(session, data, actor=SYSTEM)


def test_a_new_warehouse_is_audited_and_announced(session: Session) -> None:
    add(session, "DAL")

    assert factories.audit_actions(session, "warehouse", "DAL") == ["warehouse.created"]
    assert factories.event_topics(session, "warehouse:DAL") == ["warehouse.created"]


def test_the_country_column_follows_the_address(session: Session) -> None:
    add(session, "TOR", address=factories.address(postal_code="M5J 2X2", country="CA"))

    assert warehouses.get_warehouse(session, "TOR", actor=SYSTEM).country == "CA"


def test_an_update_that_changes_nothing_writes_nothing(session: Session) -> None:
    add(session, "DAL")

    warehouses.update_warehouse(
        session, "DAL", WarehouseUpdate(name="DAL DC", latitude=32.78), actor=SYSTEM
    )

    assert warehouses.get_warehouse(session, "DAL", actor=SYSTEM).version == 1
    assert factories.audit_actions(session, "warehouse", "DAL") == ["warehouse.created"]


def test_a_search_shows_only_the_warehouses_in_scope(session: Session) -> None:
    add(session, "ATL")
    add(session, "DAL")

    found = warehouses.search_warehouses(
        session, repository.WarehouseFilter(), PageRequest(), actor=DAL_ONLY
    )

    assert [w.code for w in found.items] == ["DAL"]


def test_a_search_by_a_channel_beyond_the_scope_finds_nothing(session: Session) -> None:
    add(session, "DAL")
    web_only = Principal(
        kind="api_key", id=4, name="web", roles=frozenset({Role.ADMIN}), channels=frozenset({"web"})
    )

    found = warehouses.search_warehouses(
        session, repository.WarehouseFilter(channel="amazon"), PageRequest(), actor=web_only
    )

    assert found.items == []


def test_a_warehouse_beyond_the_scope_is_not_found(session: Session) -> None:
    add(session, "ATL")

    with pytest.raises(warehouses.WarehouseNotFound):
        warehouses.get_warehouse(session, "ATL", actor=DAL_ONLY)


def test_a_scoped_principal_may_not_add_a_warehouse_beyond_its_scope(session: Session) -> None:
    data = WarehouseCreate.model_validate(factories.warehouse("ATL"))

    with pytest.raises(PermissionDenied):
        warehouses.create_warehouse(session, data, actor=DAL_ONLY)
