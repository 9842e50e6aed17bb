"""`oms`: the command line of Item OMS (Typer)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from oms.auth.permissions import matrix_markdown
from oms.auth.principal import CLI_OPERATOR, Principal
from oms.catalog.formats import SUFFIXES, FileFormat, Kind, format_of
from oms.errors import OmsError, Problem, ValidationFailed

# Start-up stays light (`oms --help` in a fraction of a second): SQLAlchemy, pydantic,
# Alembic and the services load inside the commands that use them.
if TYPE_CHECKING:
    from rich.console import Group
    from rich.progress import Progress, TaskID
    from sqlalchemy.orm import Session

    from oms.catalog.imports import RowProblem
    from oms.config import Settings
    from oms.db import Database
    from oms.inventory.balances import Verification
    from oms.orders.models import OrderEvent
    from oms.orders.views import OrderOut
    from oms.routing.batches import Batch
    from oms.routing.model import Plan
    from oms.routing.optimizer import Solution
    from oms.routing.schemas import PlanOut
    from oms.simulate.demo_run import DemoCounters

app = typer.Typer(help="Item OMS: orders, stock, routing and purchasing.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo dataset.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="apikeys")
app.add_typer(demo_app, name="demo")
inventory_app = typer.Typer(
    help="Stock: prove the ledger, import WMS counts, adjust.", no_args_is_help=True
)
app.add_typer(inventory_app, name="inventory")
orders_app = typer.Typer(
    help="Sales orders: import a file, show one, explain its routing.", no_args_is_help=True
)
app.add_typer(orders_app, name="orders")
route_app = typer.Typer(help="Routing: compare the strategies over a batch.", no_args_is_help=True)
app.add_typer(route_app, name="route")
simulate_app = typer.Typer(
    help="Simulated partners, to try Item OMS end to end: a warehouse's WMS.",
    no_args_is_help=True,
)
app.add_typer(simulate_app, name="simulate")

console = Console()
err = Console(stderr=True)


def _database(settings: Settings | None = None) -> Database:
    from oms.config import get_settings
    from oms.db import Database

    settings = settings or get_settings()
    _ensure_sqlite_folder(settings)
    database = Database(settings.database_url)
    _opened.append(database)
    return database


_opened: list[Database] = []


@app.callback()
def _on_every_command(command: typer.Context) -> None:
    # Close the pools when the command ends, so no connection outlives it.
    command.call_on_close(_dispose_opened)


def _dispose_opened() -> None:
    while _opened:
        _opened.pop().dispose()


def _ensure_sqlite_folder(settings: Settings) -> None:
    if settings.is_sqlite and ":memory:" not in settings.database_url:
        from pathlib import Path

        path = settings.database_url.split("///", 1)[-1]
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _fail(exc: OmsError) -> typer.Exit:
    err.print(f"[red]error[/red] {exc.code}: {exc}")
    return typer.Exit(code=2)


def _admin_actor() -> Principal:
    return CLI_OPERATOR


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (OMS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OMS_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="API processes.")] = 1,
    demo_simulate: Annotated[
        bool | None,
        typer.Option(
            "--demo-simulate/--no-demo-simulate",
            help="Run the demo's simulated WMS, carrier and shop beside the API "
            "(OMS_DEMO_SIMULATE).",
        ),
    ] = None,
) -> None:
    """Migrate, make the admin user and the demo data on first start, then serve the API
    (and, with --demo-simulate, work the demo warehouses' orders once it answers)."""
    import logging

    import uvicorn

    from oms.config import get_settings
    from oms.kit.logs import configure_logging

    settings = get_settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    database = _database(settings)
    prepare(database, settings)
    database.dispose()
    host, port = host or settings.host, port or settings.port
    stop = threading.Event()
    beside = None
    if settings.demo_simulate if demo_simulate is None else demo_simulate:
        beside = _simulate_beside(settings, _reachable_url(host, port), stop)
    try:
        uvicorn.run(
            "oms.api.main:app",
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            proxy_headers=True,
        )
    finally:
        if beside is not None:
            # The server is gone before the simulators: their failed calls are no news.
            logging.getLogger("oms.simulate").setLevel(logging.ERROR)
        stop.set()
        if beside is not None:
            beside.join(timeout=30)


def _reachable_url(host: str, port: int) -> str:
    """The URL this machine reaches a server bound to host:port at (0.0.0.0: loopback)."""
    if host in ("", "0.0.0.0"):  # noqa: S104 (read, not bound: the loopback stands for it)
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _simulate_beside(settings: Settings, base_url: str, stop: threading.Event) -> threading.Thread:
    """Start the demo's simulators in a daemon thread of this process once the server
    answers; their step-by-step lines are quieted to a summary every few seconds."""
    import logging

    from oms.simulate.demo_run import run_beside_server

    for noisy in ("oms.simulate", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    console.print(
        f"Demo simulation on: the demo warehouses' WMS, a carrier and a shop work against "
        f"{base_url} (OMS_DEMO_SIMULATE=false switches it off)",
        markup=False,
        soft_wrap=True,
    )
    thread = threading.Thread(
        target=run_beside_server,
        args=(_database(settings), base_url, stop),
        name="demo-simulation",
        daemon=True,
    )
    thread.start()
    return thread


def prepare(database: Database, settings: Settings) -> None:
    """Everything `serve` does before it listens: migrate, admin user, demo data."""
    from oms import demo, migrate
    from oms.auth import repository as auth_repository
    from oms.auth import service as auth

    migrate.upgrade(database.engine)
    with database.transaction() as session:
        first_start = auth_repository.count_users(session) == 0
        generated = auth.ensure_admin(session, password=settings.admin_password)
    if generated:
        console.print(
            f"[bold]Admin user created[/bold]: username [cyan]admin[/cyan], password "
            f"[cyan]{generated}[/cyan] (shown once; set OMS_ADMIN_PASSWORD to choose it)"
        )
    if first_start and settings.load_demo:
        # Run again whole if it met a lock conflict or a stale read (loading is idempotent).
        summary = database.run(demo.load)
        console.print(f"Demo data loaded: {summary}")


@app.command()
def worker() -> None:
    """Run the outbox relay and scheduled jobs until stopped (Ctrl-C)."""
    from oms.config import get_settings
    from oms.jobs.worker import run_forever
    from oms.kit import heap
    from oms.kit.logs import configure_logging

    settings = get_settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    database = _database(settings)
    heap.settle()
    run_forever(database, settings)


@app.command()
def permissions(
    markdown: Annotated[bool, typer.Option(help="Print docs/PERMISSIONS.md.")] = False,
) -> None:
    """The role × permission matrix."""
    if markdown:
        typer.echo(matrix_markdown(), nl=False)
        return
    from oms.auth.permissions import MATRIX, Role

    table = Table("permission", *[r.value for r in Role])
    for permission, roles in MATRIX.items():
        table.add_row(permission.value, *["✓" if r in roles else "" for r in Role])
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    from oms import migrate

    database = _database()
    migrate.upgrade(database.engine, revision)
    console.print(f"database at {migrate.current_revision(database.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the newest one."""
    from oms import migrate

    database = _database()
    current = migrate.current_revision(database.engine)
    head = migrate.head_revision()
    state = "up to date" if current == head else "behind: run `oms db upgrade`"
    console.print(f"current {current or '(empty)'}, head {head}: {state}")


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Repeat for several roles.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    email: str | None = None,
    scope_channel: Annotated[list[str] | None, typer.Option("--scope-channel")] = None,
    scope_warehouse: Annotated[list[str] | None, typer.Option("--scope-warehouse")] = None,
) -> None:
    """Add a user."""
    from oms.auth import service as auth

    database = _database()
    try:
        with database.transaction() as session:
            user = auth.create_user(
                session,
                username=username,
                password=password,
                roles=role,
                email=email,
                channels=scope_channel,
                warehouses=scope_warehouse,
                actor=_admin_actor(),
            )
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(f"user {user.username} created with roles {', '.join(user.roles)}")


@users_app.command("list")
def users_list() -> None:
    """List users."""
    from oms.auth import repository as auth_repository

    database = _database()
    table = Table("username", "roles", "channels", "warehouses", "active")
    with database.transaction() as session:
        for user in auth_repository.list_users(session):
            table.add_row(
                user.username,
                ", ".join(user.roles),
                ", ".join(user.channels or ["all"]),
                ", ".join(user.warehouses or ["all"]),
                "yes" if user.active else "no",
            )
    console.print(table)


@users_app.command("set-roles")
def users_set_roles(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Repeat for several roles.")],
) -> None:
    """Replace a user's roles."""
    from oms.auth import service as auth

    database = _database()
    try:
        with database.transaction() as session:
            user = auth.set_user_roles(session, username=username, roles=role, actor=_admin_actor())
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(f"user {user.username} now has roles {', '.join(user.roles)}")


@keys_app.command("create")
def apikeys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    role: Annotated[list[str], typer.Option("--role", help="Repeat for several roles.")],
    scope_channel: Annotated[list[str] | None, typer.Option("--scope-channel")] = None,
    scope_warehouse: Annotated[list[str] | None, typer.Option("--scope-warehouse")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line for scripts.")] = False,
) -> None:
    """Issue an API key; its secret is shown once."""
    from oms.auth import service as auth

    database = _database()
    try:
        with database.transaction() as session:
            issued = auth.create_api_key(
                session,
                name=name,
                roles=role,
                channels=scope_channel,
                warehouses=scope_warehouse,
                actor=_admin_actor(),
            )
    except OmsError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps({"id": issued.key.id, "secret": issued.secret}))
        return
    console.print(f"API key {issued.key.id} ({issued.key.prefix}) created. Its secret, shown once:")
    typer.echo(issued.secret)


@keys_app.command("list")
def apikeys_list() -> None:
    """List API keys (never their secrets)."""
    from oms.auth import repository as auth_repository

    database = _database()
    table = Table("id", "prefix", "name", "roles", "channels", "warehouses", "revoked")
    with database.transaction() as session:
        for key in auth_repository.list_api_keys(session):
            table.add_row(
                str(key.id),
                key.prefix,
                key.name,
                ", ".join(key.roles),
                ", ".join(key.channels or ["all"]),
                ", ".join(key.warehouses or ["all"]),
                key.revoked_at.isoformat() if key.revoked_at else "",
            )
    console.print(table)


@keys_app.command("revoke")
def apikeys_revoke(key_id: int) -> None:
    """Revoke an API key for good."""
    from oms.auth import service as auth

    database = _database()
    try:
        with database.transaction() as session:
            key = auth.revoke_api_key(session, key_id=key_id, actor=_admin_actor())
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(f"API key {key.id} ({key.prefix}) revoked")


class _Bar:
    """Draws the progress of long work as a transient Rich bar on stderr."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._task: TaskID | None = None

    def begin(self, stage: str, total: int | None = None) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(stage, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)


def _progress_bar() -> Progress:
    from rich import progress as rich_progress

    return rich_progress.Progress(
        rich_progress.SpinnerColumn(),
        rich_progress.TextColumn("{task.description}"),
        rich_progress.BarColumn(),
        rich_progress.MofNCompleteColumn(),
        rich_progress.TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command("import")
def import_(
    kind: Annotated[Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[str, typer.Argument(help="A .csv or .jsonl file; `-` reads stdin.")],
    fmt: Annotated[
        FileFormat | None,
        typer.Option("--format", help="csv or jsonl; by default from the file's suffix."),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good rows and report the bad ones.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate only; write nothing.")] = False,
) -> None:
    """Create or update master records from a file, all of them or none (exit 2 when bad)."""
    from oms.catalog import imports

    database = _database()
    try:
        file_format = format_of(file, fmt)
        with ExitStack() as stack:
            source = sys.stdin if file == "-" else stack.enter_context(_open_source(file))
            bar = stack.enter_context(_progress_bar())
            session = stack.enter_context(database.transaction())
            summary = imports.import_file(
                session,
                kind,
                source,
                fmt=file_format,
                actor=_admin_actor(),
                name=file,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=_Bar(bar),
            )
    except imports.ImportRejected as exc:
        _print_problems(exc.rows)
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=2) from exc
    except OmsError as exc:
        raise _fail(exc) from exc
    if summary.problems:
        _print_problems(summary.problems)
    verb = "would be " if dry_run else ""
    console.print(
        f"{kind.value} from {file}: {summary.created} {verb}created, {summary.updated} "
        f"{verb}updated, {summary.unchanged} unchanged, {summary.skipped} skipped",
        markup=False,
        soft_wrap=True,
    )


def _open_source(file: str) -> TextIO:
    path = Path(file)
    if not path.is_file():
        raise OmsError(f"{file} is not a readable file", code="catalog.import_file_missing")
    # utf-8-sig: spreadsheets often put a byte-order mark before the header.
    return path.open(encoding="utf-8-sig", newline="")


def _print_problems(problems: list[RowProblem]) -> None:
    table = Table("line", "field", "reason", title=f"{len(problems)} problem(s)")
    for problem in problems:
        table.add_row(str(problem.line), problem.field or "(row)", problem.reason)
    err.print(table)


@app.command("export")
def export(
    kind: Annotated[Kind, typer.Argument(help="What to write.")],
    fmt: Annotated[
        FileFormat | None,
        typer.Option("--format", help="csv or jsonl; by default from --output's suffix, else csv."),
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="A file, or `-` for stdout.")] = "-",
) -> None:
    """Write every record of KIND in the layout `oms import` reads."""
    from oms.catalog import exports

    if fmt is None:
        fmt = SUFFIXES.get(Path(output).suffix.lower(), FileFormat.CSV)
    database = _database()
    try:
        with ExitStack() as stack:
            sink = (
                sys.stdout
                if output == "-"
                else stack.enter_context(Path(output).open("w", encoding="utf-8", newline=""))
            )
            bar = stack.enter_context(_progress_bar())
            session = stack.enter_context(database.transaction())
            count = exports.export_records(session, kind, sink, fmt=fmt, progress=_Bar(bar))
    except OmsError as exc:
        raise _fail(exc) from exc
    if output != "-":
        console.print(f"{count} {kind.value} written to {output}", markup=False, soft_wrap=True)


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo dataset; loading it again changes nothing."""
    from oms import demo

    database = _database()
    try:
        # Run again whole if it met a lock conflict or a stale read (loading is idempotent).
        summary = database.run(demo.load)
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(f"Demo data loaded: {summary}")


# -- inventory -----------------------------------------------------------------------


@demo_app.command("run")
def demo_run(
    url: Annotated[str, typer.Option(help="Item OMS's base URL (`make run` serves it).")] = (
        "http://127.0.0.1:8000"
    ),
    speed: Annotated[
        float, typer.Option(min=0.01, help="Every simulated delay divided by this.")
    ] = 1.0,
    orders_per_minute: Annotated[
        float, typer.Option(min=0, help="New orders sent on the demo channels; 0: none.")
    ] = 6.0,
    short_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of fulfillment orders picked short.")
    ] = 0.05,
    exception_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of packages meeting an exception.")
    ] = 0.05,
    seed: Annotated[int | None, typer.Option(help="Same seed, same decisions.")] = None,
) -> None:
    """Work the demo warehouses' orders against a running Item OMS until Ctrl-C: a WMS
    simulator per warehouse, a carrier walking packages to the door, and new orders.
    Keys and WMS connections are made in the database (OMS_DATABASE_URL) on each start."""
    import logging
    import signal

    from rich.live import Live

    from oms.kit.logs import configure_logging
    from oms.simulate.demo_run import DemoOptions, NoDemoWarehouses, start_demo

    configure_logging(json=False, level="WARNING")  # the table is the output
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        options = DemoOptions(
            speed=speed,
            orders_per_minute=orders_per_minute,
            short_rate=short_rate,
            exception_rate=exception_rate,
            seed=seed,
        )
    except ValueError as exc:
        _print_field_problems([Problem("options", str(exc))])
        raise typer.Exit(code=2) from exc
    if not _answers(url):
        err.print(
            f"error: no Item OMS answers at {url}/healthz: start it with `make run`",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=2)
    database = _database()
    try:
        run = start_demo(database, url, options)
    except NoDemoWarehouses as exc:
        err.print("error: no demo warehouse: load the demo first (oms demo load)", style="red")
        raise typer.Exit(code=2) from exc
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        with Live(_demo_view(run.counters()), console=console, refresh_per_second=2) as live:
            while not stopping.wait(1.0):
                live.update(_demo_view(run.counters()))
    finally:
        run.stop()
    console.print(run.counters().summary(), markup=False, soft_wrap=True)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/healthz", timeout=5.0).status_code == 200
    except httpx.HTTPError:
        return False


def _demo_view(counts: DemoCounters) -> Group:
    """The live view of `oms demo run`: the warehouses, the carrier, the shop."""
    from rich.console import Group

    elapsed = str(dt.datetime.now(dt.UTC) - counts.started_at).split(".")[0]
    wms = Table(
        "WMS", "received", "acked", "picking", "packed", "shipped", "short", "rejected", "failed",
        title=f"Item OMS demo, running {elapsed} (Ctrl-C stops)",
    )  # fmt: skip
    for code, w in counts.wms.items():
        figures = (w.received, w.acked, w.picking, w.packed, w.shipped, w.short, w.rejected)
        wms.add_row(code, *(str(n) for n in (*figures, w.failed)))
    c = counts.carrier
    carrier = Table(
        "carrier", "in transit", "out for delivery", "exceptions", "delivered", "failed"
    )
    carrier.add_row(
        f"{c.packages} packages",
        *(str(n) for n in (c.in_transit, c.out_for_delivery, c.exceptions, c.delivered, c.failed)),
    )
    parts: list[Table] = [wms, carrier]
    if counts.shop is not None:
        shop = Table("shop", "orders sent", "refused", "failed")
        shop.add_row("demo channels", *(str(n) for n in vars(counts.shop).values()))
        parts.append(shop)
    return Group(*parts)


@inventory_app.command("verify")
def inventory_verify() -> None:
    """Prove that every balance equals its ledger and its active reservations (exit 1 if not)."""
    from oms.inventory import balances

    database = _database()
    with database.transaction() as session:
        result = balances.verify(session)
        rows = _mismatch_rows(session, result)
    console.print(
        f"{result.balances} balances checked: {len(result.ledger_mismatches)} differ from the "
        f"ledger, {len(result.reservation_mismatches)} from their active reservations",
        markup=False,
        soft_wrap=True,
    )
    if result.ok:
        console.print("[green]ok[/green]: balances equal the ledger")
        return
    table = Table("check", "sku", "warehouse", "balance", "expected", title="Mismatches")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    raise typer.Exit(code=1)


def _mismatch_rows(session: Session, result: Verification) -> list[tuple[str, str, str, str, str]]:
    """The mismatches with SKUs and warehouse codes; `expected` is what the ledger says."""
    from oms.catalog import repository as catalog_repository

    found = [m[:2] for m in result.ledger_mismatches] + [
        m[:2] for m in result.reservation_mismatches
    ]
    item_ids = {item_id for item_id, _ in found}
    warehouse_ids = {warehouse_id for _, warehouse_id in found}
    skus = {i.id: i.sku for i in catalog_repository.items_by_ids(session, item_ids)}
    codes = {w.id: w.code for w in catalog_repository.warehouses_by_ids(session, warehouse_ids)}
    rows = []
    for (
        item_id,
        warehouse_id,
        on_hand,
        ledger_on_hand,
        reserved,
        ledger_reserved,
    ) in result.ledger_mismatches:
        where = (skus.get(item_id, str(item_id)), codes.get(warehouse_id, str(warehouse_id)))
        if on_hand != ledger_on_hand:
            rows.append(("on hand = ledger", *where, str(on_hand), str(ledger_on_hand)))
        if reserved != ledger_reserved:
            rows.append(("reserved = ledger", *where, str(reserved), str(ledger_reserved)))
    for item_id, warehouse_id, excess in result.reservation_mismatches:
        where = (skus.get(item_id, str(item_id)), codes.get(warehouse_id, str(warehouse_id)))
        rows.append(("reserved = active reservations", *where, f"{excess:+d}", "+0"))
    return rows


SNAPSHOT_FORMATS = {".csv": "csv", ".json": "json"}


@inventory_app.command("import-snapshot")
def inventory_import_snapshot(
    file: Annotated[Path, typer.Argument(help="The WMS's count: a .csv or .json file.")],
    warehouse: Annotated[str, typer.Option(help="Code of the counted warehouse.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="When the WMS counted (ISO 8601); default: now.")
    ] = None,
    complete: Annotated[
        bool, typer.Option("--complete", help="Items missing from the file were counted as zero.")
    ] = False,
) -> None:
    """Compare a WMS stock count with ours: book small differences, park large ones for
    approval, print every line; the file is stored before it is read (exit 2 when bad)."""
    from oms.config import get_settings
    from oms.inventory import snapshots

    problems = []
    fmt = SNAPSHOT_FORMATS.get(file.suffix.lower())
    if fmt is None:
        problems.append(Problem("FILE", "name a .csv or .json file"))
    counted_at = None
    if as_of is not None:
        try:
            counted_at = dt.datetime.fromisoformat(as_of)
        except ValueError:
            problems.append(Problem("--as-of", f"{as_of!r} is not an ISO 8601 time"))
    if not file.is_file():
        problems.append(Problem("FILE", f"{file} is not a readable file"))
    if problems:
        _print_field_problems(problems)
        raise typer.Exit(code=2)
    assert fmt is not None
    try:
        raw = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        _print_field_problems([Problem("FILE", "is not UTF-8 text")])
        raise typer.Exit(code=2) from exc
    settings = get_settings()
    database = _database(settings)
    actor = _admin_actor()
    try:
        with database.transaction() as session:
            snapshot_id = snapshots.store(
                session, warehouse=warehouse, raw=raw, fmt=fmt, actor=actor
            ).id
    except OmsError as exc:
        raise _fail(exc) from exc
    try:
        with database.transaction() as session:
            snapshots.process(
                session,
                snapshot_id,
                threshold=settings.snapshot_approval_threshold,
                as_of=counted_at,
                complete=True if complete else None,
                actor=actor,
            )
    except ValidationFailed as exc:
        with database.transaction() as session:
            snapshots.mark_failed(session, snapshot_id, exc.problems)
        _print_field_problems(exc.problems)
        err.print(f"snapshot {snapshot_id} is stored but was not applied", markup=False)
        raise typer.Exit(code=2) from exc
    except OmsError as exc:
        raise _fail(exc) from exc
    with database.transaction() as session:
        status = snapshots.get(session, snapshot_id, actor=actor).status
        lines = snapshots.report(session, snapshot_id, actor=actor)
    table = Table(
        "sku",
        "counted",
        "in flight",
        "on hand",
        "moved since",
        "expected",
        "difference",
        "reserved",
        "status",
        title=f"Snapshot {snapshot_id} of {warehouse}",
    )
    for line in lines:
        shown = line.status + (" (short of reservations)" if line.short_of_reservations else "")
        table.add_row(
            line.sku,
            *(
                str(n)
                for n in (
                    line.counted,
                    line.in_flight,
                    line.on_hand,
                    line.moved_since,
                    line.expected,
                )
            ),
            f"{line.difference:+d}" if line.difference else "0",
            str(line.reserved),
            shown,
        )
    console.print(table)
    differences = sum(1 for line in lines if line.difference)
    waiting = sum(1 for line in lines if line.status == "pending_approval")
    console.print(
        f"snapshot {snapshot_id}: {status}; {len(lines)} lines, {differences} differences, "
        f"{waiting} waiting for approval",
        markup=False,
        soft_wrap=True,
    )


def _print_field_problems(problems: list[Problem]) -> None:
    table = Table("where", "problem", title=f"{len(problems)} problem(s)")
    for problem in problems:
        table.add_row(problem.path, problem.message)
    err.print(table)


@inventory_app.command("adjust")
def inventory_adjust(
    sku: Annotated[str, typer.Option(help="The item's SKU.")],
    warehouse: Annotated[str, typer.Option(help="The warehouse's code.")],
    quantity: Annotated[int, typer.Option(help="Signed change of on hand (-3 takes three).")],
    reason: Annotated[
        str,
        typer.Option(help="A reason code, as cycle_count or damaged; a wrong one lists them all."),
    ],
    note: Annotated[str | None, typer.Option(help="Free text kept on the movement.")] = None,
) -> None:
    """Correct on hand by a signed quantity, with a reason code."""
    from oms.inventory import balances, ledger

    database = _database()
    actor = _admin_actor()
    try:
        with database.transaction() as session:
            ledger.adjust(
                session,
                sku=sku,
                warehouse=warehouse,
                quantity=quantity,
                reason=reason,
                note=note,
                actor=actor,
            )
            [line] = balances.stock_lines(session, sku=sku, warehouse=warehouse, actor=actor)
    except ValidationFailed as exc:
        _print_field_problems(exc.problems)
        raise typer.Exit(code=2) from exc
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(
        f"{line.sku} at {line.warehouse}: on hand {line.on_hand}, reserved {line.reserved}, "
        f"available {line.available}",
        markup=False,
        soft_wrap=True,
    )


# -- orders --------------------------------------------------------------------------


@dataclass
class _OrderImport:
    """What `oms orders import` did: a count per outcome, and each failure by line."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[int, list[Problem]]] = field(default_factory=list)
    refusals: list[tuple[int, str, str]] = field(default_factory=list)


OUTCOMES = ("created", "duplicate", "changed", "refused", "failed")
IMPORT_CHUNK = 100


@orders_app.command("import")
def orders_import(
    file: Annotated[str, typer.Argument(help="A JSON lines file, one order a line; `-`: stdin.")],
) -> None:
    """Take in orders as the API does: every line is kept raw in the inbox first, then each
    order is accepted in a transaction of its own; a summary and every failure at its line
    (exit 2 when any failed; `GET /api/v1/inbox?status=failed` lists them for a replay)."""
    from oms.orders import intake

    if file != "-" and not Path(file).is_file():
        _print_field_problems([Problem("FILE", f"{file} is not a readable file")])
        raise typer.Exit(code=2)
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        _print_field_problems([Problem("FILE", "is not UTF-8 text")])
        raise typer.Exit(code=2) from exc
    numbered = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    database = _database()
    actor = _admin_actor()
    done = _OrderImport()
    with _progress_bar() as bar:
        progress = _Bar(bar)
        progress.begin("importing", total=len(numbered))
        # A hundred lines at a time: stored raw (committed), then taken in as bulk intake
        # takes them (a transaction for the hundred, each order that does not go the
        # express lane's way in a savepoint of its own, failures noted in the inbox).
        # Stored and taken in together, no payload waits long enough for the worker to
        # count it as stranded.
        for start in range(0, len(numbered), IMPORT_CHUNK):
            lines = numbered[start : start + IMPORT_CHUNK]
            bodies = [body for _, body in lines]
            with database.transaction() as session:
                kept = intake.store_numbered(session, bodies, source="file", actor=actor)
            stored = [
                (inbox_id, body, number)
                for (inbox_id, number), body in zip(kept, bodies, strict=True)
            ]
            try:
                outcomes = database.in_chunks(
                    stored, IMPORT_CHUNK, partial(_imported, actor=actor), done=progress.advance
                )
            except BaseException:
                # Stopped (Ctrl-C, a failure): what this hundred left stored but not
                # taken in is marked failed, to be replayed, not taken in by the worker.
                _give_up(database, [inbox_id for inbox_id, _ in kept])
                raise
            for (line, _), (outcome, problems, number, reason) in zip(lines, outcomes, strict=True):
                done.counts[outcome] += 1
                if outcome == "failed":
                    done.failures.append((line, problems))
                if reason:
                    done.refusals.append((line, number, reason))
    _print_order_import(file, done)
    if done.failures:
        raise typer.Exit(code=2)


def _give_up(database: Database, inbox_ids: Sequence[int]) -> None:
    """Mark failed (`inbox.interrupted`) the stored payloads not taken in yet."""
    from oms.orders import intake

    stopped = intake.cut_off("the import stopped first; replay it to take it in")
    with database.transaction() as session:
        for inbox_id in inbox_ids:
            intake.give_up(session, inbox_id, stopped)


def _imported(
    session: Session, stored: Sequence[tuple[int, str, str]], *, actor: Principal
) -> list[tuple[str, list[Problem], str, str | None]]:
    """Stored orders taken in, each as the import reports it (its outcome, its problems if
    it failed, its order's number, the reason a change was refused), and nothing more:
    a long file's results are not all kept."""
    from oms.orders import intake

    reported: list[tuple[str, list[Problem], str, str | None]] = []
    for outcome in intake.receive_numbered(session, stored, actor=actor):
        if isinstance(outcome, ValidationFailed):
            reported.append(("failed", outcome.problems, "", None))
        else:
            reported.append((outcome.outcome.value, [], outcome.order.number, outcome.reason))
    return reported


def _print_order_import(file: str, done: _OrderImport) -> None:
    if done.failures:
        table = Table("line", "where", "problem", title=f"{len(done.failures)} order(s) failed")
        for line, problems in done.failures:
            for problem in problems:
                table.add_row(str(line), problem.path, problem.message)
        err.print(table)
    if done.refusals:
        table = Table("line", "order", "change refused because", title="Refused changes")
        for line, number, reason in done.refusals:
            table.add_row(str(line), number, reason)
        err.print(table)
    counts = ", ".join(f"{done.counts[o]} {o}" for o in OUTCOMES)
    console.print(f"orders from {file}: {counts}", markup=False, soft_wrap=True)


@orders_app.command("show")
def orders_show(
    number: Annotated[str, typer.Argument(help="The order number, as SO-000123 (or 123).")],
) -> None:
    """One order: header, lines with every quantity bucket, holds, allocations, timeline."""
    from oms.orders import lifecycle, repository, views

    wanted = f"SO-{int(number):06d}" if number.strip().isdigit() else number.strip().upper()
    database = _database()
    with database.transaction() as session:
        order = repository.order_by_number(session, wanted)
        if order is None:
            raise _fail(lifecycle.OrderNotFound(wanted))
        shown = views.order_out(session, order)
        events = repository.events_of(session, order.id)
    _print_order(shown, events)


def _print_order(order: OrderOut, events: list[OrderEvent]) -> None:
    from rich.panel import Panel

    ship_to = order.ship_to
    where = ", ".join(
        str(ship_to[k])
        for k in ("name", "line1", "city", "region", "postal_code", "country")
        if ship_to.get(k)
    )
    held = [h.type.value for h in order.holds if h.active]
    header = [
        f"[bold]{order.number}[/bold]  {order.status.value}"
        + (f"  [red]on hold: {', '.join(held)}[/red]" if held else ""),
        f"channel {order.channel}, external id {order.external_id}, placed "
        f"{order.placed_at:%Y-%m-%d %H:%M} UTC, version {order.version}",
        f"customer {order.customer.name or '-'} <{order.customer.email or '-'}>"
        + (f" (id {order.customer.id})" if order.customer.id else ""),
        f"ship to {where}",
        f"{order.service_level.value}, priority {order.priority}"
        + (f", ship by {order.ship_by:%Y-%m-%d}" if order.ship_by else "")
        + (f", deliver by {order.deliver_by:%Y-%m-%d}" if order.deliver_by else ""),
        f"subtotal {order.subtotal:.2f}, discounts {order.discount_total:.2f}, tax "
        f"{order.tax_total:.2f}, shipping {order.shipping_charge:.2f}, "
        f"[bold]total {order.total:.2f} {order.currency}[/bold]",
    ]
    if order.cancel_reason:
        header.append(f"cancelled: {order.cancel_reason}")
    if order.closed_at:
        header.append(f"closed {order.closed_at:%Y-%m-%d %H:%M} UTC")
    console.print(Panel("\n".join(header), title="Sales order", expand=False))
    buckets = ("open", "allocated", "backordered", "released", "shipped", "delivered")
    lines = Table(
        "line", "sku", "ordered", *buckets, "cancelled", "returned", "unit price", title="Lines"
    )
    allocations = Table("line", "sku", "warehouse", "quantity", "reservation", title="Allocations")
    for line in order.lines:
        lines.add_row(
            str(line.line_number),
            line.sku,
            str(line.quantity),
            *(str(getattr(line, b)) for b in buckets),
            str(line.cancelled),
            str(line.returned),
            f"{line.unit_price:.2f}",
        )
        for a in line.allocations:
            allocations.add_row(
                str(line.line_number), line.sku, a.warehouse, str(a.quantity), str(a.reservation_id)
            )
    console.print(lines)
    if allocations.row_count:
        console.print(allocations)
    if order.holds:
        holds = Table("id", "type", "state", "reason", "placed", "released", title="Holds")
        for h in order.holds:
            released = (
                f"{h.released_at:%Y-%m-%d %H:%M} by {h.released_by}: {h.release_note}"
                if h.released_at
                else ""
            )
            holds.add_row(
                str(h.id),
                h.type.value,
                "active" if h.active else "released",
                h.reason,
                f"{h.placed_at:%Y-%m-%d %H:%M} by {h.placed_by}",
                released,
            )
        console.print(holds)
    timeline = Table("at", "event", "actor", "details", title="Timeline")
    for e in events:
        details = ", ".join(f"{k}={v}" for k, v in e.data.items() if v not in (None, [], {}))
        timeline.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.type, e.actor, details)
    console.print(timeline)


@orders_app.command("route")
def orders_route(
    number: Annotated[str, typer.Argument(help="The order number, as SO-000123 (or 123).")],
) -> None:
    """Why the order's stock is where it is: every routing plan made for it, and per line
    each warehouse eligible or not and why, its scores, chosen or not and why."""
    from oms.orders import lifecycle, repository
    from oms.routing import service as routing

    wanted = f"SO-{int(number):06d}" if number.strip().isdigit() else number.strip().upper()
    database = _database()
    with database.transaction() as session:
        order = repository.order_by_number(session, wanted)
        if order is None:
            raise _fail(lifecycle.OrderNotFound(wanted))
        plans = routing.plans_of_order(session, order.id)
    if not plans:
        console.print(f"{wanted} has no routing plan (nothing was left to reserve).")
    for plan in plans:
        _print_routing_plan(plan)


def _print_routing_plan(plan: PlanOut) -> None:
    from rich.panel import Panel

    from oms.routing.rules import describe

    rules = "built-in default" if plan.rule_set_id is None else f"version {plan.rule_set_version}"
    where = ", ".join(
        str(plan.destination[k])
        for k in ("region", "postal_code", "country")
        if plan.destination.get(k)
    )
    header = [
        f"[bold]plan {plan.id}[/bold] for {plan.order_number} ({plan.reason}), "
        f"{plan.created_at:%Y-%m-%d %H:%M} UTC by {plan.actor}",
        f"rule set: {rules}; strategy {plan.strategy}; ship to {where or '-'}",
        *(f"  {text}" for text in describe(plan.rules.to_rule_set())),
        f"units {plan.units}: reserved {plan.planned_units}, backordered "
        f"{plan.backordered_units}; shipments {plan.shipments}, cost {plan.cost:.2f}, "
        f"distance {plan.distance_km:,.0f} km",
        f"fulfillment orders: {', '.join(plan.fulfillment_orders) or 'none'}",
    ]
    if plan.hold_for_review:
        header.append("[red]held for review[/red]")
    header.extend(f"note: {note}" for note in plan.notes)
    console.print(Panel("\n".join(header), title="Routing plan", expand=False))
    for line in plan.trace:
        title = f"line {line.line_number} {line.sku} × {line.quantity}"
        if line.backordered:
            title += f", {line.backordered} backordered"
        if line.note:
            title += f" ({line.note})"
        table = Table(
            "warehouse",
            "chosen",
            "eligible",
            "km",
            "priority",
            "stock",
            "cost",
            "why",
            title=title,
        )
        for c in line.candidates:
            table.add_row(
                c.warehouse,
                "[green]yes[/green]" if c.chosen else "",
                "yes" if c.eligible else "[red]no[/red]",
                f"{c.scores.distance_km:,.0f}",
                f"{c.scores.priority:g}",
                f"{c.scores.stock:g}",
                f"{c.scores.cost:.2f}",
                "; ".join(c.reasons) if c.reasons else c.why,
            )
        console.print(table)


@route_app.command("compare")
def route_compare(
    orders: Annotated[int, typer.Option(min=1, help="Demands in the generated batch.")] = 1000,
    warehouses: Annotated[int, typer.Option(min=1, help="Warehouses in the network.")] = 12,
    skus: Annotated[int, typer.Option(min=1, help="SKUs the demands draw from.")] = 200,
    seed: Annotated[int, typer.Option(help="The batch's random seed.")] = 7,
    time_limit: Annotated[
        float, typer.Option(min=0.1, help="Seconds the optimal strategy may solve.")
    ] = 50.0,
) -> None:
    """Plan a generated batch with both strategies (same stock, capacity and default rules) and
    print them side by side; greedy goes most deserving first, optimal starts from its plans
    and may not end worse than them on the objective."""
    import time

    from oms.routing import batches, optimizer

    batch = batches.generate_batch(orders, warehouses=warehouses, skus=skus, seed=seed)
    candidates = batch.candidates_by_demand()
    began = time.perf_counter()
    greedy = batches.plan_greedily(batch.demands, candidates, costs=batch.costs)
    greedy_seconds = time.perf_counter() - began
    solution = optimizer.solve(
        batch.demands, candidates, costs=batch.costs, time_limit_s=time_limit, baseline=greedy
    )
    _print_route_compare(batch, greedy, greedy_seconds, solution)


def _print_route_compare(
    batch: Batch, greedy: list[Plan], greedy_seconds: float, solution: Solution
) -> None:
    from oms.routing import costs as costing

    units = sum(line.quantity for d in batch.demands for line in d.lines)

    def figures(plans: tuple[Plan, ...] | list[Plan], seconds: float) -> list[str]:
        left = sum(sum(p.backordered.values()) for p in plans)
        return [
            f"{sum(p.shipments for p in plans):,}",
            f"{sum(1 for p in plans if p.shipments > 1):,}",
            f"{sum(p.cost for p in plans):,.2f}",
            f"{sum(p.distance_km for p in plans):,.0f}",
            f"{(units - left) / units:.2%}" if units else "-",
            f"{left:,}",
            f"{costing.plan_objective(plans, batch.costs):,.2f}",
            f"{seconds:.2f}",
        ]

    names = (
        "shipments",
        "split demands",
        "cost",
        "distance km",
        "fill rate",
        "units backordered",
        "objective",
        "solve time s",
    )
    table = Table(
        "",
        "greedy",
        "optimal",
        title=f"{len(batch.demands):,} demands, {units:,} units over "
        f"{len(batch.warehouses)} warehouses",
    )
    for name, g, o in zip(
        names,
        figures(greedy, greedy_seconds),
        figures(solution.plans, solution.seconds),
        strict=True,
    ):
        table.add_row(name, g, o)
    console.print(table)
    console.print(
        f"optimal strategy: HiGHS says {solution.status.lower()}, MIP gap {solution.mip_gap:.4%}, "
        f"{solution.columns:,} columns, {solution.rows:,} rows"
        + ("" if solution.started_from_baseline else "; the greedy plans did not fit as a start"),
        markup=False,
        soft_wrap=True,
    )


@simulate_app.command("wms")
def simulate_wms(
    warehouse: Annotated[str, typer.Option(help="The warehouse code it plays (DAL).")],
    api_key: Annotated[
        str,
        typer.Option(envvar="OMS_SIM_API_KEY", help="An API key of role warehouse."),
    ],
    url: Annotated[str, typer.Option(help="Item OMS's base URL.")] = "http://127.0.0.1:8000",
    admin_key: Annotated[
        str | None,
        typer.Option(help="An admin API key: make the WMS connection to this simulator."),
    ] = None,
    listen: Annotated[
        str, typer.Option(help="host:port of its webhook endpoint (port 0: any free one).")
    ] = "127.0.0.1:8101",
    secret: Annotated[
        str | None,
        typer.Option(envvar="OMS_SIM_SECRET", help="The connection's whsec_… secret."),
    ] = None,
    pull: Annotated[bool, typer.Option(help="Poll for released work instead of webhooks.")] = False,
    ack_delay: Annotated[float, typer.Option(min=0, help="Seconds before the ack.")] = 1.0,
    pick_delay: Annotated[float, typer.Option(min=0, help="Seconds before picking.")] = 2.0,
    pack_delay: Annotated[float, typer.Option(min=0, help="Seconds before packed.")] = 2.0,
    ship_delay: Annotated[float, typer.Option(min=0, help="Seconds before the shipment.")] = 3.0,
    short_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of fulfillment orders picked short.")
    ] = 0.1,
    reject_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of fulfillment orders rejected at ack.")
    ] = 0.0,
    poll_interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 2.0,
    seed: Annotated[int | None, typer.Option(help="Same seed, same decisions.")] = None,
) -> None:
    """Play a warehouse's WMS against Item OMS over HTTP until stopped (Ctrl-C): take released
    fulfillment orders (signed webhooks, or polling without a secret or with --pull) and send
    ack, picking, packed and a shipment with UPS tracking numbers for each."""
    import logging
    import signal
    import threading

    from oms.kit.logs import configure_logging
    from oms.simulate.wms import RegistrationFailed, WmsSimulator, WmsSimulatorConfig

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        _print_field_problems([Problem("--listen", f"{listen!r} is not host:port")])
        raise typer.Exit(code=2)
    try:
        config = WmsSimulatorConfig(
            warehouse=warehouse,
            api_key=api_key,
            oms_url=url,
            host=host.strip("[]"),
            port=int(port),
            secret=secret,
            pull=pull,
            ack_delay=ack_delay,
            pick_delay=pick_delay,
            pack_delay=pack_delay,
            ship_delay=ship_delay,
            short_rate=short_rate,
            reject_rate=reject_rate,
            seed=seed,
            poll_interval=poll_interval,
        )
    except ValueError as exc:
        _print_field_problems([Problem("options", str(exc))])
        raise typer.Exit(code=2) from exc
    configure_logging(json=False)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per poll drowns the steps
    simulator = WmsSimulator(config).start()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        if admin_key:
            simulator.register(admin_key)
        mode = "polling" if simulator.pulling else f"webhooks at {simulator.url}"
        console.print(
            f"WMS simulator for {warehouse}: {mode}; Ctrl-C stops it", markup=False, soft_wrap=True
        )
        stopping.wait()
    except RegistrationFailed as exc:
        err.print(f"error: the WMS connection was not made: {exc}", style="red", markup=False)
        raise typer.Exit(code=2) from exc
    finally:
        simulator.stop()
    counts = simulator.counters
    console.print(
        f"received {counts.received}, acked {counts.acked}, rejected {counts.rejected}, "
        f"shipped {counts.shipped} ({counts.short} short), failed {counts.failed}",
        markup=False,
    )
