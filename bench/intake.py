"""Intake benchmark: sales orders per second through HTTP, on PostgreSQL and on SQLite.

For each backend it makes a fresh database (PostgreSQL: a new database, dropped
after; SQLite: a file in a temporary folder), seeds a channel served by two
warehouses and `--skus` items with more stock than the run can take, starts
`oms serve --workers 2` as a subprocess, and measures:

- single: POST /api/v1/orders, one order per request, for `--seconds`, once for
  each number of clients in `--concurrency` (32, then 128: more requests in
  flight make larger intake batches, more throughput and longer waits); orders/s,
  p50 and p99 latency. wrk drives them when it is installed (Debian's package
  `wrk`; C, two threads: the load then costs little of the two cores the server
  needs), else asyncio tasks with httpx (`--httpx` forces that); and how many
  deliveries the servers' intake batchers took in together
  (`oms_intake_batch_size` on /metrics);
- bulk:   POST /api/v1/orders/bulk, 500 orders per request, two requests at a
  time (one per worker; `--bulk-concurrency`), `--bulk-requests` of them;
  orders/s.

On a PostgreSQL server that runs no autovacuum (this machine's), the tables that
changed are analyzed every two seconds while the server runs, as autovacuum would
(`Database.analyze_stale`).

For each, the CPU it cost an order: the API processes', PostgreSQL's and the rest of
the machine's (the load generator, the OS), from /proc, with how many of the cores
were busy: what limits a figure is read there.

Every order is new (its own external id) and has one to three lines over
different SKUs. Then `pgbench` runs TPC-B on a scratch database (`-i -s 10`,
`-c 16 -j 2 -T 10`) so the PostgreSQL figure can be read as a fraction of what
this machine's PostgreSQL does with its own simplest write transaction.

The machine's load average is printed before and after: other work on the
same cores lowers every figure.

    .venv/bin/python bench/intake.py [--concurrency 32 128] [--seconds 10] [--skus 20]
        [--backends postgresql sqlite] [--bulk-requests 6] [--no-pgbench] [--existing 0]
        [--py-spy FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import psycopg

# The script's folder is on sys.path when run as `python bench/<name>.py`.
from databases import ADMIN_URL, postgres_database, sqlite_database
from sqlalchemy import Table, insert, select

from oms import migrate
from oms.auth import service as auth
from oms.auth.principal import SYSTEM
from oms.catalog import channels, customers, items, warehouses
from oms.catalog.models import Channel
from oms.catalog.schemas import ChannelCreate, CustomerCreate, ItemCreate, WarehouseCreate
from oms.db import Database
from oms.inventory import ledger
from oms.orders.models import SalesOrder

STOCK = 10_000_000
WAREHOUSES = ("DAL", "EDI")
CUSTOMERS = 200
BULK_SIZE = 500
GOALS = {"postgresql": 1000.0, "sqlite": 500.0, "bulk": 5000.0, "tpcb_ratio": 0.25}


@dataclass
class Result:
    backend: str
    mode: str
    orders: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str | None = None
    quantiles_ms: dict[int, float] = field(default_factory=dict)
    """p50 and p99 as wrk measured them, when wrk drove the load."""
    batches: tuple[int, int] = (0, 0)
    """Single-order deliveries and the intake batches they were taken in."""
    clients: int = 0
    """Requests in flight at once."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds spent while it ran: by the API processes, by PostgreSQL's, by
    everything (the machine's busy time, all cores)."""

    @property
    def rate(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if p in self.quantiles_ms:
            return self.quantiles_ms[p]
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[int(p) - 1] * 1000


# -- databases ---------------------------------------------------------------------------


def seed(url: str, skus: list[str], existing: int = 0) -> str:
    """Migrate, add the channel, warehouses, items, stock and customers, and `existing`
    orders taken in before (closed ones, written straight into the table: what a running
    system's indexes hold); an API key's secret."""
    database = Database(url)
    try:
        migrate.upgrade(database.engine)
        with database.transaction() as session:
            for code in WAREHOUSES:
                warehouses.create_warehouse(
                    session,
                    WarehouseCreate.model_validate(
                        {
                            "code": code,
                            "name": f"{code} DC",
                            "type": "own",
                            "address": {
                                "line1": "1 Main St",
                                "city": "Dallas",
                                "region": "TX",
                                "postal_code": "75201",
                                "country": "US",
                            },
                        }
                    ),
                    actor=SYSTEM,
                )
            channels.create_channel(
                session,
                ChannelCreate.model_validate(
                    {
                        "code": "web",
                        "name": "Web shop",
                        "type": "web_shop",
                        "currency": "USD",
                        "warehouses": list(WAREHOUSES),
                    }
                ),
                actor=SYSTEM,
            )
            for sku in skus:
                items.create_item(session, ItemCreate(sku=sku, name=f"Item {sku}"), actor=SYSTEM)
                for code in WAREHOUSES:
                    ledger.adjust(
                        session,
                        sku=sku,
                        warehouse=code,
                        quantity=STOCK,
                        reason="initial_load",
                        actor=SYSTEM,
                    )
            for n in range(CUSTOMERS):
                customers.create_customer(
                    session,
                    CustomerCreate.model_validate(
                        {"type": "b2c", "name": f"Buyer {n}", "emails": [f"buyer{n}@example.com"]}
                    ),
                    actor=SYSTEM,
                )
            secret = auth.create_api_key(session, name="bench", roles=["admin"], actor=SYSTEM)
        _existing_orders(database, existing)
        return secret.secret
    finally:
        database.dispose()


def _existing_orders(database: Database, count: int, chunk: int = 10_000) -> None:
    """`count` closed orders of the channel, numbered `OLD-…` (the intake's own numbers
    stay free), in transactions of `chunk`."""
    table = cast(Table, SalesOrder.__table__)
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        channel = session.scalars(select(Channel.id).where(Channel.code == "web")).one()
    for start in range(0, count, chunk):
        rows = [
            {
                "number": f"OLD-{n:08d}",
                "channel_id": channel,
                "external_id": f"old-{n}",
                "customer_email": f"buyer{n % CUSTOMERS}@example.com",
                "ship_to": {"line1": f"{n} Main St", "city": "Dallas", "country": "US"},
                "currency": "USD",
                "subtotal": Decimal("19.99"),
                "total": Decimal("19.99"),
                "status": "closed",
                "accepted": True,
                "content_hash": f"{n:064d}",
                "placed_at": now,
                "closed_at": now,
            }
            for n in range(start, min(count, start + chunk))
        ]
        with database.transaction() as session:
            session.execute(insert(table), rows)
    if count:
        print(f"{count} orders were in the database before the run", flush=True)


# -- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`oms serve --workers 2` on a free port; its base URL and process."""
    port = free_port()
    env = {
        **os.environ,
        "OMS_DATABASE_URL": url,
        "OMS_LOG_LEVEL": "WARNING",
        "OMS_LOG_FORMAT": "json",
        "OMS_EMBEDDED_WORKER": "false",
        "OMS_LOAD_DEMO": "false",
        "OMS_ADMIN_PASSWORD": "a bench password",
    }
    oms = str(Path(sys.executable).parent / "oms")
    log = Path(tempfile.gettempdir()) / f"oms-bench-intake-{port}.log"
    process = subprocess.Popen(
        [oms, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    print(f"oms serve on port {port}, its log in {log}", flush=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("oms serve did not answer /healthz in 30 s")
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def profiled(process: subprocess.Popen[bytes], out: Path | None, seconds: float) -> Iterator[None]:
    """With `out`, py-spy records the server and its workers while the block runs: the
    threads holding the GIL (Python's own CPU time, not its waits on the database)."""
    if out is None:
        yield
        return
    command = ["py-spy", "record", "-o", str(out), "-f", "raw", "-p", str(process.pid)]
    command += ["--subprocesses", "-d", str(int(seconds) + 2), "--gil"]
    spy = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait(timeout=seconds + 60)


STATISTICS_EVERY = 2.0


@contextlib.contextmanager
def statistics_kept(url: str) -> Iterator[None]:
    """While the block runs, ANALYZE the tables that changed every `STATISTICS_EVERY`
    seconds, when the server runs no autovacuum (`Database.analyze_stale`, which `oms
    worker` runs every minute): the run starts from empty tables that grow by thousands
    of rows a second, and plans made while they were empty would read them whole."""
    database = Database(url)
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(STATISTICS_EVERY):
            database.analyze_stale()

    database.analyze_stale()
    if _autovacuum_off(database):
        every = f"{STATISTICS_EVERY:.0f} s"
        print(f"the server runs no autovacuum: changed tables analyzed every {every}", flush=True)
    thread = threading.Thread(target=keep, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        database.dispose()


def _autovacuum_off(database: Database) -> bool:
    if database.dialect != "postgresql":
        return False
    with database.engine.connect() as connection:
        return connection.exec_driver_sql("SHOW autovacuum").scalar() == "off"


# -- CPU -----------------------------------------------------------------------------------


def _ticks(pid: int) -> int:
    """User and system clock ticks of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def _processes() -> dict[int, tuple[str, int]]:
    """Every process: its command name and parent."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
                found[int(entry.name)] = (head.split("(", 1)[1], int(tail.split()[1]))
    return found


def _busy_ticks() -> int:
    """Ticks all cores spent on anything but idling and waiting for the disk."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4]


@contextlib.contextmanager
def cpu_spent(server_pid: int, into: dict[str, float]) -> Iterator[None]:
    """Fill `into` with the CPU seconds the block took: `api` (the server and its worker
    processes), `postgresql` (every PostgreSQL process) and `machine` (all cores busy)."""
    tick = os.sysconf("SC_CLK_TCK")

    def groups() -> dict[str, list[int]]:
        processes = _processes()
        api = {server_pid}
        for pid, (_, parent) in sorted(processes.items()):
            if parent in api:
                api.add(pid)
        postgres = [pid for pid, (name, _) in processes.items() if name == "postgres"]
        return {"api": sorted(api), "postgresql": postgres}

    before = {pid: _ticks(pid) for pids in groups().values() for pid in pids}
    machine = _busy_ticks()
    try:
        yield
    finally:
        for name, pids in groups().items():
            into[name] = sum(_ticks(pid) - before.get(pid, 0) for pid in pids) / tick
        into["machine"] = (_busy_ticks() - machine) / tick


# -- orders ----------------------------------------------------------------------------------


class Orders:
    """New orders, each with its own external id and one to three lines over different SKUs."""

    def __init__(self, skus: list[str], run: str, seed: int = 7) -> None:
        self.skus = skus
        self.run = run
        self.random = random.Random(seed)
        self.numbers = itertools.count(1)

    def next(self) -> dict[str, Any]:
        n = next(self.numbers)
        buyer = self.random.randrange(CUSTOMERS)
        lines = [
            {
                "sku": sku,
                "quantity": self.random.randint(1, 3),
                "unit_price": str(Decimal(self.random.randint(199, 9999)) / 100),
            }
            for sku in self.random.sample(self.skus, self.random.randint(1, 3))
        ]
        return {
            "channel": "web",
            "external_id": f"{self.run}-{n}",
            "currency": "USD",
            "customer": {"name": f"Buyer {buyer}", "email": f"buyer{buyer}@example.com"},
            "ship_to": {
                "name": f"Buyer {buyer}",
                "line1": f"{n} Main St",
                "city": "Dallas",
                "region": "TX",
                "postal_code": "75201",
                "country": "US",
            },
            "lines": lines,
        }


def _client(base: str, secret: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {secret}"},
        limits=limits,
        timeout=120,
    )


async def single_orders(
    base: str, secret: str, orders: Orders, *, concurrency: int, seconds: float, backend: str
) -> Result:
    """`concurrency` clients post one order per request for `seconds`."""
    result = Result(backend, "single")
    async with _client(base, secret, concurrency) as client:
        deadline = time.monotonic() + seconds

        async def loop() -> None:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                response = await client.post("/api/v1/orders", json=orders.next())
                took = time.perf_counter() - began
                result.statuses[response.status_code] += 1
                if response.status_code in (200, 201):
                    result.orders += 1
                    result.latencies.append(took)
                elif result.first_error is None:
                    result.first_error = response.text[:500]

        started = time.monotonic()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        result.seconds = time.monotonic() - started
    return result


WRK_SCRIPT = """
local skus = {%(skus)s}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(tid * 7919)
end

function request()
  counter = counter + 1
  local first = math.random(#skus)
  local lines = {}
  for k = 0, math.random(3) - 1 do
    lines[#lines + 1] = string.format(
      '{"sku": "%%s", "quantity": %%d, "unit_price": "%%d.%%02d"}',
      skus[(first + k - 1) %% #skus + 1], math.random(3), math.random(1, 99), math.random(0, 99))
  end
  local buyer = math.random(0, %(customers)d - 1)
  local body = string.format(
    '{"channel": "web", "external_id": "%(run)s-%%d-%%d", "currency": "USD", ' ..
    '"customer": {"name": "Buyer %%d", "email": "buyer%%d@example.com"}, ' ..
    '"ship_to": {"name": "Buyer %%d", "line1": "%%d Main St", "city": "Dallas", ' ..
    '"region": "TX", "postal_code": "75201", "country": "US"}, "lines": [%%s]}',
    tid, counter, buyer, buyer, buyer, counter, table.concat(lines, ", "))
  return wrk.format("POST", "/api/v1/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(secret)s",
  }, body)
end
"""


def wrk_single_orders(
    base: str, secret: str, skus: list[str], *, concurrency: int, seconds: float, backend: str
) -> Result:
    """As `single_orders`, driven by wrk (C, two threads), so the load costs little CPU."""
    script = WRK_SCRIPT % {
        "skus": ", ".join(f'"{s}"' for s in skus),
        "customers": CUSTOMERS,
        "run": uuid.uuid4().hex[:6],
        "secret": secret,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        # A long timeout: wrk's 2 s default would drop slow answers from the latencies
        # and leave the server working on requests nobody waits for.
        command = ["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--timeout", "120s"]
        command.append("--latency")
        out = subprocess.run(
            [*command, "-s", file.name, base], capture_output=True, text=True, check=True
        ).stdout
    total = int(_found(r"(\d+) requests in", out))
    duration = float(_found(r"requests in ([\d.]+)(?:s)", out))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    refused = int(failed.group(1)) if failed else 0
    result = Result(backend, "single", orders=total - refused, seconds=duration)
    result.statuses[201] = total - refused
    if refused:
        result.statuses[0] = refused
        result.first_error = f"{refused} answers were not 2xx (wrk does not say which)"
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        result.first_error = f"{result.first_error or ''} socket errors: {errors.group(1)}"
    for p in (50, 99):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        result.quantiles_ms[p] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return result


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"{pattern!r} not in wrk's output:\n{text}")
    return match.group(1)


async def bulk_orders(
    base: str, secret: str, orders: Orders, *, requests: int, concurrency: int, backend: str
) -> Result:
    """`requests` bulk posts of 500 orders, `concurrency` at a time; counts the orders made."""
    result = Result(backend, "bulk")
    bodies = [[orders.next() for _ in range(BULK_SIZE)] for _ in range(requests)]
    queue = list(bodies)
    async with _client(base, secret, concurrency) as client:

        async def loop() -> None:
            while queue:
                body = queue.pop()
                began = time.perf_counter()
                try:
                    response = await client.post("/api/v1/orders/bulk", json={"orders": body})
                except httpx.TransportError as exc:
                    result.statuses[0] += 1
                    result.first_error = result.first_error or f"connection lost: {exc!r}"
                    continue
                result.latencies.append(time.perf_counter() - began)
                result.statuses[response.status_code] += 1
                if response.status_code in (200, 201, 207):
                    result.orders += _created(response.json())
                elif result.first_error is None:
                    result.first_error = response.text[:500]

        started = time.monotonic()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        result.seconds = time.monotonic() - started
    return result


def _created(answer: Any) -> int:
    """Orders a bulk answer reports as made (an answer per order, in order)."""
    results = answer.get("results", answer.get("items", [])) if isinstance(answer, dict) else answer
    return sum(1 for r in results if str(r.get("outcome", r.get("status", ""))) in CREATED)


CREATED = {"created", "accepted", "201"}


# -- pgbench ---------------------------------------------------------------------------------


def pgbench_tps(
    *, scale: int = 10, clients: int = 16, threads: int = 2, seconds: int = 10
) -> float:
    """TPC-B (pgbench's default script) on a scratch database; transactions per second."""
    parts = urlsplit(ADMIN_URL)
    name = f"oms_pgbench_{uuid.uuid4().hex[:8]}"
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    connection = [
        *("-h", parts.hostname or "127.0.0.1"),
        *("-p", str(parts.port or 5432)),
        *("-U", parts.username or "postgres"),
    ]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            ["pgbench", *connection, "-i", "-s", str(scale), "-q", name],
            env=env,
            check=True,
            capture_output=True,
        )
        load = ["-c", str(clients), "-j", str(threads), "-T", str(seconds)]
        run = subprocess.run(
            ["pgbench", *connection, *load, name],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    found = re.search(r"tps = ([\d.]+)", run.stdout)
    if found is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{run.stdout}")
    return float(found.group(1))


# -- the run ---------------------------------------------------------------------------------


def measure(backend: str, args: argparse.Namespace) -> list[Result]:
    skus = [f"BENCH-{n:03d}" for n in range(args.skus)]
    databases = {"postgresql": postgres_database, "sqlite": sqlite_database}
    with databases[backend]() as url:
        secret = seed(url, skus, args.existing)
        orders = Orders(skus, run=uuid.uuid4().hex[:6])
        with server(url) as (base, process), statistics_kept(url):
            warm = asyncio.run(
                single_orders(
                    base, secret, orders, concurrency=4, seconds=1.5, backend=f"{backend} warm-up"
                )
            )
            if not warm.orders:
                raise RuntimeError(f"no order was accepted on {backend}: {warm.first_error}")
            results = []
            counted = intake_batches(base)
            for n, clients in enumerate(args.concurrency):
                spy = Path(args.py_spy) / f"intake-{backend}.txt" if args.py_spy and not n else None
                single = single_run(base, secret, skus, orders, clients, spy, process, args)
                single.clients = clients
                now = intake_batches(base)
                single.batches = (now[0] - counted[0], now[1] - counted[1])
                counted = now
                results.append(single)
            cpu = {}
            with cpu_spent(process.pid, cpu):
                bulk = asyncio.run(
                    bulk_orders(
                        base,
                        secret,
                        orders,
                        requests=args.bulk_requests,
                        concurrency=args.bulk_concurrency,
                        backend=backend,
                    )
                )
            bulk.cpu = cpu
            bulk.clients = args.bulk_concurrency
    return [*results, bulk]


def single_run(
    base: str,
    secret: str,
    skus: list[str],
    orders: Orders,
    clients: int,
    spy: Path | None,
    process: subprocess.Popen[bytes],
    args: argparse.Namespace,
) -> Result:
    """`clients` clients post one order per request for `--seconds` (wrk when installed);
    the CPU it cost (and a py-spy profile into `spy`)."""
    backend = args.backend_now
    cpu: dict[str, float] = {}
    with profiled(process, spy, args.seconds), cpu_spent(process.pid, cpu):
        if shutil.which("wrk") and not args.httpx:
            single = wrk_single_orders(
                base, secret, skus, concurrency=clients, seconds=args.seconds, backend=backend
            )
        else:
            single = asyncio.run(
                single_orders(
                    base, secret, orders, concurrency=clients, seconds=args.seconds, backend=backend
                )
            )
    single.cpu = cpu
    return single


def intake_batches(base: str) -> tuple[int, int]:
    """Single-order deliveries and the batches the servers took them in (warm-up included),
    from `oms_intake_batch_size` on /metrics; each worker keeps its own, and a scrape
    reaches one of them, so the distinct figures seen over a few scrapes are added up."""
    seen: set[tuple[int, int]] = set()
    time.sleep(1)  # the last answers go out before the last batch is counted
    for _ in range(12):
        text = httpx.get(f"{base}/metrics", timeout=10).text
        found = dict(re.findall(r"^oms_intake_batch_size_(sum|count) ([0-9.e+]+)$", text, re.M))
        if found:
            seen.add((int(float(found["sum"])), int(float(found["count"]))))
    return sum(s for s, _ in seen), sum(c for _, c in seen)


def report(results: list[Result], tpcb: float | None, args: argparse.Namespace) -> None:
    print()
    print(
        f"{'backend':<11} {'mode':<7} {'clients':>7} {'orders':>7} {'seconds':>8} "
        f"{'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'× TPC-B':>8}  {'goal':<14} answers"
    )
    for r in results:
        ratio = f"{r.rate / tpcb:.2f}" if tpcb and r.backend == "postgresql" else ""
        goal = GOALS["bulk"] if r.mode == "bulk" else GOALS[r.backend]
        met = "met" if r.rate >= goal else "NOT met"
        answers = ", ".join(f"{code}×{n}" for code, n in sorted(r.statuses.items()))
        print(
            f"{r.backend:<11} {r.mode:<7} {r.clients:>7} {r.orders:>7} {r.seconds:>8.1f} "
            f"{r.rate:>9.0f} "
            f"{r.percentile(50):>8.1f} {r.percentile(99):>8.1f} {ratio:>8}  "
            f"≥{goal:<6.0f}{met:<7} {answers}"
        )
        if r.first_error:
            print(f"    first refusal: {r.first_error}")
        if r.cpu and r.orders:
            per = {name: seconds / r.orders * 1000 for name, seconds in r.cpu.items()}
            rest = per["machine"] - per["api"] - per["postgresql"]
            print(
                f"    CPU an order: API {per['api']:.2f} ms, PostgreSQL "
                f"{per['postgresql']:.2f} ms, the rest (load, OS) {rest:.2f} ms; "
                f"cores busy {r.cpu['machine'] / r.seconds:.2f} of {os.cpu_count()}"
            )
        if r.batches[1]:
            print(
                f"    {r.batches[0]} deliveries in {r.batches[1]} batches, "
                f"{r.batches[0] / r.batches[1]:.1f} a batch on average"
            )
    if tpcb:
        print(f"\npgbench TPC-B (-s 10, -c 16 -j 2, 10 s): {tpcb:.0f} tps")
        print(f"goal: PostgreSQL single orders/s ≥ {GOALS['tpcb_ratio']} × TPC-B")
    print(
        f"single: one order a request, {args.skus} SKUs; bulk: {BULK_SIZE} orders a request; "
        "clients: requests in flight at once"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[32, 128],
        help="single-order clients, one run for each",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument(
        "--existing", type=int, default=0, help="orders in the database before the run"
    )
    parser.add_argument("--bulk-requests", type=int, default=6)
    parser.add_argument("--bulk-concurrency", type=int, default=2, help="bulk requests at once")
    parser.add_argument(
        "--backends", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"]
    )
    parser.add_argument("--no-pgbench", action="store_true", help="skip the TPC-B run")
    parser.add_argument(
        "--httpx", action="store_true", help="drive single orders with httpx even if wrk is here"
    )
    parser.add_argument("--py-spy", metavar="FOLDER", help="profile the server (raw py-spy)")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average before: {_load()}", flush=True)
    results: list[Result] = []
    for backend in args.backends:
        args.backend_now = backend
        results += measure(backend, args)
        print(f"{backend}: done; load average {_load()}", flush=True)
    tpcb = None if args.no_pgbench else pgbench_tps()
    report(results, tpcb, args)
    print(f"load average after: {_load()}")


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


if __name__ == "__main__":
    main()
