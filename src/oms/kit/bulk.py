"""Writing many rows at once, fast on both databases.

What an executemany costs, per row: on PostgreSQL a round of the extended
protocol (bind, execute, and the row inserted alone), about 30 µs; on SQLite
SQLAlchemy's own work on the parameters (every value through its column's bind
processor, a timestamp formatted each time), about 7 µs. A multi-row INSERT …
RETURNING costs psycopg a parse of every page's SQL text, and SQLAlchemy sends
it to SQLite one row at a time when the ids must come back in the order of the
rows (SQLite does not promise the order of RETURNING).

So from `DIRECT_FROM` rows on, rows go straight to the driver: a binary COPY …
FROM STDIN on PostgreSQL, one INSERT … SELECT over the rows as JSON
(`json_each`) on SQLite; each value bound as its column's type binds it (a UTC
timestamp checked, a JSON document serialized, a repeated timestamp converted
once), columns left out at their default, a failure raised as SQLAlchemy raises
it. These writes go past SQLAlchemy's statement events (and its echo). Ids the
caller needs are drawn first (`next_ids`): from the column's sequence on
PostgreSQL, after the largest id on SQLite, whose one write lock the
transaction holds. Updates of many rows join the rows given as a table
(`given_rows`: arrays on PostgreSQL, JSON on SQLite), one statement each.

`writing_behind` lets a pass of many writes overlap the database's work with
its own: a helper thread sends each batch (`insert_rows`, `execute_behind`, and
queries whose answer can wait, `read_behind`) while the caller builds the next.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import queue
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, cast

from psycopg.types.json import Jsonb
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    DateTime,
    Integer,
    Table,
    Text,
    bindparam,
    event,
    func,
    insert,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, REGCLASS
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import FromClause, Select
from sqlalchemy.types import TypeEngine

_WRITER = "oms.kit.bulk.writer"
_DRAWN = "oms.kit.bulk.drawn"

DIRECT_FROM = 100
"""Fewer rows go through SQLAlchemy as any statement does (an executemany, an INSERT …
RETURNING): as quick for a few rows, and seen by its statement events."""


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each with the same keys) into `model`'s table at once; columns left
    out take their default as an INSERT would give them. Inside `writing_behind`, big
    batches are only queued."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    if session.autoflush:
        session.flush()  # as the ORM's own bulk insert would, before it writes
    if len(rows) < DIRECT_FROM:
        session.execute(insert(table), list(rows))
        return
    connection = session.connection()
    writer = session.info.get(_WRITER)
    if writer is None:
        _send(connection, table, rows)
    else:
        writer.submit(_sender(connection, table, rows))


def insert_with_ids(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert `rows` (each with the same keys) into `model`'s table; their ids, in order."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    if session.autoflush:
        session.flush()
    if len(rows) < DIRECT_FROM or not _may_draw_ids(session):
        found = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [int(i) for i in found.scalars()]
    ids = next_ids(session, model, len(rows))
    insert_rows(session, model, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def next_ids(session: Session, model: type[Any], count: int) -> list[int]:
    """`count` ids for rows of `model`'s table that this transaction will insert, in order
    (`next_ids_behind`, waited for)."""
    return next_ids_behind(session, model, count)()


def next_ids_behind(session: Session, model: type[Any], count: int) -> Callable[[], list[int]]:
    """`count` ids for rows of `model`'s table that this transaction will insert, in order;
    what it returns gives them (inside `writing_behind` the query is queued, `read_behind`).

    PostgreSQL: drawn from the column's sequence (named once per query, not per row:
    pg_get_serial_sequence for every row costs five times more). SQLite: the ones after
    the largest id there and after any drawn before in this transaction (no
    AUTOINCREMENT: SQLite gives a new row the largest rowid plus one), which nobody else
    can take while the transaction holds SQLite's only write lock; Item OMS's
    transactions take it as they begin (BEGIN IMMEDIATE, `oms.db`).
    """
    if count <= 0:
        return list
    table = cast(Table, model.__table__)
    if is_postgresql(session):
        sequence = select(func.pg_get_serial_sequence(table.name, "id")).scalar_subquery()
        drawn = read_behind(
            session,
            select(func.nextval(sql_cast(sequence, REGCLASS))).select_from(
                func.generate_series(1, count)
            ),
        )
        return lambda: [int(i) for (i,) in drawn()]
    if not _may_draw_ids(session):
        raise RuntimeError("ids are drawn on SQLite only inside a transaction")
    largest = read_behind(session, select(func.coalesce(func.max(table.c.id), 0)))
    ids: list[int] = []

    def given() -> list[int]:
        if not ids:
            [(found,)] = largest()
            drawn_before = _drawn(session)
            first = max(int(found), drawn_before.get(table.name, 0)) + 1
            drawn_before[table.name] = first + count - 1
            ids.extend(range(first, first + count))
        return ids

    return given


def execute_behind(session: Session, statement: UpdateBase) -> None:
    """A statement whose answer nobody reads (an UPDATE … FROM `given_rows`, say): queued
    inside `writing_behind`, else executed now. One statement, not an executemany: the
    helper thread would take Python's lock back for every row, and wait for it."""
    writer: _Writer | None = session.info.get(_WRITER)
    if session.autoflush:
        session.flush()
    sent = None if writer is None else _for_driver(session.connection(), statement)
    if writer is None or sent is None:
        session.execute(statement)
        return
    driver, sql, params, failure = sent

    def send() -> None:
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
        finally:
            cursor.close()

    writer.submit(_raising_as_sqlalchemy(send, sql, failure))


def read_behind(
    session: Session, statement: Select[*tuple[Any, ...]]
) -> Callable[[], list[tuple[Any, ...]]]:
    """A query whose answer is wanted later: inside `writing_behind` queued after the writes
    before it (the caller goes on meanwhile, and the writes after it need not wait for
    the answer), else run now; what it gives waits for the rows, as the driver gives them
    (no type processing: plain numbers, strings and booleans). On SQLite the rows come as
    one JSON array in one row: fetching row by row, the helper thread would take Python's
    lock back for every row, and wait for it."""
    writer: _Writer | None = session.info.get(_WRITER)
    if session.autoflush:
        session.flush()
    if writer is None:
        rows = [tuple(row) for row in session.execute(statement)]
        return lambda: rows
    as_json = not is_postgresql(session)
    sent = _for_driver(
        session.connection(),
        select(func.json_group_array(func.json_array(*statement.subquery().c)))
        if as_json
        else statement,
    )
    if sent is None:
        rows = [tuple(row) for row in session.execute(statement)]
        return lambda: rows
    driver, sql, params, failure = sent
    found: list[tuple[Any, ...]] = []
    done = threading.Event()
    failed: list[BaseException] = []

    def read() -> None:
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            found.extend(tuple(row) for row in cursor.fetchall())
        finally:
            cursor.close()

    def job() -> None:
        try:
            _raising_as_sqlalchemy(read, sql, failure)()
        except BaseException as exc:
            failed.append(exc)
            raise
        finally:
            done.set()

    def answer() -> list[tuple[Any, ...]]:
        while not done.wait(0.05):
            if writer.stopped:  # a write before it failed: that is the error to see
                writer.wait()
                raise RuntimeError("the writes queued before this query were called off")
        if failed:
            raise failed[0]
        if as_json:
            [(rows,)] = found
            return [tuple(row) for row in json.loads(rows)]
        return found

    writer.submit(job)
    return answer


def _for_driver(
    connection: Connection, statement: UpdateBase | Select[*tuple[Any, ...]]
) -> tuple[Any, str, Any, type[Exception]] | None:
    """The statement as its driver takes it (connection, SQL, bound parameters, error class),
    or None when it cannot go as it stands (values SQLAlchemy computes as it runs it)."""
    dialect = connection.dialect
    compiled: Any = statement.compile(dialect=dialect)
    if (
        compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
    ):
        return None
    values = {
        name: value
        if (process := compiled.binds[name].type._cached_bind_processor(dialect)) is None
        else process(value)
        for name, value in compiled.construct_params(escape_names=False).items()
    }
    escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
    params: Any = (
        [values[name] for name in compiled.positiontup or ()]
        if compiled.positional
        else {escaped.get(name, name): value for name, value in values.items()}
    )
    driver: Any = connection.connection.driver_connection
    return driver, compiled.string, params, dialect.loaded_dbapi.Error


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (back as it was after): a pass
    over 100k rows keeps a few million objects alive to its end, which the collector
    would scan a dozen times over for nothing (2 s of a backorder pass), holding
    Python's lock meanwhile. Objects freed by their count go as ever; cycles wait for
    the next collection."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def writing_behind(session: Session) -> Iterator[None]:
    """Inside the block, big batches of `insert_rows` (and of `insert_with_ids`, whose ids
    are drawn at once), `execute_behind` statements and `read_behind` queries are sent
    by a helper thread on the session's connection, in the order given, while the
    caller goes on preparing the next ones: the database works on one (PostgreSQL's
    server, SQLite's engine, which lets go of Python's lock) while Python builds the
    next. Any other statement on the connection, a commit included, first waits for the
    queued ones, and so does the end of the block; a write that failed is raised there
    (the transaction is then to be rolled back). The rows handed over must not change
    afterwards."""
    if _WRITER in session.info:
        yield
        return
    connection = session.connection()
    writer = _Writer()
    listeners = [
        ("before_cursor_execute", writer.before_statement),
        ("commit", writer.before_statement),
        ("rollback", writer.before_rollback),
    ]
    for name, listener in listeners:
        event.listen(connection, name, listener)
    session.info[_WRITER] = writer
    try:
        yield
        writer.wait()
    finally:
        del session.info[_WRITER]
        for name, listener in listeners:
            event.remove(connection, name, listener)
        writer.close()


class _Writer:
    """One thread running queued writes in order. A failed one skips the rest and stays:
    it is raised to whoever waits for the writes, or queues another, from then on (the
    transaction is to be rolled back; nothing queued after it is silently dropped)."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._failed: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="oms-bulk-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        if self._failed is not None:
            raise self._failed
        self._jobs.put(job)

    @property
    def stopped(self) -> bool:
        """True once a write failed or the writes were called off (the rest are skipped)."""
        return self._cancelled or self._failed is not None

    def wait(self) -> None:
        """Until every queued write is done; raises the one that failed."""
        self._jobs.join()
        if self._failed is not None:
            raise self._failed

    def before_statement(self, *_: Any) -> None:
        self.wait()

    def before_rollback(self, *_: Any) -> None:
        self._cancelled = True
        self._jobs.join()

    def close(self) -> None:
        """Skip what is still queued (the block ended by an error), then stop."""
        self._cancelled = True
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if not self.stopped:
                    job()
            except BaseException as exc:  # raised in the caller's thread by `wait`
                self._failed = exc
            finally:
                self._jobs.task_done()
        self._jobs.task_done()


def given_rows(
    session: Session, name: str, columns: Mapping[str, tuple[TypeEngine[Any], Sequence[Any]]]
) -> FromClause:
    """Rows given column by column (name → (type, values), all of one length) as a table
    `name` to join in an UPDATE … FROM or a SELECT, in one parameter per column on
    PostgreSQL (`unnest` of array literals, written here rather than by psycopg's array
    dumper, which looks at every element apart) and one in all on SQLite (`json_each` of
    the rows as JSON): one statement, which SQLite runs without holding Python's lock."""
    if is_postgresql(session):
        arrays = [
            sql_cast(
                bindparam(
                    f"{name}_{column}", value=_array_literal(values), type_=Text, unique=True
                ),
                ARRAY(type_),
            )
            for column, (type_, values) in columns.items()
        ]
        return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)
    rows = json.dumps([list(row) for row in zip(*(v for _, v in columns.values()), strict=True)])
    each = func.json_each(bindparam(f"{name}_rows", value=rows, type_=Text, unique=True))
    source = each.table_valued("value")
    return select(
        *(
            sql_cast(func.json_extract(source.c.value, f"$[{n}]"), type_).label(column)
            for n, (column, (type_, _)) in enumerate(columns.items())
        )
    ).subquery(name)


def among(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[int]
) -> ColumnElement[bool]:
    """`column IN values` for many integers as one parameter, not one per value (which
    SQLAlchemy renders one by one and SQLite caps): `IN (SELECT unnest(array))` on
    PostgreSQL (a hashed semi-join; `= ANY(array)` would scan the array for every row),
    `IN (SELECT value FROM json_each(…))` on SQLite."""
    listed = [int(v) for v in values]
    if is_postgresql(session):
        array = sql_cast(bindparam(None, _array_literal(listed), type_=Text), ARRAY(Integer()))
        return column.in_(select(func.unnest(array)))
    given = func.json_each(bindparam(None, json.dumps(listed), type_=Text)).table_valued("value")
    return column.in_(select(given.c.value))


def _array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of numbers, strings, datetimes and None."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
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
    _sender(connection, table, rows)()


def _sender(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> Callable[[], None]:
    """What sends the rows to the driver (a binary COPY on PostgreSQL, one INSERT … SELECT
    over the rows as JSON on SQLite), everything but the sending settled here, in the
    caller's thread: the values bound (JSON documents serialized) before the sender runs,
    so that a helper thread sending them keeps the database busy rather than Python."""
    names, bound = _bound(connection, table, rows)
    values = list(bound)
    quote = connection.dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in names)})"
    driver: Any = connection.connection.driver_connection
    failure = connection.dialect.loaded_dbapi.Error
    if connection.dialect.name == "postgresql":
        # Binary: the server takes numbers and timestamps as they are instead of parsing text.
        sql = f"COPY {target} FROM STDIN (FORMAT BINARY)"
        types = [_type_name(connection, table.c[name]) for name in names]

        def send() -> None:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                copy.set_types(types)
                for row in values:
                    copy.write_row(row)

    else:
        # One statement over the rows as JSON, which SQLite runs without holding Python's
        # lock (an executemany takes it back for every row, and waits for it).
        picked = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(len(names)))
        sql = f"INSERT INTO {target} SELECT {picked} FROM json_each(?)"  # noqa: S608
        payload = json.dumps(values, default=_json_scalar)

        def send() -> None:
            cursor = driver.cursor()
            try:
                cursor.execute(sql, (payload,))
            finally:
                cursor.close()

    return _raising_as_sqlalchemy(send, sql, failure)


def _raising_as_sqlalchemy(
    send: Callable[[], None], sql: str, failure: type[Exception]
) -> Callable[[], None]:
    """`send`, its driver's errors raised as SQLAlchemy raises them (IntegrityError, …)."""

    def sent() -> None:
        try:
            send()
        except failure as exc:
            raise DBAPIError.instance(sql, None, exc, failure) from exc

    return sent


def _type_name(connection: Connection, column: Column[Any]) -> str:
    """The column's PostgreSQL type as psycopg names it (`varchar`, not `VARCHAR(100)`)."""
    return re.sub(r"\(.*\)", "", column.type.compile(dialect=connection.dialect)).strip().lower()


def _bound(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """The columns written, and each row's values as the driver takes them."""
    given = list(rows[0])
    left_out = [c for c in table.c if c.name not in rows[0] and c.default is not None]
    fill = tuple(_bind(connection, column, _default(column)) for column in left_out)
    names = given + [c.name for c in left_out]
    # The values taken out in one C call; only the columns with a bind processor see Python.
    take = itemgetter(*given) if len(given) > 1 else lambda row: (row[given[0]],)
    binders = [
        (n, bind) for n, name in enumerate(given) if (bind := _binder(connection, table.c[name]))
    ]
    if not binders:
        return names, (take(row) + fill for row in rows)

    def values(row: dict[str, Any]) -> Sequence[Any]:
        found = list(take(row))
        for n, bind in binders:
            found[n] = bind(found[n])
        return found + list(fill)

    return names, (values(row) for row in rows)


def _binder(connection: Connection, column: Column[Any]) -> Callable[[Any], Any] | None:
    """The column's bind processor, if it has one; remembering its answers for timestamps
    (a batch repeats its `now`), serializing JSON documents at once for psycopg (which
    would otherwise serialize them as it sends them)."""
    process = column.type._cached_bind_processor(connection.dialect)
    if process is not None and isinstance(column.type, JSON):
        return partial(_serialized, process)
    if process is None or not _holds_datetimes(column):
        return process
    seen: dict[Any, Any] = {}

    def bind(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = found = process(value)
            return found

    return bind


def _serialized(process: Callable[[Any], Any], value: Any) -> Any:
    found = process(value)
    if isinstance(found, Jsonb) and found.dumps is None:
        return Jsonb(json.dumps(found.obj), dumps=_same)
    return found


def _json_scalar(value: Any) -> Any:
    """A bound value JSON has no word for, as SQLite would store it (a Decimal as text)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not for a bulk insert")


def _same(value: Any) -> Any:
    return value


def _bind(connection: Connection, column: Column[Any], value: Any) -> Any:
    process = column.type._cached_bind_processor(connection.dialect)
    return value if process is None else process(value)


def _holds_datetimes(column: Column[Any]) -> bool:
    return isinstance(getattr(column.type, "impl", column.type), DateTime)


def _default(column: Column[Any]) -> Any:
    """The value an INSERT would give a column left out (a scalar, or a callable's result,
    taken once for all the rows)."""
    default: Any = column.default
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    raise ValueError(f"{column} has a SQL default; give its value in every row")


def _may_draw_ids(session: Session) -> bool:
    """PostgreSQL, or SQLite inside a transaction (which holds the write lock to its end)."""
    if is_postgresql(session):
        return True
    raw = session.connection().connection.dbapi_connection
    return bool(getattr(raw, "in_transaction", False))


def _drawn(session: Session) -> dict[str, int]:
    """Table name → the largest id drawn on SQLite by this transaction."""
    transaction = session.get_transaction()
    found = session.info.get(_DRAWN)
    if found is None or found[0]() is not transaction:
        found = (weakref.ref(transaction), {})
        session.info[_DRAWN] = found
    drawn: dict[str, int] = found[1]
    return drawn
