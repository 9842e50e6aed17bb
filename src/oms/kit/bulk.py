"""Writing many rows at once, fast on both databases.

What an executemany costs, per row: on PostgreSQL a round of the extended
protocol (bind, execute, and the row inserted alone), about 30 µs; on SQLite
SQLAlchemy's own work on the parameters (every value through its column's bind
processor, a timestamp formatted each time), about 7 µs. A multi-row INSERT …
RETURNING costs psycopg a parse of every page's SQL text, and SQLAlchemy sends
it to SQLite one row at a time when the ids must come back in the order of the
rows (SQLite does not promise the order of RETURNING).

So from `DIRECT_FROM` rows on, rows go straight to the driver: COPY … FROM STDIN on PostgreSQL, the
driver's executemany on SQLite; each value bound as its column's type binds it
(a UTC timestamp checked, a JSON document serialized, a repeated timestamp
converted once), columns left out at their default. Ids the caller needs are
drawn from the column's sequence first on PostgreSQL; on SQLite the first row
is inserted alone and returns its id, and the rows after it take the ids that
follow (no AUTOINCREMENT: SQLite gave it the largest rowid plus one), since the
transaction holds SQLite's only write lock from there on.

These writes go past SQLAlchemy's statement events (and its echo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Column, DateTime, Table, Text, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

DIRECT_FROM = 100
"""Fewer rows go through SQLAlchemy as any statement does (an executemany, an INSERT …
RETURNING): as quick for a few rows, and seen by its statement events."""


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each with the same keys) into `model`'s table at once; columns left
    out take their default as an INSERT would give them."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    if session.autoflush:
        session.flush()  # as the ORM's own bulk insert would, before it writes
    if len(rows) < DIRECT_FROM:
        session.execute(insert(table), list(rows))
    else:
        _send(session.connection(), table, rows)


def insert_with_ids(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert `rows` (each with the same keys) into `model`'s table; their ids, in order."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    if session.autoflush:
        session.flush()
    if len(rows) < DIRECT_FROM:
        found = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [int(i) for i in found.scalars()]
    if is_postgresql(session):
        drawn = session.scalars(
            select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                func.generate_series(1, len(rows))
            )
        )
        ids = [int(i) for i in drawn]
    else:
        first = session.execute(insert(table).values(**rows[0]).returning(table.c.id))
        ids = [int(first.scalar_one())]
        if not _holds_sqlite_write_lock(session):
            for row in rows[1:]:
                found = session.execute(insert(table).values(**row).returning(table.c.id))
                ids.append(int(found.scalar_one()))
            return ids
        ids += range(ids[0] + 1, ids[0] + len(rows))
        rows = rows[1:]
    _send(
        session.connection(),
        table,
        [{**row, "id": i} for row, i in zip(rows, ids[-len(rows) :], strict=True)],
    )
    return ids


def unnest(
    name: str, columns: Mapping[str, tuple[TypeEngine[Any], Sequence[Any]]]
) -> TableValuedAlias:
    """PostgreSQL only: rows given column by column (name → (type, values), all of one
    length) as a table `name` to join in an UPDATE … FROM or a SELECT. Each column goes
    as one array literal, written here rather than by psycopg's array dumper, which
    looks at every element apart (a microsecond each)."""
    arrays = [
        sql_cast(
            bindparam(f"{name}_{column}", value=_array_literal(values), type_=Text, unique=True),
            ARRAY(type_),
        )
        for column, (type_, values) in columns.items()
    ]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


def _array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of numbers, strings, datetimes and None."""
    return "{" + ",".join(_element(value) for value in values) + "}"


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return f'"{value.isoformat()}"'
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no array literal for {type(value).__name__}")


def _send(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """The rows to the driver: COPY on PostgreSQL, its executemany on SQLite."""
    names, values = _bound(connection, table, rows)
    quote = connection.dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in names)})"
    driver: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in names)
        cursor = driver.cursor()
        try:
            cursor.executemany(f"INSERT INTO {target} VALUES ({marks})", values)  # noqa: S608
        finally:
            cursor.close()


def _bound(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[str], Iterator[list[Any]]]:
    """The columns written, and each row's values as the driver takes them."""
    given = list(rows[0])
    left_out = [c for c in table.c if c.name not in rows[0] and c.default is not None]
    binders = [_binder(connection, table.c[name]) for name in given]
    fill = [_binder(connection, column)(_default(column)) for column in left_out]
    values = (
        [bind(row[name]) for name, bind in zip(given, binders, strict=True)] + fill for row in rows
    )
    return given + [c.name for c in left_out], values


def _binder(connection: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """The column's bind processor; remembering its answers for timestamps (a batch
    repeats its `now`)."""
    process = column.type._cached_bind_processor(connection.dialect)
    if process is None:
        return _same
    if not _holds_datetimes(column):
        return process
    seen: dict[Any, Any] = {}

    def bind(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = found = process(value)
            return found

    return bind


def _holds_datetimes(column: Column[Any]) -> bool:
    return isinstance(getattr(column.type, "impl", column.type), DateTime)


def _same(value: Any) -> Any:
    return value


def _default(column: Column[Any]) -> Any:
    """The value an INSERT would give a column left out (a scalar, or a callable's result,
    taken once for all the rows)."""
    default: Any = column.default
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    raise ValueError(f"{column} has a SQL default; give its value in every row")


def _holds_sqlite_write_lock(session: Session) -> bool:
    """True inside a transaction that has written (it keeps SQLite's write lock to its end)."""
    raw = session.connection().connection.dbapi_connection
    return bool(getattr(raw, "in_transaction", False))
