"""Import benchmark: N items (default 100 000) from CSV into a fresh, migrated SQLite file.

Times three runs through the same service `oms import` uses: a first import
that creates every item, a second whose file changes every item (all updates),
and an export of them all. The issue asks for 100k items in under 30 s.

    .venv/bin/python bench/import_items.py [--count N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

# The script's folder is on sys.path when run as `python bench/import_items.py`.
from item_data import write_items_csv

from oms import migrate
from oms.auth.principal import SYSTEM
from oms.catalog import exports, imports
from oms.catalog.formats import FileFormat, Kind
from oms.db import Database

TARGET_SECONDS = 30.0


class StageTimer:
    """A progress port that notes when each stage (reading, validating, writing) began."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def begin(self, stage: str, total: int | None = None) -> None:
        self.marks.append((stage, time.perf_counter()))

    def advance(self, count: int) -> None:
        pass

    def stages(self, end: float) -> str:
        ends = [t for _, t in self.marks[1:]] + [end]
        return ", ".join(
            f"{name} {e - t:.1f} s" for (name, t), e in zip(self.marks, ends, strict=True)
        )


def timed_import(database: Database, path: Path) -> tuple[float, imports.ImportSummary]:
    timer = StageTimer()
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source, database.transaction() as session:
        summary = imports.import_file(
            session,
            Kind.ITEMS,
            source,
            fmt=FileFormat.CSV,
            actor=SYSTEM,
            name=path.name,
            progress=timer,
        )
    ended = time.perf_counter()
    print(f"  {timer.stages(ended)} (the commit counts in the last)")
    return ended - started, summary


def timed_export(database: Database) -> tuple[float, int]:
    started = time.perf_counter()
    sink = io.StringIO()
    with database.transaction() as session:
        count = exports.export_records(session, Kind.ITEMS, sink, fmt=FileFormat.CSV)
    return time.perf_counter() - started, count


def report(label: str, seconds: float, rows: int) -> None:
    verdict = "ok" if seconds < TARGET_SECONDS else f"SLOWER than {TARGET_SECONDS:.0f} s"
    print(f"{label:<22} {rows:>8} rows {seconds:8.2f} s {rows / seconds:>10,.0f} rows/s  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as folder:
        root = Path(folder)
        first = write_items_csv(root / "items-1.csv", args.count, edition=1)
        second = write_items_csv(root / "items-2.csv", args.count, edition=2)
        database = Database(args.database_url or f"sqlite:///{root / 'oms.db'}")
        migrate.upgrade(database.engine)
        print(f"Item import benchmark: {args.count} items on {database.dialect}")
        seconds, summary = timed_import(database, first)
        assert summary.created == args.count, summary.counts()
        report("import (create all)", seconds, summary.created)
        create_seconds = seconds
        seconds, summary = timed_import(database, second)
        assert summary.updated == args.count, summary.counts()
        report("import (update all)", seconds, summary.updated)
        seconds, count = timed_export(database)
        report("export (csv)", seconds, count)
        database.dispose()
    return 0 if create_seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
