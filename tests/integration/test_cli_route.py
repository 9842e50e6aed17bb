"""`oms route compare`: greedy and optimal side by side over a generated batch."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from oms import cli

ROWS = (
    "shipments",
    "split demands",
    "cost",
    "distance km",
    "fill rate",
    "units backordered",
    "objective",
    "solve time s",
)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner on a console wide enough for the table."""
    monkeypatch.setattr(cli.console, "width", 200)
    return CliRunner()


def figures(output: str, row: str) -> tuple[str, str]:
    """The greedy and optimal cells of one row of the table."""
    found = re.search(rf"│ {row}\s+│ (\S+)\s+│ (\S+)\s+│", output)
    assert found is not None, output
    return found.group(1), found.group(2)


def number(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("%"))


def test_compare_prints_greedy_and_optimal_side_by_side(runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["route", "compare", "--orders", "80", "--warehouses", "5"])

    assert result.exit_code == 0, result.output
    assert "80 demands" in result.output
    for row in ROWS:
        greedy, optimal = figures(result.output, row)
        assert number(greedy) >= 0
        assert number(optimal) >= 0


def test_compare_finds_the_optimal_plan_never_worse_than_greedy(runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["route", "compare", "--orders", "150", "--seed", "3"])

    greedy, optimal = figures(result.output, "objective")
    assert number(optimal) <= number(greedy)
    assert "optimal strategy: HiGHS says optimal, MIP gap 0.0000%" in result.output


def test_compare_is_reproducible_for_a_seed(runner: CliRunner) -> None:
    args = ["route", "compare", "--orders", "40", "--warehouses", "4", "--seed", "9"]

    first = runner.invoke(cli.app, args).output
    second = runner.invoke(cli.app, args).output

    assert figures(first, "cost") == figures(second, "cost")
    assert figures(first, "fill rate") == figures(second, "fill rate")


def test_compare_refuses_an_empty_batch(runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["route", "compare", "--orders", "0"])

    assert result.exit_code == 2


def test_importing_the_command_line_loads_no_solver() -> None:
    probe = (
        "import sys, oms.cli; print(sorted(m for m in ('highspy', 'numpy') if m in sys.modules))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    assert loaded.stdout.strip() == "[]"
