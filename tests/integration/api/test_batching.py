"""The reservation batcher: concurrent callers share transactions and never oversell."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from oms.api.batching import ReservationBatcher
from oms.auth.principal import SYSTEM
from oms.catalog import repository as catalog
from oms.db import Database
from oms.inventory import balances
from oms.inventory.batch import Granted, ReservationRequest
from tests.integration.inventory import factories


def test_two_hundred_callers_get_exactly_the_hundred_units_there_are(db: Database) -> None:
    with db.transaction() as session:
        factories.item(session, "HOT-1")
        factories.warehouse(session, "DAL")
        factories.stock(session, "HOT-1", "DAL", 100)
        item = catalog.item_by_sku(session, "HOT-1")
        warehouse = catalog.warehouse_by_code(session, "DAL")
        assert item is not None
        assert warehouse is not None
        template = ReservationRequest(
            item_id=item.id,
            sku="HOT-1",
            warehouse_id=warehouse.id,
            warehouse="DAL",
            quantity=1,
            reference="",
        )
    batcher = ReservationBatcher(db)

    def ask(n: int) -> bool:
        future = batcher.submit(
            ReservationRequest(**{**template.__dict__, "reference": f"SO-{n}"}), actor=SYSTEM
        )
        return isinstance(future.result(timeout=30), Granted)

    try:
        with ThreadPoolExecutor(50) as pool:
            granted = sum(pool.map(ask, range(200)))
    finally:
        batcher.stop()

    assert granted == 100
    assert batcher.batches < 200
    with db.transaction() as session:
        assert balances.verify(session).ok
