"""`oms`: the command line of Item OMS (Typer)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oms import migrate
from oms.auth import repository as auth_repository
from oms.auth import service as auth
from oms.auth.permissions import matrix_markdown
from oms.auth.principal import Principal
from oms.config import Settings, get_settings
from oms.db import Database
from oms.errors import OmsError
from oms.kit.logs import configure_logging

app = typer.Typer(help="Item OMS: orders, stock, routing and purchasing.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="apikeys")

console = Console()
err = Console(stderr=True)


def _database(settings: Settings | None = None) -> Database:
    settings = settings or get_settings()
    _ensure_sqlite_folder(settings)
    return Database(settings.database_url)


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
        from oms import demo

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
