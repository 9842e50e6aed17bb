"""`oms orders`: import a JSON lines file through intake, show one order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from oms import cli
from oms.auth.principal import SYSTEM
from oms.config import get_settings
from oms.db import Database
from oms.inbox.models import InboxMessage, InboxStatus
from oms.orders import holds, intake, repository
from oms.orders.models import HoldType, SalesOrder
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
def shop(db: Database) -> Database:
    """A web channel served by DAL, which holds 5 of WID-1 and 100 of GAD-2."""
    with db.transaction() as session:
        factories.warehouse(session, "DAL")
        factories.item(session, "WID-1")
        factories.item(session, "GAD-2")
        factories.channel(session, "web", warehouses=["DAL"])
        factories.stock(session, "WID-1", "DAL", 5)
        factories.stock(session, "GAD-2", "DAL", 100)
    return db


def order(external_id: str, *lines: tuple[str, int], **overrides: Any) -> dict[str, Any]:
    return {
        "channel": "web",
        "external_id": external_id,
        "currency": "USD",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "ship_to": {
            "name": "Ada Lovelace",
            "line1": "1 Main St",
            "city": "Dallas",
            "region": "TX",
            "postal_code": "75201",
            "country": "US",
        },
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price": "19.99"}
            for sku, quantity in lines or [("GAD-2", 1)]
        ],
        **overrides,
    }


def jsonl(tmp_path: Path, *lines: dict[str, Any] | str) -> Path:
    path = tmp_path / "orders.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def inbox_statuses(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(InboxMessage.status).order_by(InboxMessage.id)))


def order_count(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(SalesOrder)) or 0


def table_rows(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if line.startswith("│")
    ]


# -- import --------------------------------------------------------------------------


def test_import_creates_each_order_and_prints_the_summary(
    runner: CliRunner, shop: Database, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, order("1001"), order("1002", ("WID-1", 2), ("GAD-2", 1)))

    result = runner.invoke(cli.app, ["orders", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "2 created, 0 duplicate, 0 changed, 0 refused, 0 failed" in result.stdout
    assert order_count(shop) == 2


def test_importing_the_same_file_again_finds_only_duplicates(
    runner: CliRunner, shop: Database, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, order("1001"), order("1002"))
    runner.invoke(cli.app, ["orders", "import", str(path)])

    result = runner.invoke(cli.app, ["orders", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "0 created, 2 duplicate" in result.stdout
    assert order_count(shop) == 2


def test_a_bad_order_fails_at_its_line_with_its_path_and_the_others_are_created(
    runner: CliRunner, shop: Database, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, order("1001"), "", order("1002", ("NOPE-9", 1)), order("1003"))

    result = runner.invoke(cli.app, ["orders", "import", str(path)])

    assert result.exit_code == 2
    assert "2 created, 0 duplicate, 0 changed, 0 refused, 1 failed" in result.stdout
    [row] = table_rows(result.stderr)
    assert row[:2] == ["3", "lines[0].sku"]
    assert order_count(shop) == 2


def test_every_line_is_kept_in_the_inbox_first_failures_included(
    runner: CliRunner, shop: Database, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, order("1001"), "{not json", order("1002"))

    runner.invoke(cli.app, ["orders", "import", str(path)])

    assert inbox_statuses(shop) == [InboxStatus.ACCEPTED, InboxStatus.FAILED, InboxStatus.ACCEPTED]


def test_a_line_that_is_not_json_fails_at_the_body(
    runner: CliRunner, shop: Database, tmp_path: Path
) -> None:
    path = jsonl(tmp_path, "{not json")

    result = runner.invoke(cli.app, ["orders", "import", str(path)])

    assert result.exit_code == 2
    assert table_rows(result.stderr)[0][:2] == ["1", "body"]


def test_an_import_stopped_midway_leaves_what_it_stored_but_did_not_take_in_failed(
    runner: CliRunner, shop: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = jsonl(tmp_path, order("1001"), order("1002"))

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(intake, "receive_numbered", stopped)

    result = runner.invoke(cli.app, ["orders", "import", str(path)])

    assert result.exit_code != 0
    assert order_count(shop) == 0
    assert inbox_statuses(shop) == [InboxStatus.FAILED, InboxStatus.FAILED]
    with shop.transaction() as session:
        errors = session.scalars(select(InboxMessage.errors).order_by(InboxMessage.id)).all()
    assert [e[0]["code"] for e in errors if e] == ["inbox.interrupted"] * 2


def test_importing_a_missing_file_exits_2_naming_it(runner: CliRunner, shop: Database) -> None:
    result = runner.invoke(cli.app, ["orders", "import", "nowhere.jsonl"])

    assert result.exit_code == 2
    assert "nowhere.jsonl is not a readable file" in result.stderr


# -- show ----------------------------------------------------------------------------


def imported(runner: CliRunner, tmp_path: Path, *orders: dict[str, Any]) -> None:
    result = runner.invoke(cli.app, ["orders", "import", str(jsonl(tmp_path, *orders))])
    assert result.exit_code == 0, result.output


def test_show_prints_the_header_lines_with_every_bucket_allocations_and_timeline(
    runner: CliRunner, shop: Database, tmp_path: Path
) -> None:
    imported(runner, tmp_path, order("1001", ("WID-1", 7), ("GAD-2", 3)))

    result = runner.invoke(cli.app, ["orders", "show", "SO-000001"])

    assert result.exit_code == 0, result.output
    assert "SO-000001  partially_allocated" in result.stdout
    assert "channel web, external id 1001" in result.stdout
    rows = table_rows(result.stdout)
    # line, sku, ordered, open, allocated, backordered, released, shipped, delivered, ...
    # (DAL holds 5 of the 7 WID-1: the default rule set backorders a line no warehouse
    # holds whole)
    assert ["1", "WID-1", "7", "0", "0", "7", "0", "0", "0", "0", "0", "19.99"] in rows
    assert ["2", "GAD-2", "3", "0", "3", "0", "0", "0", "0", "0", "0", "19.99"] in rows
    assert any(row[:4] == ["2", "GAD-2", "DAL", "3"] for row in rows)
    assert any(row[1:2] == ["created"] for row in rows)


def test_show_lists_active_holds(runner: CliRunner, shop: Database, tmp_path: Path) -> None:
    imported(runner, tmp_path, order("1001"))
    with shop.transaction() as session:
        found = repository.order_by_number(session, "SO-000001")
        assert found is not None
        holds.place_hold(
            session, found.id, type=HoldType.FRAUD, reason="card mismatch", actor=SYSTEM
        )

    result = runner.invoke(cli.app, ["orders", "show", "1"])

    assert "on hold: fraud" in result.stdout
    assert any(
        row[1:4] == ["fraud", "active", "card mismatch"] for row in table_rows(result.stdout)
    )


def test_showing_an_unknown_order_exits_2_with_its_code(runner: CliRunner, shop: Database) -> None:
    result = runner.invoke(cli.app, ["orders", "show", "SO-999999"])

    assert result.exit_code == 2
    assert "order.not_found" in result.stderr
