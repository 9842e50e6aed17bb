"""`oms orders route NUMBER`: every plan of the order, each line's warehouses with their
scores, eligible or not and why, the chosen one marked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from oms import cli
from oms.config import get_settings
from oms.db import Database
from tests.integration.routing import factories


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
def routed(db: Database) -> str:
    """SO-000001: ABC-1 × 3 to New York, from DAL (EDI holds 2; MEM does not serve web)."""
    with db.transaction() as session:
        factories.network(session)
        factories.order(session, lines=[("ABC-1", 3)])
    return "SO-000001"


def rows(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("│┃ ").split("│")]
        for line in output.splitlines()
        if "│" in line
    ]


def test_route_prints_the_plan_and_each_candidate_with_why(runner: CliRunner, routed: str) -> None:
    result = runner.invoke(cli.app, ["orders", "route", routed])

    assert result.exit_code == 0, result.output
    assert "rule set: built-in default; strategy greedy" in result.stdout
    assert "units 3: reserved 3, backordered 0" in result.stdout
    found = {row[0]: row for row in rows(result.stdout) if len(row) == 8}
    assert found["DAL"][1:3] == ["yes", "yes"]
    assert found["EDI"][2:3] == ["no"]
    assert found["EDI"][7] == "holds 2 of 3"
    assert found["MEM"][7] == "does not serve channel web"
    assert found["RNO"][7].startswith("ranked 2nd")


def test_route_of_an_unknown_order_exits_2_naming_it(runner: CliRunner, routed: str) -> None:
    result = runner.invoke(cli.app, ["orders", "route", "SO-999999"])

    assert result.exit_code == 2
    assert "SO-999999" in result.output
