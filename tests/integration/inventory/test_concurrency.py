"""Concurrent reservations never oversell: many processes (PostgreSQL) or threads (SQLite)
race for the same units, and exactly the stock there is gets reserved."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from oms.auth.principal import SYSTEM
from oms.db import Database
from oms.inventory import balances, reservations, transfers
from oms.inventory.errors import InsufficientStock
from oms.inventory.transfers import TransferLineInput
from tests.integration.inventory import factories

WORKERS = 8
ATTEMPTS = 500
STOCK = 1000


def attempt_reservations(url: str, worker: int, attempts: int) -> int:
    """Try to reserve one unit `attempts` times, each in its own transaction; count successes."""
    database = Database(url)
    won = 0
    try:
        for n in range(attempts):
            try:
                with database.transaction() as session:
                    reservations.reserve(
                        session,
                        sku="HOT-1",
                        warehouse="DAL",
                        quantity=1,
                        reference=f"w{worker}-{n}",
                        actor=SYSTEM,
                    )
                won += 1
            except InsufficientStock:
                pass
    finally:
        database.dispose()
    return won


@pytest.fixture
def hot_item(db: Database) -> Database:
    with db.transaction() as session:
        factories.item(session, "HOT-1")
        factories.warehouse(session, "DAL")
        factories.stock(session, "HOT-1", "DAL", STOCK)
    return db


class AvailabilityWatch:
    """Samples the raw available figure while the race runs; it must never go below zero."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.lowest = STOCK
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> AvailabilityWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = text("SELECT on_hand - reserved - safety_stock FROM inventory_balances")
        while not self._stop.wait(0.01):
            with self.db.engine.connect() as connection:
                self.lowest = min(self.lowest, int(connection.execute(query).scalar_one()))
            self.samples += 1


def outcome(db: Database) -> tuple[int, int, bool]:
    with db.transaction() as session:
        [line] = balances.stock_lines(session, sku="HOT-1", actor=SYSTEM)
        return line.reserved, line.available, balances.verify(session).ok


@pytest.mark.postgres_only
def test_eight_processes_reserve_exactly_the_stock_there_is(hot_item: Database) -> None:
    context = multiprocessing.get_context("spawn")

    with AvailabilityWatch(hot_item) as watch, context.Pool(WORKERS) as pool:
        won = pool.starmap(
            attempt_reservations, [(hot_item.url, w, ATTEMPTS) for w in range(WORKERS)]
        )

    assert sum(won) == STOCK
    assert outcome(hot_item) == (STOCK, 0, True)
    assert watch.lowest >= 0
    assert watch.samples > 0


def test_eight_threads_reserve_exactly_the_stock_there_is(hot_item: Database) -> None:
    with AvailabilityWatch(hot_item) as watch, ThreadPoolExecutor(WORKERS) as pool:
        won = list(
            pool.map(
                attempt_reservations, [hot_item.url] * WORKERS, range(WORKERS), [ATTEMPTS] * WORKERS
            )
        )

    assert sum(won) == STOCK
    assert outcome(hot_item) == (STOCK, 0, True)
    assert watch.lowest >= 0


def shuttle(url: str, source: str, destination: str, times: int) -> int:
    """Transfer one unit of each of two items from `source` to `destination`, `times` times."""
    database = Database(url)
    done = 0
    try:
        for _ in range(times):
            with database.transaction() as session:
                transfers.create_transfer(
                    session,
                    source=source,
                    destination=destination,
                    actor=SYSTEM,
                    lines=[TransferLineInput("T-1", 1), TransferLineInput("T-2", 1)],
                )
            done += 1
    finally:
        database.dispose()
    return done


def test_transfers_in_opposite_directions_do_not_deadlock(db: Database) -> None:
    with db.transaction() as session:
        for sku in ("T-1", "T-2"):
            factories.item(session, sku)
        for code in ("DAL", "NJ"):
            factories.warehouse(session, code)
            for sku in ("T-1", "T-2"):
                factories.stock(session, sku, code, 100)

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(shuttle, [db.url] * 4, ["DAL", "NJ"] * 2, ["NJ", "DAL"] * 2, [40] * 4))

    assert done == [40, 40, 40, 40]
    with db.transaction() as session:
        assert balances.verify(session).ok
