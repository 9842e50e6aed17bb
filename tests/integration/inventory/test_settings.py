"""Safety stock: the most specific rule wins. Reorder settings: one style at a time."""

from __future__ import annotations

import pytest

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.errors import ValidationFailed
from oms.inventory import balances, settings
from oms.inventory.settings import ReorderInput
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        for sku in ("A", "B"):
            factories.item(session, sku)
        for code in ("DAL", "NJ"):
            factories.warehouse(session, code)
            for sku in ("A", "B"):
                factories.stock(session, sku, code, 20)
    return db


def safety(db: Database) -> dict[tuple[str, str], int]:
    with db.transaction() as session:
        return {
            (found.sku, found.warehouse): found.safety_stock
            for found in balances.stock_lines(session, actor=SYSTEM)
        }


def test_the_most_specific_safety_stock_rule_wins(stocked: Database) -> None:
    with stocked.transaction() as session:
        settings.set_safety_stock(session, warehouse="DAL", quantity=2, actor=SYSTEM)
        settings.set_safety_stock(session, sku="A", quantity=5, actor=SYSTEM)
        settings.set_safety_stock(session, sku="A", warehouse="NJ", quantity=9, actor=SYSTEM)

    assert safety(stocked) == {
        ("A", "DAL"): 5,
        ("A", "NJ"): 9,
        ("B", "DAL"): 2,
        ("B", "NJ"): 0,
    }


def test_removing_a_rule_falls_back_to_the_next_one(stocked: Database) -> None:
    with stocked.transaction() as session:
        settings.set_safety_stock(session, sku="A", quantity=5, actor=SYSTEM)
        settings.set_safety_stock(session, sku="A", warehouse="DAL", quantity=9, actor=SYSTEM)
        settings.set_safety_stock(session, sku="A", warehouse="DAL", quantity=None, actor=SYSTEM)

    assert safety(stocked)[("A", "DAL")] == 5


def test_a_new_balance_starts_with_the_rule_in_force(db: Database) -> None:
    with db.transaction() as session:
        factories.item(session, "A")
        factories.warehouse(session, "DAL")
        settings.set_safety_stock(session, sku="A", quantity=3, actor=SYSTEM)
        factories.stock(session, "A", "DAL", 10)

    assert safety(db) == {("A", "DAL"): 3}


def test_an_item_at_or_below_its_reorder_point_is_flagged(stocked: Database) -> None:
    with stocked.transaction() as session:
        settings.set_reorder(
            session,
            sku="A",
            warehouse="DAL",
            values=ReorderInput(reorder_point=20, reorder_quantity=50),
            actor=SYSTEM,
        )
        settings.set_reorder(
            session,
            sku="B",
            warehouse="DAL",
            values=ReorderInput(reorder_point=5, reorder_quantity=50),
            actor=SYSTEM,
        )

    with stocked.transaction() as session:
        low = balances.stock_lines(session, below_reorder_point=True, actor=SYSTEM)

    assert [(found.sku, found.warehouse) for found in low] == [("A", "DAL")]


def test_reorder_point_and_min_max_may_not_be_mixed(stocked: Database) -> None:
    with stocked.transaction() as session, pytest.raises(ValidationFailed) as raised:
        settings.set_reorder(
            session,
            sku="A",
            warehouse="DAL",
            values=ReorderInput(
                reorder_point=5, reorder_quantity=10, min_quantity=1, max_quantity=9
            ),
            actor=SYSTEM,
        )

    assert raised.value.problems[0].path == "min_quantity"
