"""Backorder benchmark: 100k backordered lines served as stock arrives, wall time.

Builds, in a fresh migrated database per backend, a network (3 channels over
10 warehouses in rank order), a catalogue of SKUs, and orders whose every line
is backordered (by default 20k orders × 5 lines over 500 SKUs, priorities 0–9
skewed low, a ship-by on a third of them, placed over the last 30 days) with
bulk inserts rather than intake; then stock arrives for every item (an
adjustment posted to the ledger, about 80 % of the demand spread over the
warehouses) and `reallocate_backorders` is timed in one transaction, commit
included. The goal (issue 5): under 10 s for 100k backorders. After the run the
ledger and reservations are verified.

With `--phases` the timed run also prints where the time went: each step of the
pass in the caller's thread (inclusive wall time and calls, steps nested inside
others included in theirs; `_Writer.wait` is the pass waiting for what it
queued), the statements sent through SQLAlchemy, and each statement the helper
thread of `bulk.writing_behind` sent for the pass (COPY, INSERT … SELECT over
JSON, UPDATE … FROM), with when it started and ended.

    .venv/bin/python bench/backorders.py [--orders 20000] [--lines 5] [--skus 500]
        [--backends sqlite postgresql] [--seed 7] [--phases]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import importlib
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, cast

# The script's folder is on sys.path when run as `python bench/<name>.py`.
from databases import postgres_database, sqlite_database
from sqlalchemy import Table, bindparam, event, func, insert, select, update

from oms import migrate
from oms.auth.principal import SYSTEM
from oms.catalog.models import Channel, ChannelWarehouse, Item, Warehouse
from oms.db import Database
from oms.inventory import balances
from oms.inventory.models import Balance, Movement, MovementKind
from oms.orders import backorders
from oms.orders.models import OrderLine, OrderStatus, SalesOrder

WAREHOUSES = 10
CHANNELS = ("web", "amazon", "b2b")
CHUNK = 10_000
GOAL_SECONDS = 10.0
PHASES = (
    # (module, function): the steps of the pass timed by --phases; absent ones are skipped.
    ("oms.orders.repository", "servable_backorders"),
    ("oms.orders.backorders", "_share"),
    ("oms.orders.backorders", "_settle"),
    ("oms.kit.bulk", "next_ids"),
    ("oms.orders.backorders", "grant_many"),
    ("oms.orders.repository", "move_backordered_to_allocated"),
    ("oms.orders.backorders", "record_granted"),
    ("oms.orders.backorders", "_record"),
    ("oms.orders.backorders", "_events"),
    ("oms.orders.backorders", "_statuses"),
    ("oms.kit.bulk", "_Writer.wait"),  # the pass waiting for what it queued
)
BEHIND = ("oms.kit.bulk", "_raising_as_sqlalchemy")
"""What wraps each statement the helper thread of `bulk.writing_behind` sends, timed too."""


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def build(database: Database, args: argparse.Namespace) -> dict[int, int]:
    """The network, catalogue and backordered orders; item id → units backordered."""
    rng = random.Random(args.seed)
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        session.execute(
            insert(Warehouse),
            [
                {
                    "code": f"W{n:02d}",
                    "name": f"Warehouse {n}",
                    "type": "own",
                    "address": {"line1": "1 Main St", "city": "Dallas", "country": "US"},
                    "country": "US",
                    "attributes": {},
                }
                for n in range(1, WAREHOUSES + 1)
            ],
        )
        session.execute(
            insert(Channel),
            [
                {"code": code, "name": code, "type": "web_shop", "currency": "USD", "settings": {}}
                for code in CHANNELS
            ],
        )
        warehouse_ids = list(session.scalars(select(Warehouse.id).order_by(Warehouse.id)))
        channel_ids = list(session.scalars(select(Channel.id).order_by(Channel.id)))
        links = []
        for c, channel_id in enumerate(channel_ids):
            # Each channel ranks its own 6 of the 10 warehouses, starting elsewhere.
            mine = [warehouse_ids[(c * 3 + k) % WAREHOUSES] for k in range(6)]
            links += [
                {"channel_id": channel_id, "warehouse_id": w, "rank": rank}
                for rank, w in enumerate(mine)
            ]
        session.execute(insert(ChannelWarehouse), links)
        session.execute(
            insert(Item),
            [
                {"sku": f"SKU-{n:05d}", "name": f"Item {n}", "attributes": {}}
                for n in range(1, args.skus + 1)
            ],
        )
        items = list(session.execute(select(Item.id, Item.sku).order_by(Item.id)))
        session.execute(
            insert(Balance),
            [
                {"item_id": i, "warehouse_id": w, "on_hand": 0, "reserved": 0}
                for i, _ in items
                for w in warehouse_ids
            ],
        )

    # Popular SKUs are popular: a few take most lines.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(items))]
    demand: dict[int, int] = {}
    order_rows = []
    for n in range(1, args.orders + 1):
        order_rows.append(
            {
                "number": f"SO-{n:06d}",
                "channel_id": rng.choice(channel_ids),
                "external_id": f"EXT-{n}",
                "ship_to": {"country": "US", "postal_code": "75201"},
                "currency": "USD",
                "subtotal": Decimal("10.00"),
                "total": Decimal("10.00"),
                "service_level": "standard",
                "ship_by": now + dt.timedelta(days=rng.randint(1, 10)) if n % 3 == 0 else None,
                "priority": min(9, int(rng.expovariate(0.7))),
                "attributes": {},
                "status": OrderStatus.BACKORDERED,
                "accepted": True,
                "content_hash": f"{n:064d}",
                "placed_at": now - dt.timedelta(minutes=rng.randint(0, 30 * 24 * 60)),
                "created_at": now,
                "updated_at": now,
            }
        )
    with database.transaction() as session:
        for part in chunks(order_rows):
            session.execute(insert(SalesOrder), part)
        order_ids = list(session.scalars(select(SalesOrder.id).order_by(SalesOrder.id)))
    line_rows = []
    for order_id in order_ids:
        picked = rng.choices(items, weights=weights, k=args.lines * 2)
        chosen = list(dict.fromkeys(picked))[: args.lines]
        for number, (item_id, sku) in enumerate(chosen, start=1):
            quantity = rng.randint(1, 4)
            demand[item_id] = demand.get(item_id, 0) + quantity
            line_rows.append(
                {
                    "order_id": order_id,
                    "line_number": number,
                    "item_id": item_id,
                    "sku": sku,
                    "quantity": quantity,
                    "unit_price": Decimal("2.00"),
                    "backordered": quantity,
                    "attributes": {},
                }
            )
    with database.transaction() as session:
        for part in chunks(line_rows):
            session.execute(insert(OrderLine), part)
    return demand


def stock_arrives(database: Database, demand: dict[int, int], seed: int) -> int:
    """About 80 % of each item's demand adjusted in, spread over the warehouses; units."""
    rng = random.Random(seed + 1)
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        warehouse_ids = list(session.scalars(select(Warehouse.id).order_by(Warehouse.id)))
        arrivals = []
        for item_id, units in demand.items():
            total = int(units * 0.8)
            there = rng.sample(warehouse_ids, 4)
            shares = [total // 4] * 3 + [total - 3 * (total // 4)]
            arrivals += [(item_id, w, q) for w, q in zip(there, shares, strict=True) if q > 0]
        session.execute(
            insert(Movement),
            [
                {
                    "item_id": i,
                    "warehouse_id": w,
                    "kind": MovementKind.ADJUSTMENT,
                    "on_hand_delta": q,
                    "reserved_delta": 0,
                    "reason": "cycle_count",
                    "actor": "bench",
                    "at": now,
                }
                for i, w, q in arrivals
            ],
        )
        table = cast(Table, Balance.__table__)
        session.execute(
            update(table)
            .where(table.c.item_id == bindparam("b_item"), table.c.warehouse_id == bindparam("b_w"))
            .values(on_hand=table.c.on_hand + bindparam("b_q")),
            [{"b_item": i, "b_w": w, "b_q": q} for i, w, q in arrivals],
        )
    return sum(q for _, _, q in arrivals)


class Phases:
    """Inclusive wall time and calls of the pass's steps, and the SQL it sent."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}
        self.behind: list[tuple[str, float, float]] = []
        self.sql = [0, 0.0]
        self._started: list[float] = []
        self._begun = time.perf_counter()

    @contextlib.contextmanager
    def watching(self, database: Database) -> Iterator[None]:
        undo = []
        for module_name, path in PHASES:
            owner: Any = importlib.import_module(module_name)
            *outer, name = path.split(".")
            for part in outer:
                owner = getattr(owner, part, None)
            original = getattr(owner, name, None)
            if original is None:
                continue
            setattr(owner, name, self._timed(f"{module_name.rsplit('.', 1)[-1]}.{path}", original))
            undo.append((owner, name, original))
        module = importlib.import_module(BEHIND[0])
        original = getattr(module, BEHIND[1], None)
        if original is not None:
            setattr(module, BEHIND[1], self._behind(original))
            undo.append((module, BEHIND[1], original))
        self._begun = time.perf_counter()
        event.listen(database.engine, "before_cursor_execute", self._before)
        event.listen(database.engine, "after_cursor_execute", self._after)
        try:
            yield
        finally:
            event.remove(database.engine, "before_cursor_execute", self._before)
            event.remove(database.engine, "after_cursor_execute", self._after)
            for owner, name, original in undo:
                setattr(owner, name, original)

    def _timed(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                entry = self.spent.setdefault(label, [0.0, 0])
                entry[0] += time.perf_counter() - started
                entry[1] += 1

        return timed

    def _behind(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(send: Callable[[], None], sql: str, *rest: Any) -> Callable[[], None]:
            inner = original(send, sql, *rest)

            def job() -> None:
                started = time.perf_counter()
                try:
                    inner()
                finally:
                    ended = time.perf_counter()
                    self.behind.append((" ".join(sql.split()[:3]), started, ended))

            return job

        return wrapped

    def _before(self, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_: Any) -> None:
        self.sql[0] += 1
        self.sql[1] += time.perf_counter() - self._started.pop()

    def report(self) -> str:
        lines = [
            f"{'':10}   {label:45} {seconds:6.2f} s  ×{calls}"
            for label, (seconds, calls) in self.spent.items()
        ]
        label = "statements through SQLAlchemy"
        lines.append(f"{'':10}   {label:45} {self.sql[1]:6.2f} s  ×{self.sql[0]}")
        if self.behind:
            lines.append(f"{'':10}   written behind the pass (seconds from its start):")
            lines += [
                f"{'':10}     {head[:43]:43} {started - self._begun:6.2f} → "
                f"{ended - self._begun:5.2f}  ({ended - started:.2f} s)"
                for head, started, ended in self.behind
            ]
        return "\n".join(lines)


def run(
    backend: str,
    make: Callable[[], contextlib.AbstractContextManager[str]],
    args: argparse.Namespace,
) -> None:
    with make() as url:
        database = Database(url)
        try:
            migrate.upgrade(database.engine)
            started = time.perf_counter()
            demand = build(database, args)
            built = time.perf_counter() - started
            arrived = stock_arrives(database, demand, args.seed)
            with database.transaction() as session:
                backordered = session.scalar(select(func.sum(OrderLine.backordered))) or 0
                lines = session.scalar(
                    select(func.count()).select_from(OrderLine).where(OrderLine.backordered > 0)
                )
            phases = Phases()
            watching = phases.watching(database) if args.phases else contextlib.nullcontext()
            with watching:
                started = time.perf_counter()
                with database.transaction() as session:
                    done = backorders.reallocate_backorders(session, actor=SYSTEM, limit=10_000_000)
                wall = time.perf_counter() - started
            with database.transaction() as session:
                left = session.scalar(select(func.sum(OrderLine.backordered))) or 0
                verified = balances.verify(session).ok
            verdict = "ok" if wall < GOAL_SECONDS else "OVER GOAL"
            print(
                f"{backend:10} built {lines:,} backordered lines ({backordered:,} units) in "
                f"{built:.1f} s; {arrived:,} units arrived\n"
                f"{'':10} re-allocated {done.lines:,} lines / {done.units:,} units of "
                f"{done.orders:,} orders in {wall:.2f} s ({verdict}, goal < {GOAL_SECONDS:.0f} s); "
                f"{left:,} units still backordered; ledger verified: {verified}"
            )
            if args.phases:
                print(phases.report())
        finally:
            database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--phases", action="store_true", help="print where the time went")
    args = parser.parse_args()
    makers = {"sqlite": sqlite_database, "postgresql": postgres_database}
    for backend in args.backends:
        run(backend, makers[backend], args)


if __name__ == "__main__":
    main()
