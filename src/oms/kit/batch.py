"""Rows for several tables written as one statement on PostgreSQL.

A `Shape` names what one kind of write batch does, part by part: rows inserted
into a table (`Insert`, its columns named once; conflicting rows skipped when
asked), rows of a table updated by key (`Update`: columns set, or added to).
Every row carries its id, drawn before: no part waits for another's RETURNING.

On PostgreSQL a shape is one statement of data-modifying CTEs, each over its rows
given as one JSON document (`json_populate_recordset` over the table's row type,
which reads each value as its column's type): one parameter per part and a short
text, the same for every batch of the shape, so psycopg converts it once and
prepares it after a few runs (the server neither parses nor plans it again), and
dumps one string per part rather than an array per column, element by element.
Foreign keys between the parts are checked at the end of the statement, when every
part has run. On SQLite (no data-modifying
CTEs; no round trip either, as the database lives in the process) each part with
rows is one executemany.

The statements go through SQLAlchemy's connection (`exec_driver_sql`), so its
statement events see them; values are bound as their columns bind them (a UTC
timestamp checked, a JSON document serialized, an enum as its value). A row may
leave out a nullable column without a default (NULL; JSON null for a JSON column,
as SQLAlchemy writes a None there).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Column, DateTime, Table
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
    pack: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    required: list[str]
    prefix: str
    postgresql: bool

    def params(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | list[tuple[Any, ...]]:
        """PostgreSQL: the rows as one JSON document named `prefix`; SQLite: one tuple per
        row."""
        if self.postgresql:
            return {self.prefix: _json_rows(rows, self.required)}
        return _packed(rows, self.pack, self.required)


def fragment(part: Part, dialect: Dialect, prefix: str) -> Fragment:
    """`part` alone: on PostgreSQL an INSERT … SELECT (or UPDATE … FROM) over the rows
    given as the JSON parameter `prefix`, to be written into a CTE of the caller's; on
    SQLite a statement for an executemany."""
    compiled = _compile([part], dialect, prefix=prefix, bare=True)
    return Fragment(
        compiled.statements[0],
        compiled.columns[0],
        compiled.packs[0],
        compiled.required[0],
        prefix,
        compiled.postgresql,
    )


@dataclass(frozen=True)
class _Compiled:
    statements: list[str]
    """PostgreSQL: the one statement; SQLite: one per part."""
    columns: list[list[str]]
    """Each part's columns, in the order its statement binds them."""
    packs: list[Callable[[Mapping[str, Any]], tuple[Any, ...]]]
    """Each part's row as the tuple its SQLite statement binds."""
    required: list[list[str]]
    """Each part's columns a row must give (not nullable, or with a default)."""
    postgresql: bool

    def send(self, connection: Connection, rows: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        if self.postgresql:
            params = {
                f"p{n}": _json_rows(part_rows, names)
                for n, (names, part_rows) in enumerate(zip(self.required, rows, strict=True))
            }
            connection.exec_driver_sql(self.statements[0], params)
            return
        for sql, pack, required, part_rows in zip(
            self.statements, self.packs, self.required, rows, strict=True
        ):
            if part_rows:
                connection.exec_driver_sql(sql, _packed(part_rows, pack, required))


def _compile(
    parts: Sequence[Part], dialect: Dialect, *, prefix: str = "p", bare: bool = False
) -> _Compiled:
    """`bare`: on PostgreSQL, each part's statement alone rather than all in one."""
    quote = dialect.identifier_preparer
    postgresql = dialect.name == "postgresql"
    bodies: list[str] = []
    statements: list[str] = []
    columns: list[list[str]] = []
    packs: list[Callable[[Mapping[str, Any]], tuple[Any, ...]]] = []
    required: list[list[str]] = []
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
        required.append([c for c in names if not _may_be_left_out(table.c[c])])
        quoted = [quote.quote(c) for c in names]
        if postgresql:
            source = (
                f"json_populate_recordset(NULL::{name}, %({prefix if bare else f'p{n}'})s::json)"
            )
            columns_sql = ", ".join(quoted)
            taken = [_taken(table.c[c], q) for c, q in zip(names, quoted, strict=True)]
            if isinstance(part, Insert):
                if set(names) == set(table.c.keys()) and taken == quoted:
                    # Every column: the row type's order is the table's.
                    body = f"INSERT INTO {name} SELECT * FROM {source}"  # noqa: S608
                else:
                    picked = ", ".join(taken)
                    body = f"INSERT INTO {name} ({columns_sql}) SELECT {picked} FROM {source}"  # noqa: S608
                if part.skip_conflicts:
                    body += " ON CONFLICT DO NOTHING"
            else:
                assigned = _assignments(part, quote.quote, "x")
                key = quoted[0]
                param = f"%({prefix if bare else f'p{n}'})s::json"
                kind = table.c[part.key].type.compile(dialect)
                body = f"UPDATE {name} SET {assigned} FROM {source} AS x "  # noqa: S608
                # The keys once more, as an array: the planner takes the rows for a
                # hundred, and would rather scan the whole table than its index for them.
                body += f"WHERE {name}.{key} = x.{key} AND {name}.{key} = ANY(ARRAY("
                body += f"SELECT (r->>'{part.key}')::{kind} FROM json_array_elements({param}) r))"  # noqa: S608
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
        packs.append(_packer(table, columns[-1], dialect))
    if postgresql:
        ctes = ",\n".join(f"w{n} AS ({body})" for n, body in enumerate(bodies))
        statements = bodies if bare else [f"WITH {ctes}\nSELECT 1"]
    return _Compiled(statements, columns, packs, required, postgresql)


def _assignments(part: Update, quote: Callable[[str], str], source: str) -> str:
    table = cast(Table, part.model.__table__)
    return ", ".join(
        [f"{quote(c)} = {_taken(table.c[c], f'{source}.{quote(c)}')}" for c in part.columns]
        + [f"{quote(c)} = {quote(table.name)}.{quote(c)} + {source}.{quote(c)}" for c in part.added]
    )


def _taken(column: Column[Any], value: str) -> str:
    """The value as the column gets it: a nullable JSON column's None as JSON null, as
    SQLAlchemy writes it (`json_populate_recordset` reads JSON null as SQL NULL)."""
    if _is_json(column) and column.nullable:
        return f"coalesce({value}, 'null'::jsonb)"
    return value


def _json_rows(rows: Sequence[Mapping[str, Any]], required: Sequence[str]) -> str:
    """The rows as one JSON document for `json_populate_recordset` (the `required` columns
    looked for in the first row)."""
    if rows:
        missing = [c for c in required if c not in rows[0]]
        if missing:
            raise KeyError(f"rows without {', '.join(missing)}")
    try:
        return orjson.dumps(rows, default=_json_value, option=_ORJSON).decode()
    except TypeError:  # what orjson refuses (an integer beyond 64 bits), as json writes it
        return json.dumps(rows, default=_json_value, separators=(",", ":"))


_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Item OMS stores UTC only")
        return value.isoformat()
    if isinstance(value, dt.date | dt.time | Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} has no JSON form for a batch")


def _is_json(column: Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON)


def _packer(
    table: Table, names: Sequence[str], dialect: Dialect
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A row as the tuple of `names` the driver binds: a column left out of the row (one
    that may be: nullable, without a default) is NULL, and only the columns whose type
    converts values run their conversion."""
    converted = [
        (n, bind)
        for n, name in enumerate(names)
        if (bind := _binder(table.c[name], dialect)) is not _plain
    ]

    def pack(row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = list(map(row.get, names))
        for n, bind in converted:
            values[n] = bind(values[n])
        return tuple(values)

    return pack


def _packed(
    rows: Sequence[Mapping[str, Any]],
    pack: Callable[[Mapping[str, Any]], tuple[Any, ...]],
    required: Sequence[str],
) -> list[tuple[Any, ...]]:
    if rows:
        missing = [c for c in required if c not in rows[0]]
        if missing:
            raise KeyError(f"rows without {', '.join(missing)}")
    return [pack(row) for row in rows]


def _may_be_left_out(column: Column[Any]) -> bool:
    return bool(column.nullable) and column.default is None


def _binder(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """The value as the driver takes it for this column."""
    process = column.type._cached_bind_processor(dialect)
    if process is None:
        return _plain
    if isinstance(getattr(column.type, "impl", column.type), DateTime):
        # A batch repeats its timestamps: each is converted once.
        seen: dict[Any, Any] = {}

        def remembered(value: Any) -> Any:
            try:
                return seen[value]
            except KeyError:
                if len(seen) > 64:
                    seen.clear()
                found = seen[value] = process(value)
                return found

        return remembered

    def bind(value: Any) -> Any:
        return process(_plain(value))

    return bind


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
