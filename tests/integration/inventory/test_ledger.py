"""Adjustments, receipts, write-offs and transfers keep balances equal to the ledger."""

from __future__ import annotations

import pytest

from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM, Principal
from oms.db import Database
from oms.errors import NotFound, ValidationFailed
from oms.inventory import balances, ledger, transfers
from oms.inventory.errors import InsufficientStock, NegativeStock
from oms.inventory.transfers import TransferLineInput
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "ABC-1")
        factories.warehouse(session, "DAL")
        factories.warehouse(session, "NJ")
        factories.stock(session, "ABC-1", "DAL", 10)
    return db


def figures(db: Database, warehouse: str) -> tuple[int, int, int]:
    with db.transaction() as session:
        lines = balances.stock_lines(session, sku="ABC-1", warehouse=warehouse, actor=SYSTEM)
    return (lines[0].on_hand, lines[0].available, lines[0].inbound) if lines else (0, 0, 0)


def test_an_adjustment_needs_a_known_reason(stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(ValidationFailed) as raised:
        ledger.adjust(
            session, sku="ABC-1", warehouse="DAL", quantity=-1, reason="oops", actor=SYSTEM
        )

    assert raised.value.problems[0].path == "reason"


def test_an_adjustment_may_not_take_on_hand_below_zero(stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(NegativeStock) as raised:
        ledger.adjust(
            session, sku="ABC-1", warehouse="DAL", quantity=-11, reason="lost", actor=SYSTEM
        )

    assert raised.value.details["on_hand"] == 10
    assert figures(stocked, "DAL")[0] == 10


def test_a_warehouse_out_of_scope_does_not_exist_for_the_actor(stocked: Database) -> None:
    scoped = Principal(
        kind="api_key",
        id=9,
        name="nj",
        roles=frozenset({Role.WAREHOUSE}),
        warehouses=frozenset({"NJ"}),
    )

    with stocked.transaction() as session, pytest.raises(NotFound):
        ledger.adjust(
            session, sku="ABC-1", warehouse="DAL", quantity=1, reason="found", actor=scoped
        )


def test_a_transfer_ships_at_once_and_shows_inbound_until_received(stocked: Database) -> None:
    with stocked.transaction() as session:
        transfer = transfers.create_transfer(
            session,
            source="DAL",
            destination="NJ",
            lines=[TransferLineInput(sku="ABC-1", quantity=4)],
            actor=SYSTEM,
        )

    assert figures(stocked, "DAL") == (6, 6, 0)
    assert figures(stocked, "NJ") == (0, 0, 4)

    with stocked.transaction() as session:
        transfers.receive_transfer(session, transfer.id, actor=SYSTEM)

    assert figures(stocked, "NJ") == (4, 4, 0)
    with stocked.transaction() as session:
        assert balances.verify(session).ok


def test_a_transfer_may_only_take_available_stock(stocked: Database) -> None:
    from oms.inventory import reservations

    with stocked.transaction() as session:
        reservations.reserve(
            session, sku="ABC-1", warehouse="DAL", quantity=8, reference="SO-1", actor=SYSTEM
        )

    with stocked.transaction() as session, pytest.raises(InsufficientStock) as raised:
        transfers.create_transfer(
            session,
            source="DAL",
            destination="NJ",
            lines=[TransferLineInput(sku="ABC-1", quantity=3)],
            actor=SYSTEM,
        )

    assert raised.value.details["available"] == 2


def test_a_transfer_names_each_bad_line(stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(ValidationFailed) as raised:
        transfers.create_transfer(
            session,
            source="DAL",
            destination="NJ",
            lines=[TransferLineInput("ABC-1", 1), TransferLineInput("ABC-1", 0)],
            actor=SYSTEM,
        )

    assert [p.path for p in raised.value.problems] == ["lines[1].quantity", "lines[1].sku"]
