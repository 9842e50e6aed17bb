"""`oms inventory`: verify the ledger, import a WMS snapshot, adjust stock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from oms import cli
from oms.auth.principal import SYSTEM
from oms.config import get_settings
from oms.db import Database
from oms.inventory import balances, reservations
from oms.inventory.models import Balance, StockSnapshot
from tests.integration.inventory import factories


@pytest.fixture
def runner(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose `oms` talks to the test database, on a console wide enough for tables."""
    monkeypatch.setenv("OMS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def stocked(db: Database) -> Database:
    with db.transaction() as session:
        for sku in ("A", "B"):
            factories.item(session, sku)
        factories.warehouse(session, "DAL")
        factories.stock(session, "A", "DAL", 100)
        factories.stock(session, "B", "DAL", 10)
    return db


def on_hand(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return {line.sku: line.on_hand for line in balances.stock_lines(session, actor=SYSTEM)}


def table_rows(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def stored_snapshots(db: Database) -> list[StockSnapshot]:
    with db.transaction() as session:
        return list(session.scalars(select(StockSnapshot).order_by(StockSnapshot.id)))


# -- verify --------------------------------------------------------------------------


def test_verify_prints_the_counts_and_exits_0_when_balances_equal_the_ledger(
    runner: CliRunner, stocked: Database
) -> None:
    result = runner.invoke(cli.app, ["inventory", "verify"])

    assert result.exit_code == 0, result.output
    assert "2 balances checked: 0 differ from the ledger, 0 from their active reservations" in (
        result.stdout
    )


def test_verify_exits_1_with_a_table_of_every_mismatch(
    runner: CliRunner, stocked: Database
) -> None:
    with stocked.transaction() as session:
        reservations.reserve(
            session, sku="B", warehouse="DAL", quantity=2, reference="SO-1", actor=SYSTEM
        )
        session.execute(update(Balance).where(Balance.on_hand == 100).values(on_hand=103))
        session.execute(update(Balance).where(Balance.reserved == 2).values(reserved=5))

    result = runner.invoke(cli.app, ["inventory", "verify"])

    assert result.exit_code == 1
    assert table_rows(result.stdout) == [
        ["on hand = ledger", "A", "DAL", "103", "100"],
        ["reserved = ledger", "B", "DAL", "5", "2"],
        ["reserved = active reservations", "B", "DAL", "+3", "+0"],
    ]


# -- import-snapshot -----------------------------------------------------------------


def test_a_csv_snapshot_is_imported_and_every_line_reported(
    runner: CliRunner, stocked: Database, tmp_path: Path
) -> None:
    path = tmp_path / "count.csv"
    path.write_text("sku,counted,in_flight\nA,97,\nB,10,\n")

    result = runner.invoke(
        cli.app, ["inventory", "import-snapshot", str(path), "--warehouse", "DAL"]
    )

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert [row[0] for row in rows] == ["A", "B"]
    assert rows[0] == ["A", "97", "0", "100", "0", "100", "-3", "0", "applied"]
    assert rows[1][-3:] == ["0", "0", "matched"]
    assert "applied; 2 lines, 1 differences, 0 waiting for approval" in result.stdout
    assert on_hand(stocked) == {"A": 97, "B": 10}


def test_a_json_snapshot_with_complete_counts_missing_items_as_zero(
    runner: CliRunner, stocked: Database, tmp_path: Path
) -> None:
    path = tmp_path / "count.json"
    path.write_text(json.dumps([{"sku": "A", "counted": 100}]))

    result = runner.invoke(
        cli.app,
        ["inventory", "import-snapshot", str(path), "--warehouse", "DAL", "--complete"],
    )

    assert result.exit_code == 0, result.output
    [_, b] = table_rows(result.stdout)
    assert (b[0], b[1], b[6]) == ("B", "0", "-10")
    assert on_hand(stocked)["B"] == 0


def test_a_large_difference_is_parked_for_approval(
    runner: CliRunner, stocked: Database, tmp_path: Path
) -> None:
    path = tmp_path / "count.csv"
    path.write_text("sku,counted\nB,500\n")

    result = runner.invoke(
        cli.app,
        [
            "inventory",
            "import-snapshot",
            str(path),
            "--warehouse",
            "DAL",
            "--as-of",
            "2030-01-01T00:00:00Z",
        ],
    )

    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout)[0][-1] == "pending_approval"
    assert "pending_approval; 1 lines, 1 differences, 1 waiting for approval" in result.stdout
    assert on_hand(stocked)["B"] == 10


def test_a_bad_snapshot_exits_2_listing_every_problem_and_stays_stored(
    runner: CliRunner, stocked: Database, tmp_path: Path
) -> None:
    path = tmp_path / "count.json"
    raw = json.dumps({"lines": [{"sku": "NOPE", "counted": 1}, {"sku": "ZZ", "counted": 2}]})
    path.write_text(raw)

    result = runner.invoke(
        cli.app, ["inventory", "import-snapshot", str(path), "--warehouse", "DAL"]
    )

    assert result.exit_code == 2
    assert [row[0] for row in table_rows(result.stderr)] == ["lines[0].sku", "lines[1].sku"]
    assert "stored but was not applied" in result.stderr
    [stored] = stored_snapshots(stocked)
    assert (stored.raw, stored.status) == (raw, "failed")


def test_a_file_of_another_kind_and_a_bad_time_are_both_named(
    runner: CliRunner, stocked: Database, tmp_path: Path
) -> None:
    path = tmp_path / "count.xml"
    path.write_text("<count/>")

    result = runner.invoke(
        cli.app,
        ["inventory", "import-snapshot", str(path), "--warehouse", "DAL", "--as-of", "yesterday"],
    )

    assert result.exit_code == 2
    assert [row[0] for row in table_rows(result.stderr)] == ["FILE", "--as-of"]
    assert stored_snapshots(stocked) == []


def test_a_snapshot_of_an_unknown_warehouse_exits_2(
    runner: CliRunner, stocked: Database, tmp_path: Path
) -> None:
    path = tmp_path / "count.csv"
    path.write_text("sku,counted\nA,1\n")

    result = runner.invoke(
        cli.app, ["inventory", "import-snapshot", str(path), "--warehouse", "ATL"]
    )

    assert result.exit_code == 2
    assert "catalog.warehouse_not_found" in result.stderr


# -- adjust --------------------------------------------------------------------------


def test_adjust_changes_on_hand_and_prints_the_balance(
    runner: CliRunner, stocked: Database
) -> None:
    result = runner.invoke(
        cli.app,
        [
            "inventory",
            "adjust",
            "--sku",
            "A",
            "--warehouse",
            "DAL",
            "--quantity",
            "-3",
            "--reason",
            "damaged",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "A at DAL: on hand 97, reserved 0, available 97" in result.stdout
    assert on_hand(stocked)["A"] == 97


def test_adjust_with_an_unknown_reason_exits_2_naming_it(
    runner: CliRunner, stocked: Database
) -> None:
    result = runner.invoke(
        cli.app,
        [
            "inventory",
            "adjust",
            "--sku",
            "A",
            "--warehouse",
            "DAL",
            "--quantity",
            "1",
            "--reason",
            "oops",
        ],
    )

    assert result.exit_code == 2
    assert table_rows(result.stderr)[0][0] == "reason"
    assert on_hand(stocked)["A"] == 100


def test_adjust_below_zero_exits_2_with_the_code(runner: CliRunner, stocked: Database) -> None:
    result = runner.invoke(
        cli.app,
        [
            "inventory",
            "adjust",
            "--sku",
            "B",
            "--warehouse",
            "DAL",
            "--quantity=-11",
            "--reason",
            "lost",
        ],
    )

    assert result.exit_code == 2
    assert "inventory.negative_on_hand" in result.stderr
