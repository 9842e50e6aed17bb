"""Rows for several tables written as one statement on PostgreSQL.

A `Shape` names what one kind of write batch does, part by part: rows inserted
into a table (`Insert`, its columns named once; conflicting rows skipped when
asked), rows of a table updated by key (`Update`: columns set, or added to).
Every row carries its id, drawn before: no part waits for another's RETURNING.

On PostgreSQL a shape is one statement of data-modifying CTEs, each over its
columns given as arrays (`unnest`), one parameter per column: the same text for
every batch of the shape, which psycopg prepares after a few runs, so the server
neither parses nor plans it again. Foreign keys between the parts are checked at
the end of the statement, when every part has run. On SQLite (no data-modifying
CTEs; no round trip either, as the database lives in the process) each part with
rows is one executemany.

The statements go through SQLAlchemy's connection (`exec_driver_sql`), so its
statement events see them; values are bound as their columns bind them (a UTC
timestamp checked, a JSON document serialized, an enum as its value).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, Column, Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


@dataclass(frozen=True)
class Insert:
    """Rows inserted into `model`'s table, each giving `columns`."""

    model: type[Any]
    columns: tuple[str, ...]
    skip_conflicts: bool = False
    """ON CONFLICT DO NOTHING: a row that would break a unique key is left out."""


@dataclass(frozen=True)
class Update:
    """Rows of `model`'s table updated by `key`: `columns` set to the values given,
    `added` increased by them."""

    model: type[Any]
    columns: tuple[str, ...]
    added: tuple[str, ...] = ()
    key: str = "id"


Part = Insert | Update


class Shape:
    """What one kind of batch writes; `send` writes one batch of it."""

    def __init__(self, *parts: Part) -> None:
        self.parts = parts
        self._compiled: dict[str, _Compiled] = {}

    def send(self, session: Session, rows: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        """Write one batch: a list of rows for each part, in the shape's order (an empty
        list writes nothing for that part)."""
        if len(rows) != len(self.parts):
            raise ValueError(f"{len(self.parts)} lists of rows wanted, not {len(rows)}")
        connection = session.connection()
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self._compiled[connection.dialect.name] = _compile(
                self.parts, connection.dialect
            )
        compiled.send(connection, rows)


@dataclass(frozen=True)
class Fragment:
    """One part's SQL, to be composed into a statement of the caller's, and how its rows
    become parameters (`params`)."""

    sql: str
    columns: list[str]
    binders: list[Callable[[Mapping[str, Any]], Any]]
    prefix: str
    postgresql: bool

    def params(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | list[tuple[Any, ...]]:
        """PostgreSQL: one array per column, by name; SQLite: one tuple per row."""
        pairs = list(zip(self.columns, self.binders, strict=True))
        if self.postgresql:
            return {
                f"{self.prefix}_{m}": [take(row) for row in rows]
                for m, (_, take) in enumerate(pairs)
            }
        return [tuple(take(row) for _, take in pairs) for row in rows]


def fragment(part: Part, dialect: Dialect, prefix: str) -> Fragment:
    """`part` alone: on PostgreSQL an INSERT … SELECT FROM unnest (or UPDATE … FROM
    unnest) whose parameters are named `<prefix>_<n>`, to be written into a CTE of the
    caller's; on SQLite a statement for an executemany."""
    compiled = _compile([part], dialect, prefix=prefix, bare=True)
    return Fragment(
        compiled.statements[0],
        compiled.columns[0],
        compiled.binders[0],
        prefix,
        compiled.postgresql,
    )


@dataclass(frozen=True)
class _Compiled:
    statements: list[str]
    """PostgreSQL: the one statement; SQLite: one per part."""
    columns: list[list[str]]
    """Each part's columns, in the order its statement binds them."""
    binders: list[list[Callable[[Mapping[str, Any]], Any]]]
    postgresql: bool

    def send(self, connection: Connection, rows: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        if self.postgresql:
            params: dict[str, Any] = {}
            for n, (binders, part_rows) in enumerate(zip(self.binders, rows, strict=True)):
                for m, bind in enumerate(binders):
                    params[f"p{n}_{m}"] = [bind(row) for row in part_rows]
            connection.exec_driver_sql(self.statements[0], params)
            return
        for sql, binders, part_rows in zip(self.statements, self.binders, rows, strict=True):
            if part_rows:
                connection.exec_driver_sql(
                    sql,
                    [tuple(bind(row) for bind in binders) for row in part_rows],
                )


def _compile(
    parts: Sequence[Part], dialect: Dialect, *, prefix: str = "p", bare: bool = False
) -> _Compiled:
    """`bare`: on PostgreSQL, each part's statement alone rather than all in one."""
    quote = dialect.identifier_preparer
    postgresql = dialect.name == "postgresql"
    bodies: list[str] = []
    statements: list[str] = []
    columns: list[list[str]] = []
    binders: list[list[Callable[[Mapping[str, Any]], Any]]] = []
    for n, part in enumerate(parts):
        table = cast(Table, part.model.__table__)
        name = quote.format_table(table)
        if isinstance(part, Insert):
            names = list(part.columns)
        else:
            names = [part.key, *part.columns, *part.added]
        for column in names:
            if column not in table.c:
                raise ValueError(f"{table.name} has no column {column!r}")
        columns.append(names)
        binders.append([_taker(table.c[c], dialect) for c in names])
        quoted = [quote.quote(c) for c in names]
        if postgresql:
            arrays = ", ".join(
                f"%({prefix if bare else f'p{n}'}_{m})s::{_array_type(table.c[c], dialect)}"
                for m, c in enumerate(names)
            )
            columns_sql = ", ".join(quoted)
            if isinstance(part, Insert):
                body = f"INSERT INTO {name} ({columns_sql}) SELECT * FROM unnest({arrays})"  # noqa: S608
                if part.skip_conflicts:
                    body += " ON CONFLICT DO NOTHING"
            else:
                assigned = _assignments(part, quote.quote, "x")
                key = quoted[0]
                body = f"UPDATE {name} SET {assigned} FROM unnest({arrays}) AS x({columns_sql}) "  # noqa: S608
                body += f"WHERE {name}.{key} = x.{key}"
            bodies.append(body)
        elif isinstance(part, Insert):
            conflict = " OR IGNORE" if part.skip_conflicts else ""
            marks = ", ".join("?" for _ in names)
            statements.append(
                f"INSERT{conflict} INTO {name} ({', '.join(quoted)}) VALUES ({marks})"
            )
        else:
            assignments = ", ".join(
                [f"{quote.quote(c)} = ?" for c in part.columns]
                + [f"{quote.quote(c)} = {quote.quote(c)} + ?" for c in part.added]
            )
            statements.append(f"UPDATE {name} SET {assignments} WHERE {quoted[0]} = ?")  # noqa: S608
            # SQLite binds the key last.
            columns[-1] = [*part.columns, *part.added, part.key]
            binders[-1] = [*binders[-1][1:], binders[-1][0]]
    if postgresql:
        ctes = ",\n".join(f"w{n} AS ({body})" for n, body in enumerate(bodies))
        statements = bodies if bare else [f"WITH {ctes}\nSELECT 1"]
    return _Compiled(statements, columns, binders, postgresql)


def _assignments(part: Update, quote: Callable[[str], str], source: str) -> str:
    table = cast(Table, part.model.__table__)
    return ", ".join(
        [f"{quote(c)} = {source}.{quote(c)}" for c in part.columns]
        + [f"{quote(c)} = {quote(table.name)}.{quote(c)} + {source}.{quote(c)}" for c in part.added]
    )


def _array_type(column: Column[Any], dialect: Dialect) -> str:
    """The column's type as an array parameter (JSON documents go as text)."""
    if _is_json(column):
        return "TEXT[]::JSONB[]"
    return f"{column.type.compile(dialect=dialect)}[]"


def _is_json(column: Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON)


def _taker(column: Column[Any], dialect: Dialect) -> Callable[[Mapping[str, Any]], Any]:
    """The column's value taken from a row and bound; a nullable column without a default
    may be left out of a row (NULL)."""
    bind = _binder(column, dialect)
    name = column.name
    if column.nullable and column.default is None:
        return lambda row: bind(row.get(name))
    return lambda row: bind(row[name])


def _binder(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """The value as the driver takes it for this column."""
    if _is_json(column) and dialect.name == "postgresql":
        return _json_text
    process = column.type._cached_bind_processor(dialect)
    if process is None:
        return _plain

    def bind(value: Any) -> Any:
        return process(_plain(value))

    return bind


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
