"""The `oms` command line: import, export and the demo, beside the commands already there."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from oms.auth import repository as auth_repository
from oms.auth import service as auth
from oms.catalog import repository
from oms.catalog.models import Item, Warehouse
from oms.cli import app, prepare
from oms.config import Settings, get_settings
from oms.db import Database

WIDGETS = "sku,name,gtin\nABC-1,Blue widget,00012345678905\nABC-2,Red widget,\n"


@pytest.fixture
def cli(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose `oms` talks to the test database."""
    monkeypatch.setenv("OMS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def items_in(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def test_importing_a_csv_of_items_prints_what_it_did(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "items.csv"
    path.write_text(WIDGETS)

    result = cli.invoke(app, ["import", "items", str(path)])

    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged, 0 skipped" in result.stdout
    assert items_in(db) == 2


def test_a_file_with_bad_rows_exits_2_naming_each_line_and_imports_nothing(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "items.csv"
    path.write_text("sku,name,gtin\nABC-1,Blue widget,00012345678901\nABC-2,,\n")

    result = cli.invoke(app, ["import", "items", str(path)])

    assert result.exit_code == 2
    table = [line.split("│")[1:3] for line in result.stderr.splitlines() if line.startswith("│")]
    assert [(line.strip(), field.strip()) for line, field in table if line.strip()] == [
        ("2", "gtin"),
        ("3", "name"),
    ]
    assert "no items imported" in result.stderr
    assert items_in(db) == 0


def test_skip_invalid_imports_the_good_rows_and_still_lists_the_bad(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"sku": "ABC-1", "name": "Blue widget"}\n{"sku": "ABC-2"}\n')

    result = cli.invoke(app, ["import", "items", str(path), "--skip-invalid"])

    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in result.stdout
    assert "name" in result.stderr
    assert items_in(db) == 1


def test_a_dry_run_writes_nothing(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(WIDGETS)

    result = cli.invoke(app, ["import", "items", str(path), "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "2 would be created" in result.stdout
    assert items_in(db) == 0


def test_a_file_of_unknown_format_is_refused_with_a_code(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "items.txt"
    path.write_text(WIDGETS)

    result = cli.invoke(app, ["import", "items", str(path)])

    assert result.exit_code == 2
    assert "catalog.import_format_unknown" in result.stderr


def test_exporting_to_a_file_then_importing_it_changes_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    cli.invoke(app, ["demo", "load"])
    path = tmp_path / "warehouses.jsonl"

    exported = cli.invoke(app, ["export", "warehouses", "--output", str(path)])
    imported = cli.invoke(app, ["import", "warehouses", str(path)])

    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["code"] for line in path.read_text().splitlines()] == [
        "DAL",
        "EDI",
        "RNO",
    ]
    assert "0 created, 0 updated, 3 unchanged" in imported.stdout


def test_exporting_to_stdout_prints_csv_with_a_header(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(WIDGETS)
    cli.invoke(app, ["import", "items", str(path)])

    result = cli.invoke(app, ["export", "items"])

    lines = result.stdout.splitlines()
    assert lines[0].startswith("sku,name,")
    assert [line.split(",")[0] for line in lines[1:]] == ["ABC-1", "ABC-2"]


def test_demo_load_loads_the_dataset_once(cli: CliRunner, db: Database) -> None:
    first = cli.invoke(app, ["demo", "load"])
    second = cli.invoke(app, ["demo", "load"])

    assert first.exit_code == 0, first.output
    assert "warehouses 3 new of 3" in first.stdout
    assert "warehouses 0 new of 3" in second.stdout
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Warehouse)) == 3
        assert repository.channel_by_code(session, "amazon") is not None


def test_the_commands_already_there_still_answer(cli: CliRunner) -> None:
    current = cli.invoke(app, ["db", "current"])
    matrix = cli.invoke(app, ["permissions", "--markdown"])

    assert current.exit_code == 0, current.output
    assert "up to date" in current.stdout
    assert matrix.exit_code == 0, matrix.output


def test_the_first_start_loads_the_demo_when_asked(db: Database, settings: Settings) -> None:
    first_start = settings.model_copy(
        update={"load_demo": True, "admin_password": "a-long-admin-password"}
    )

    prepare(db, first_start)

    assert items_in(db) == 20


def test_importing_the_command_line_loads_no_database_or_validation_library() -> None:
    probe = (
        "import sys, oms.cli; "
        "print(sorted(m for m in ('sqlalchemy', 'pydantic', 'alembic') if m in sys.modules))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    assert loaded.stdout.strip() == "[]"


def test_users_create_makes_a_user_whose_password_verifies(cli: CliRunner, db: Database) -> None:
    result = cli.invoke(
        app,
        ["users", "create", "ana", "--role", "sales_ops", "--scope-channel", "web"],
        input="a long password\na long password\n",
    )

    assert result.exit_code == 0, result.output
    assert "user ana created with roles sales_ops" in result.stdout
    with db.transaction() as session:
        principal = auth.verify_password(session, username="ana", password="a long password")
    assert principal.channels == frozenset({"web"})


def test_users_create_with_an_unknown_role_exits_2_with_the_code(cli: CliRunner) -> None:
    result = cli.invoke(
        app,
        ["users", "create", "ana", "--role", "boss"],
        input="a long password\na long password\n",
    )

    assert result.exit_code == 2
    assert "validation.failed" in result.output


def test_users_list_and_set_roles(cli: CliRunner) -> None:
    cli.invoke(
        app,
        ["users", "create", "ana", "--role", "viewer"],
        input="a long password\na long password\n",
    )

    changed = cli.invoke(app, ["users", "set-roles", "ana", "--role", "purchasing"])
    listed = cli.invoke(app, ["users", "list"])

    assert changed.exit_code == 0, changed.output
    assert "ana" in listed.stdout
    assert "purchasing" in listed.stdout
    assert "viewer" not in listed.stdout


def test_apikeys_create_json_prints_one_line_whose_secret_authenticates(
    cli: CliRunner, db: Database
) -> None:
    result = cli.invoke(
        app, ["apikeys", "create", "--name", "shop", "--role", "integration", "--json"]
    )

    [line] = result.stdout.splitlines()
    issued = json.loads(line)
    assert issued.keys() == {"id", "secret"}
    with db.transaction() as session:
        principal = auth.authenticate_api_key(session, issued["secret"])
    assert principal.id == issued["id"]


def test_apikeys_list_never_shows_a_secret(cli: CliRunner) -> None:
    created = cli.invoke(app, ["apikeys", "create", "--name", "shop", "--role", "viewer", "--json"])
    secret = json.loads(created.stdout)["secret"]

    listed = cli.invoke(app, ["apikeys", "list"])

    assert "shop" in listed.stdout
    assert secret not in listed.stdout
    assert secret.split("_", 2)[2] not in listed.stdout


def test_apikeys_revoke_revokes_the_key(cli: CliRunner, db: Database) -> None:
    created = cli.invoke(app, ["apikeys", "create", "--name", "shop", "--role", "viewer", "--json"])
    key_id = json.loads(created.stdout)["id"]

    result = cli.invoke(app, ["apikeys", "revoke", str(key_id)])

    assert result.exit_code == 0, result.output
    with db.transaction() as session:
        key = auth_repository.api_key_by_id(session, key_id)
        assert key is not None
        assert key.revoked_at is not None


def test_db_upgrade_leaves_the_database_at_the_newest_revision(cli: CliRunner) -> None:
    result = cli.invoke(app, ["db", "upgrade"])
    current = cli.invoke(app, ["db", "current"])

    assert result.exit_code == 0, result.output
    assert "up to date" in current.stdout
