"""Many reservations at once: each item and warehouse's requests granted together, in
arrival order, as far as its stock goes."""

from __future__ import annotations

import pytest

from oms.auth.principal import SYSTEM
from oms.catalog import repository as catalog
from oms.db import Database
from oms.inventory import balances
from oms.inventory.batch import Granted, ReservationRequest, reserve_many
from oms.inventory.errors import InsufficientStock
from tests.integration.inventory import factories


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "A")
        factories.item(session, "B")
        factories.warehouse(session, "DAL")
        factories.stock(session, "A", "DAL", 10)
        factories.stock(session, "B", "DAL", 1)
    return db


def request(db: Database, sku: str, quantity: int, reference: str) -> ReservationRequest:
    with db.transaction() as session:
        item = catalog.item_by_sku(session, sku)
        warehouse = catalog.warehouse_by_code(session, "DAL")
        assert item is not None
        assert warehouse is not None
        return ReservationRequest(
            item_id=item.id,
            sku=sku,
            warehouse_id=warehouse.id,
            warehouse="DAL",
            quantity=quantity,
            reference=reference,
        )


def test_requests_are_granted_in_order_until_stock_runs_out(stocked: Database) -> None:
    wanted = [
        request(stocked, "A", 4, "r1"),
        request(stocked, "B", 1, "r2"),
        request(stocked, "A", 5, "r3"),
        request(stocked, "A", 2, "r4"),
        request(stocked, "A", 1, "r5"),
    ]

    with stocked.transaction() as session:
        outcomes = reserve_many(session, wanted, actor=SYSTEM)

    granted = [isinstance(o, Granted) for o in outcomes]
    assert granted == [True, True, True, False, False]
    refused = outcomes[3]
    assert isinstance(refused, InsufficientStock)
    assert refused.details["available"] == 1
    with stocked.transaction() as session:
        assert balances.verify(session).ok


def test_granted_reservations_carry_their_own_ids_and_references(stocked: Database) -> None:
    wanted = [request(stocked, "A", 1, f"r{n}") for n in range(3)]

    with stocked.transaction() as session:
        outcomes = reserve_many(session, wanted, actor=SYSTEM)

    assert [o.request.reference for o in outcomes if isinstance(o, Granted)] == ["r0", "r1", "r2"]
    assert len({o.id for o in outcomes if isinstance(o, Granted)}) == 3


def test_many_items_at_once_get_what_each_one_s_stock_allows(db: Database) -> None:
    # Enough pairs for PostgreSQL's one-statement path; item S9 has no balance at all.
    skus = [f"S{n}" for n in range(10)]
    with db.transaction() as session:
        factories.warehouse(session, "DAL")
        for sku in skus:
            factories.item(session, sku)
            if sku != "S9":
                factories.stock(session, sku, "DAL", 3 if sku == "S0" else 5)
    wanted = [request(db, sku, 2, f"{sku}-a") for sku in skus] + [
        request(db, sku, 2, f"{sku}-b") for sku in skus
    ]

    with db.transaction() as session:
        outcomes = reserve_many(session, wanted, actor=SYSTEM)

    granted = {o.request.reference for o in outcomes if isinstance(o, Granted)}
    # S0 holds 3: its first request fits, not both; S9 holds nothing.
    assert granted == {f"{s}-{x}" for s in skus[1:9] for x in "ab"} | {"S0-a"}
    refused = outcomes[skus.index("S0") + len(skus)]
    assert isinstance(refused, InsufficientStock)
    assert refused.details["available"] == 1
    with db.transaction() as session:
        lines = balances.stock_lines(session, warehouse="DAL", actor=SYSTEM)
        stored = {line.sku: line.reserved for line in lines}
        assert stored == {"S0": 2, **dict.fromkeys(skus[1:9], 4)}
        assert balances.verify(session).ok
