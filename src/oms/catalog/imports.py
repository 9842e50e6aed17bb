"""Bulk import of master data from CSV or JSON lines: all or nothing, every bad row named.

A file holds one kind of record (items, warehouses, ...). Each row is an upsert
by the kind's natural key (SKU, code; a customer's account number, else email):
a new key creates a record, a known key changes only the fields the file gives
(an empty CSV cell or a JSON `null` clears an optional field; for a field that
cannot be empty it keeps the stored value).

CSV columns are the fields of the kind's create schema; a nested object is
spread over dotted columns (`address.city`), a list or mapping is JSON text in
one cell. The header is line 1. JSON lines hold one object per line.

Every row is validated before anything is written, and every problem is
reported as (line, field, reason), duplicates of a key within the file too. If
any row is bad, nothing is imported (`ImportRejected`) unless `skip_invalid`,
which imports the good rows and reports the bad. Writes go in bulk: existing
keys are read once, rows are inserted and updated by executemany in chunks,
one audit row per changed record and one `catalog.imported` event per import.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TextIO, TypeVar

from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.auth.principal import Principal
from oms.catalog.formats import FileFormat, Kind
from oms.catalog.layouts import Change, KindSpec, Layout, Stored, spec_for
from oms.errors import OmsError, Problem, ValidationFailed
from oms.kit.validation import problems_from

CHUNK = 1000
"""Rows per executemany, and per progress step."""

T = TypeVar("T")


# -- progress ------------------------------------------------------------------------


class Progress(Protocol):
    """Where long work reports how far it got (the CLI draws a Rich bar)."""

    def begin(self, stage: str, total: int | None = None) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def begin(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


SILENT: Progress = _Silent()


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RowProblem:
    """One thing wrong in a file: its line, the field (empty for the whole row), why."""

    line: int
    field: str
    reason: str


@dataclass
class ImportSummary:
    kind: Kind
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "problems": len(self.problems),
        }


class ImportRejected(ValidationFailed):
    """A file with bad rows (or a bad header): nothing was imported."""

    code = "catalog.import_invalid"

    def __init__(self, kind: Kind, source: str, rows: list[RowProblem]) -> None:
        super().__init__(
            [Problem(f"line {p.line}: {p.field or '(row)'}", p.reason) for p in rows],
            message=f"{source}: {len(rows)} problem(s), no {kind.value} imported",
        )
        self.kind = kind
        self.source = source
        self.rows = rows


# -- reading a file -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """A row of the file as field values, with the cells that could not be read."""

    line: int
    data: dict[str, Any]
    unreadable: tuple[RowProblem, ...] = ()


@dataclass
class Parsed:
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    header_ok: bool = True


def read_rows(
    source: TextIO, fmt: FileFormat, layout: Layout, *, progress: Progress = SILENT
) -> Parsed:
    """The rows of a file as field dicts, with every line that could not be read."""
    progress.begin("reading", None)
    if fmt is FileFormat.CSV:
        return _read_csv(source, layout, progress)
    return _read_jsonl(source, progress)


def _read_jsonl(source: TextIO, progress: Progress) -> Parsed:
    parsed = Parsed()
    for number, text in enumerate(source, start=1):
        if number % CHUNK == 0:
            progress.advance(CHUNK)
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.problems.append(RowProblem(number, "", f"not valid JSON: {exc.msg}"))
            continue
        if not isinstance(data, dict):
            parsed.problems.append(RowProblem(number, "", "expected one JSON object per line"))
            continue
        parsed.rows.append(SourceRow(number, data))
    return parsed


def _read_csv(source: TextIO, layout: Layout, progress: Progress) -> Parsed:
    parsed = Parsed()
    reader = csv.reader(source)
    try:
        header = [h.strip() for h in next(reader, [])]
        parsed.problems.extend(_header_problems(header, layout))
        if parsed.problems:
            parsed.header_ok = False
            return parsed
        last = reader.line_num
        for count, cells in enumerate(reader, start=1):
            line, last = last + 1, reader.line_num
            if count % CHUNK == 0:
                progress.advance(CHUNK)
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                parsed.problems.append(
                    RowProblem(line, "", f"has {len(cells)} cells; the header has {len(header)}")
                )
                continue
            data, problems = _from_cells(layout, header, cells)
            unreadable = tuple(RowProblem(line, f, reason) for f, reason in problems)
            parsed.rows.append(SourceRow(line, data, unreadable))
    except csv.Error as exc:
        parsed.problems.append(RowProblem(reader.line_num, "", f"cannot be read as CSV: {exc}"))
        parsed.header_ok = False
    return parsed


def _header_problems(header: list[str], layout: Layout) -> list[RowProblem]:
    if not any(header):
        return [RowProblem(1, "", "the file is empty; line 1 must name the columns")]
    known = {*layout.columns, *layout.nested}
    expected = ", ".join(layout.columns)
    problems = set()
    for column in header:
        if column not in known:
            problems.add(RowProblem(1, column, f"unknown column; the columns are {expected}"))
        elif header.count(column) > 1:
            problems.add(RowProblem(1, column, "column given twice"))
    return sorted(problems)


def _from_cells(
    layout: Layout, header: list[str], cells: list[str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    data: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column, cell in zip(header, cells, strict=True):
        text = cell.strip()
        value: Any = text or None
        name, _, sub = column.partition(".")
        if sub:
            data.setdefault(name, {})[sub] = value
            continue
        if value is not None and (name in layout.json_fields or name in layout.nested):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                problems.append((column, f"expected JSON text: {exc.msg}"))
                continue
        data[name] = value
    for name in layout.nested:
        part = data.get(name)
        if isinstance(part, dict) and all(v is None for v in part.values()):
            data[name] = None
    return data, problems


# -- the import ------------------------------------------------------------------------------


@dataclass
class _Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)

    def refuse(self, line: int, problems: Iterable[RowProblem]) -> None:
        self.problems.extend(problems)
        self.bad_lines.add(line)


def import_file(
    session: Session,
    kind: Kind,
    source: TextIO,
    *,
    fmt: FileFormat,
    actor: Principal,
    name: str = "-",
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress = SILENT,
) -> ImportSummary:
    """Validate every row of `source`, then upsert them all in the caller's transaction.

    Raises ImportRejected when a row is bad and not `skip_invalid`, or when the
    header is bad; the caller's transaction then rolls back whatever was
    written. `dry_run` validates only (a kind saved through its services is
    written in a savepoint and rolled back, so references are checked too).
    """
    spec = spec_for(kind)
    parsed = read_rows(source, fmt, spec.layout, progress=progress)
    if not parsed.header_ok:
        raise ImportRejected(kind, name, parsed.problems)
    progress.begin("loading", None)
    stored: dict[str, Stored] = {}
    for record in spec.load(session):
        stored[record.key] = record
        for alias in record.aliases:
            stored.setdefault(alias, record)
    plan = _plan(spec, parsed, stored, progress)
    plan.problems.extend(parsed.problems)
    plan.bad_lines.update(p.line for p in parsed.problems)
    if plan.problems and not skip_invalid:
        raise ImportRejected(kind, name, sorted(plan.problems))
    if spec.save is not None:
        keep = not dry_run
        _save_each(
            session,
            spec,
            plan,
            actor=actor,
            keep=keep,
            all_or_none=not skip_invalid,
            progress=progress,
        )
        if plan.problems and not skip_invalid:
            raise ImportRejected(kind, name, sorted(plan.problems))
    elif not dry_run:
        _write_in_bulk(session, spec, plan, actor=actor, name=name, progress=progress)
    created = sum(1 for c in plan.changes if c.stored is None)
    summary = ImportSummary(
        kind=kind,
        source=name,
        created=created,
        updated=len(plan.changes) - created,
        unchanged=plan.unchanged,
        skipped=len(plan.bad_lines),
        problems=sorted(plan.problems),
        dry_run=dry_run,
    )
    if not dry_run:
        outbox.record(session, "catalog.imported", summary.counts(), key=f"catalog:{kind.value}")
    return summary


def _plan(spec: KindSpec, parsed: Parsed, stored: dict[str, Stored], progress: Progress) -> _Plan:
    plan = _Plan()
    seen: dict[str, int] = {}
    keeps = spec.kept_when_blank
    nested = spec.layout.nested.keys()
    recheck = spec.save is not None
    progress.begin("validating", len(parsed.rows))
    for count, row in enumerate(parsed.rows, start=1):
        if count % CHUNK == 0:
            progress.advance(CHUNK)
        if row.unreadable:
            plan.refuse(row.line, row.unreadable)
        found = spec.key_of(row.data)
        if found is None and spec.key_missing:
            plan.refuse(row.line, [RowProblem(row.line, spec.first[0], spec.key_missing)])
            continue
        key_field, key = found if found is not None else ("", "")
        if key and key in seen:
            reason = f"{key} is also on line {seen[key]}"
            plan.refuse(row.line, [RowProblem(row.line, key_field, reason)])
            continue
        if key:
            seen[key] = row.line
        before = stored.get(key) if key else None
        try:
            model = spec.schema.model_validate(_merged(row.data, before, keeps, nested))
        except PydanticValidationError as exc:
            plan.refuse(
                row.line,
                (_row_problem(row.line, p) for p in problems_from(exc.errors())),
            )
            continue
        if row.line in plan.bad_lines:
            continue
        values = spec.complete(model)
        if before is not None and recheck:
            before = replace(before, fields=spec.canonical(before.fields))
        if before is not None and before.fields == values:
            plan.unchanged += 1
        else:
            plan.changes.append(Change(row.line, key, model, values, before))
    progress.advance(len(parsed.rows) % CHUNK)
    return plan


def _row_problem(line: int, problem: Problem) -> RowProblem:
    return RowProblem(line, "" if problem.path == "body" else problem.path, problem.message)


def _merged(
    given: dict[str, Any],
    before: Stored | None,
    keeps: frozenset[str],
    nested: Collection[str],
) -> dict[str, Any]:
    """The fields to validate: the file's over the stored ones (a nested object field by field)."""
    if before is None:
        return {k: v for k, v in given.items() if v is not None}
    data = dict(before.fields)
    for name, value in given.items():
        if value is None and name in keeps:
            continue
        old = data.get(name)
        if name in nested and isinstance(value, dict) and isinstance(old, dict):
            value = {**old, **value}
        data[name] = value
    return data


def _write_in_bulk(
    session: Session,
    spec: KindSpec,
    plan: _Plan,
    *,
    actor: Principal,
    name: str,
    progress: Progress,
) -> None:
    """Insert and update by executemany in chunks, with one audit row per record."""
    assert spec.insert is not None
    assert spec.update is not None
    progress.begin("writing", len(plan.changes))
    action = f"{spec.entity}.imported"
    creates = [c for c in plan.changes if c.stored is None]
    updates = [c for c in plan.changes if c.stored is not None]
    for write, changes, verb in (
        (spec.insert, creates, "created"),
        (spec.update, updates, "updated"),
    ):
        for chunk in _chunks(changes):
            write(session, chunk)
            audit.record_many(
                session,
                [
                    {
                        "actor": actor.label,
                        "action": action,
                        "entity_type": spec.entity,
                        "entity_id": change.key,
                        "before": _jsonable(change.stored),
                        "after": to_jsonable_python(change.values),
                        "note": f"{verb} by import of {name}",
                    }
                    for change in chunk
                ],
            )
            progress.advance(len(chunk))
    session.flush()


def _jsonable(stored: Stored | None) -> dict[str, Any] | None:
    return None if stored is None else dict(to_jsonable_python(stored.fields))


def _save_each(
    session: Session,
    spec: KindSpec,
    plan: _Plan,
    *,
    actor: Principal,
    keep: bool,
    all_or_none: bool,
    progress: Progress,
) -> None:
    """Save record by record through the kind's service; a refused record becomes a problem.

    The saves are undone unless `keep`, and when `all_or_none` and one was refused.
    """
    assert spec.save is not None
    progress.begin("writing", len(plan.changes))
    outer = session.begin_nested()
    saved: list[Change] = []
    for change in plan.changes:
        try:
            with session.begin_nested():
                spec.save(session, change, actor)
            saved.append(change)
        except ValidationFailed as exc:
            plan.refuse(change.line, (_row_problem(change.line, p) for p in exc.problems))
        except OmsError as exc:
            plan.refuse(change.line, [RowProblem(change.line, "", str(exc))])
        progress.advance(1)
    plan.changes = saved
    if not keep or (all_or_none and plan.problems):
        outer.rollback()
    else:
        outer.commit()


def _chunks(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]
