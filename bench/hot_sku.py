"""Hot-SKU benchmark: successful reservations per second on one SKU, on PostgreSQL.

For 8, 64 and 256 concurrent clients it measures, each for `--seconds`:

- raw:      a naive loop, one conditional single-row UPDATE per transaction
            (the ceiling of "one reservation = one commit" on this machine);
- service:  `inventory.reservations.reserve`, one reservation per transaction;
- batched:  the same requests through `ReservationBatcher` (the path the API takes);
- http:     POST /api/v1/reservations against `oms serve` (two workers), with
            `--http` only; driven by wrk when it is installed (`apt-get install
            wrk`: the load generator then costs little CPU), else by httpx.

Clients are threads (raw, service, batched) or asyncio tasks (http). Stock is
large enough that every attempt can succeed. A fresh database is made for the
run and dropped after.

    .venv/bin/python bench/hot_sku.py [--clients 8 64 256] [--seconds 5] [--http]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, text

from oms import migrate
from oms.api.batching import ReservationBatcher
from oms.auth import service as auth
from oms.auth.principal import SYSTEM
from oms.catalog import items, repository, warehouses
from oms.catalog.schemas import ItemCreate, WarehouseCreate
from oms.db import Database
from oms.inventory import balances, ledger, reservations
from oms.inventory.batch import Granted, ReservationRequest

ADMIN_URL = os.environ.get("OMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STOCK = 50_000_000


def make_database() -> tuple[str, str]:
    name = f"oms_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(database: Database) -> ReservationRequest:
    migrate.upgrade(database.engine)
    with database.transaction() as session:
        items.create_item(session, ItemCreate(sku="HOT-1", name="Hot item"), actor=SYSTEM)
        warehouses.create_warehouse(
            session,
            WarehouseCreate.model_validate(
                {
                    "code": "DAL",
                    "name": "Dallas",
                    "type": "own",
                    "address": {
                        "line1": "1 Main",
                        "city": "Dallas",
                        "postal_code": "75201",
                        "country": "US",
                    },
                }
            ),
            actor=SYSTEM,
        )
        ledger.adjust(
            session,
            sku="HOT-1",
            warehouse="DAL",
            quantity=STOCK,
            reason="initial_load",
            actor=SYSTEM,
        )
        item = repository.item_by_sku(session, "HOT-1")
        warehouse = repository.warehouse_by_code(session, "DAL")
        assert item is not None
        assert warehouse is not None
        return ReservationRequest(
            item_id=item.id,
            sku="HOT-1",
            warehouse_id=warehouse.id,
            warehouse="DAL",
            quantity=1,
            reference="bench",
        )


def run_threads(clients: int, seconds: float, attempt: Callable[[int], bool]) -> float:
    """Successful attempts per second with `clients` threads looping for `seconds`."""
    deadline = time.monotonic() + seconds
    counts = [0] * clients

    def loop(slot: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            if attempt(slot):
                n += 1
        counts[slot] = n

    threads = [threading.Thread(target=loop, args=(s,)) for s in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def raw(url: str, clients: int, seconds: float) -> float:
    engine = create_engine(url, pool_size=min(clients, 80), max_overflow=0, pool_timeout=60)
    with engine.begin() as connection:
        # A scratch copy of the balance row, so the naive loop leaves the real ledger alone.
        connection.execute(text("DROP TABLE IF EXISTS bench_raw_balance"))
        connection.execute(
            text("CREATE TABLE bench_raw_balance AS SELECT * FROM inventory_balances")
        )
    statement = text(
        "UPDATE bench_raw_balance SET reserved = reserved + 1 "
        "WHERE item_id = 1 AND warehouse_id = 1 AND on_hand - reserved - safety_stock >= 1"
    )

    def attempt(_: int) -> bool:
        with engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)

    try:
        return run_threads(clients, seconds, attempt)
    finally:
        engine.dispose()


def service(database: Database, clients: int, seconds: float) -> float:
    def attempt(slot: int) -> bool:
        with database.transaction() as session:
            reservations.reserve(
                session,
                sku="HOT-1",
                warehouse="DAL",
                quantity=1,
                reference=f"c{slot}",
                actor=SYSTEM,
            )
        return True

    return run_threads(clients, seconds, attempt)


def batched(
    database: Database, template: ReservationRequest, clients: int, seconds: float
) -> tuple[float, int]:
    batcher = ReservationBatcher(database)

    def attempt(_: int) -> bool:
        return isinstance(batcher.submit(template, actor=SYSTEM).result(timeout=60), Granted)

    try:
        rate = run_threads(clients, seconds, attempt)
    finally:
        batcher.stop()
    return rate, batcher.batches


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(url: str, database: Database, clients: int, seconds: float) -> float:
    with database.transaction() as session:
        secret = auth.create_api_key(session, name="bench", roles=["admin"], actor=SYSTEM).secret
    port = free_port()
    env = {
        **os.environ,
        "OMS_DATABASE_URL": url,
        "OMS_LOG_LEVEL": "WARNING",
        "OMS_LOG_FORMAT": "json",
        "OMS_EMBEDDED_WORKER": "false",
        "OMS_ADMIN_PASSWORD": "a bench password",
    }
    oms = str(Path(sys.executable).parent / "oms")
    server = subprocess.Popen(
        [oms, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        if shutil.which("wrk"):
            return _wrk_load(base, secret, clients, seconds)
        return asyncio.run(_http_load(base, secret, clients, seconds))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"sku": "HOT-1", "warehouse": "DAL", "quantity": 1, "reference": "bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def _wrk_load(base: str, secret: str, clients: int, seconds: float) -> float:
    """Drive the server with wrk (C, two threads), so the load generator costs little CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % secret)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "-s",
            script.name,
            f"{base}/api/v1/reservations",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    duration = float(re.search(r"requests in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (total - (int(failed.group(1)) if failed else 0)) / duration


async def _http_load(base: str, secret: str, clients: int, seconds: float) -> float:
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"sku": "HOT-1", "warehouse": "DAL", "quantity": 1, "reference": "bench"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        deadline = time.monotonic() + seconds
        counts = [0] * clients

        async def loop(slot: int) -> None:
            while time.monotonic() < deadline:
                response = await client.post("/api/v1/reservations", json=body)
                if response.status_code == 201:
                    counts[slot] += 1

        started = time.monotonic()
        await asyncio.gather(*(loop(s) for s in range(clients)))
        return sum(counts) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 64, 256])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--http", action="store_true", help="also measure through HTTP")
    args = parser.parse_args()
    name, url = make_database()
    database = Database(url)
    try:
        template = seed(database)
        print(
            f"{'clients':>7} {'raw/s':>9} {'service/s':>10} {'batched/s':>10} "
            f"{'batches':>8} {'http/s':>8}"
        )
        for clients in args.clients:
            raw_rate = raw(url, clients, args.seconds)
            service_rate = service(database, clients, args.seconds)
            batched_rate, batches = batched(database, template, clients, args.seconds)
            http_rate = http(url, database, clients, args.seconds) if args.http else float("nan")
            print(
                f"{clients:>7} {raw_rate:>9.0f} {service_rate:>10.0f} {batched_rate:>10.0f} "
                f"{batches:>8} {http_rate:>8.0f}",
                flush=True,
            )
        with database.transaction() as session:
            report = balances.verify(session)
        print(f"ledger equals balances and reservations: {report.ok}")
    finally:
        database.dispose()
        drop_database(name)


if __name__ == "__main__":
    main()
