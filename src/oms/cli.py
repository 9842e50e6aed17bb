"""`oms`: the command line of Item OMS (Typer)."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich import progress as rich_progress
from rich.console import Console
from rich.table import Table

from oms import demo, migrate
from oms.auth import repository as auth_repository
from oms.auth import service as auth
from oms.auth.permissions import matrix_markdown
from oms.auth.principal import Principal
from oms.catalog import exports, imports, layouts
from oms.config import Settings, get_settings
from oms.db import Database
from oms.errors import OmsError
from oms.kit.logs import configure_logging

app = typer.Typer(help="Item OMS: orders, stock, routing and purchasing.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo dataset.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="apikeys")
app.add_typer(demo_app, name="demo")

console = Console()
err = Console(stderr=True)


def _database(settings: Settings | None = None) -> Database:
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
    from oms.auth.permissions import Role

    return Principal(kind="cli", id=0, name="operator", roles=frozenset({Role.ADMIN}))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (OMS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OMS_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="API processes.")] = 1,
) -> None:
    """Migrate, make the admin user and the demo data on first start, then serve the API."""
    import uvicorn

    settings = get_settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    database = _database(settings)
    prepare(database, settings)
    database.dispose()
    uvicorn.run(
        "oms.api.main:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
    )


def prepare(database: Database, settings: Settings) -> None:
    """Everything `serve` does before it listens: migrate, admin user, demo data."""
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
        with database.transaction() as session:
            summary = demo.load(session)
        console.print(f"Demo data loaded: {summary}")


@app.command()
def worker() -> None:
    """Run the outbox relay and scheduled jobs until stopped (Ctrl-C)."""
    from oms.jobs.worker import run_forever

    settings = get_settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    database = _database(settings)
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
    database = _database()
    migrate.upgrade(database.engine, revision)
    console.print(f"database at {migrate.current_revision(database.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the newest one."""
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
    database = _database()
    try:
        with database.transaction() as session:
            key = auth.revoke_api_key(session, key_id=key_id, actor=_admin_actor())
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(f"API key {key.id} ({key.prefix}) revoked")


class _Bar:
    """Draws the progress of long work as a transient Rich bar on stderr."""

    def __init__(self, bar: rich_progress.Progress) -> None:
        self._bar = bar
        self._task: rich_progress.TaskID | None = None

    def begin(self, stage: str, total: int | None = None) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(stage, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)


def _progress_bar() -> rich_progress.Progress:
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
    kind: Annotated[layouts.Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[str, typer.Argument(help="A .csv or .jsonl file; `-` reads stdin.")],
    fmt: Annotated[
        layouts.FileFormat | None,
        typer.Option("--format", help="csv or jsonl; by default from the file's suffix."),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good rows and report the bad ones.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate only; write nothing.")] = False,
) -> None:
    """Create or update master records from a file, all of them or none (exit 2 when bad)."""
    database = _database()
    try:
        file_format = layouts.format_of(file, fmt)
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


def _print_problems(problems: list[imports.RowProblem]) -> None:
    table = Table("line", "field", "reason", title=f"{len(problems)} problem(s)")
    for problem in problems:
        table.add_row(str(problem.line), problem.field or "(row)", problem.reason)
    err.print(table)


@app.command("export")
def export(
    kind: Annotated[layouts.Kind, typer.Argument(help="What to write.")],
    fmt: Annotated[
        layouts.FileFormat | None,
        typer.Option("--format", help="csv or jsonl; by default from --output's suffix, else csv."),
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="A file, or `-` for stdout.")] = "-",
) -> None:
    """Write every record of KIND in the layout `oms import` reads."""
    if fmt is None:
        fmt = layouts.SUFFIXES.get(Path(output).suffix.lower(), layouts.FileFormat.CSV)
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
    database = _database()
    try:
        with database.transaction() as session:
            summary = demo.load(session)
    except OmsError as exc:
        raise _fail(exc) from exc
    console.print(f"Demo data loaded: {summary}")
