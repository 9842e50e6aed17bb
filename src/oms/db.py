"""Engine, sessions and `transaction()`: the one way an entry point touches the database.

Rule 2 of ARCHITECTURE.md: the entry point (a request, a job, a CLI command)
owns the transaction; services may `flush()`, never `commit()`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
import structlog
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, inspect, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

T = TypeVar("T")
R = TypeVar("R")

log = structlog.get_logger("oms.db")

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_POOL_SIZE = 20
POSTGRES_MAX_OVERFLOW = 5


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Item OMS stores UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every model; constraint names are stable for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JsonDocument,
        list[str]: JsonDocument,
        list[dict[str, Any]]: JsonDocument,
    }


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers go on while one writer writes; foreign keys are off by default.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the
    # busy timeout instead of failing later with "database is locked" on upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class _WriterQueue:
    """Transactions on one SQLite file queue for its write lock on a file lock of their
    own (`flock` on `<database>-writers`), taken before BEGIN IMMEDIATE and given back
    once COMMIT or ROLLBACK is done, across threads and processes alike.

    SQLite's own wait (its busy handler) sleeps between tries, longer and longer, up to
    100 ms, however soon the lock is free: under load a waiting writer slept on while
    the lock stood free, and the writers of one process took it back to back while the
    other process slept. The kernel wakes the writer next in line as soon as the lock is
    given back; the wait holds no Python lock (the GIL) meanwhile."""

    def __init__(self, engine: Engine, path: str) -> None:
        self.path = f"{path}-writers"
        self.held: dict[int, int] = {}
        """id of the DBAPI connection → the file handle holding the lock for it"""
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.end(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.end(dbapi_connection)

        # The dialect's own steps, wrapped: SQLAlchemy's commit event comes before COMMIT.
        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        event.listen(engine, "begin", self.begin)

    def begin(self, conn: Any) -> None:
        key = id(conn.connection.dbapi_connection)
        if key not in self.held:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                os.close(handle)
                raise
            self.held[key] = handle
        try:
            _on_sqlite_begin(conn)
        except BaseException:
            self.end(conn.connection.dbapi_connection)
            raise

    def end(self, connection: Any) -> None:
        """`connection`: the DBAPI connection, or the pool's proxy of it."""
        raw = getattr(connection, "dbapi_connection", None) or connection
        handle = self.held.pop(id(raw), None)
        if handle is not None:
            os.close(handle)  # closing gives the lock back


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL (None: in memory)."""
    database = make_url(url).database
    return database if database and database != ":memory:" else None


def json_text(value: Any) -> str:
    """A JSON column's document as text (orjson: several times faster than json, UTF-8
    kept as it is rather than escaped); what orjson refuses (an integer beyond 64 bits)
    as json writes it."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine set up for Item OMS: WAL, foreign keys and busy timeout on SQLite."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            json_serializer=json_text,
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        path = _sqlite_file(url)
        if path is None:
            event.listen(engine, "begin", _on_sqlite_begin)
            return engine
        _WriterQueue(engine, path)
        return engine
    # Kept connections rather than overflow ones (each overflow checkout starts a
    # PostgreSQL backend), but few enough that several API processes and workers
    # stay under the server's default 100 connections; threads beyond wait their turn.
    engine = create_engine(
        url,
        echo=echo,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        json_serializer=json_text,
    )
    event.listen(engine.pool, "checkin", _on_checkin)
    event.listen(engine.pool, "checkout", _on_checkout)
    return engine


PING_AFTER_IDLE = 2.0
"""Seconds a pooled PostgreSQL connection may rest before its next checkout asks the
server whether it is still there."""


def _on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
    """Ping a connection that rested (the server may have restarted, or a firewall dropped
    it); a dead one is replaced before anyone uses it. A busy pool's connections rest for
    milliseconds: pinging each checkout (`pool_pre_ping`) would add a round trip to every
    transaction for nothing."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError("the pooled connection is gone") from exc


class StaleRead(Exception):
    """What a transaction read and counted on changed before it wrote (a concurrent
    transaction took it): roll it back and run it again, as after a deadlock."""


RETRIED = (DBAPIError, StaleRead)
"""What a retry of the whole transaction may get past (`is_lock_conflict` tells)."""


def is_lock_conflict(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure that a retry of the whole
    transaction may get past (PostgreSQL SQLSTATE 40P01 / 40001), or a `StaleRead`."""
    if isinstance(exc, StaleRead):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40P01", "40001")


class Database:
    """An engine and its session factory; one per process (or per test)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_db_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit when the block ends, roll back if it raises."""
        with self.sessions() as session, session.begin():
            yield session

    def run(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """`work` in one transaction, run again from the start when PostgreSQL chose it
        as a deadlock victim (or a serialization failure); nothing of a failed attempt
        remains, since its transaction was rolled back whole."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as session:
                    return work(session)
            except RETRIED as exc:
                if attempt == attempts or not is_lock_conflict(exc):
                    raise
                time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")

    def in_chunks(
        self,
        items: Sequence[T],
        size: int,
        work: Callable[[Session, Sequence[T]], list[R]],
        *,
        done: Callable[[int], None] | None = None,
    ) -> list[R]:
        """`work` over `items`, `size` at a time, each chunk in a transaction of its own;
        what it returns for each chunk, in order. A chunk that fails on a lock conflict
        (a deadlock with a concurrent one, or a stale read: it was rolled back whole) is
        worked once more whole, then, failing again, item by item, each in a transaction
        of its own, run again as `run` does. `done(n)`: n more items were committed."""
        results: list[R] = []
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            made = self._chunk(chunk, work)
            if made is None:
                for item in chunk:
                    results += self.run(_one(work, item))
                    if done is not None:
                        done(1)
            else:  # committed: a conflict at COMMIT leaves nothing of the chunk's in `results`
                results += made
                if done is not None:
                    done(len(chunk))
        return results

    def _chunk(
        self, chunk: Sequence[T], work: Callable[[Session, Sequence[T]], list[R]]
    ) -> list[R] | None:
        """`work` over the chunk in a transaction, tried twice; None when both attempts
        met a lock conflict."""
        for attempt in (1, 2):
            try:
                with self.transaction() as session:
                    return work(session, chunk)
            except RETRIED as exc:
                if not is_lock_conflict(exc):
                    raise
                if attempt == 1:
                    time.sleep(random.uniform(0.005, 0.05))
        return None

    def analyze_stale(self) -> list[str]:
        """On a PostgreSQL server that runs no autovacuum, `analyze_changed`; the tables
        analyzed. Elsewhere, nothing.

        Without statistics the planner guesses a table's size from when a statement was
        first planned: a prepared statement's generic plan, made while a table was
        small, kept reading it whole (a bulk chunk's inbox update scanned every stored
        payload, and intake slowed by half over its first 20,000 orders). ANALYZE also
        makes the statements that read a table planned again."""
        if self.dialect != "postgresql" or self._autovacuum_runs():
            return []
        return self.analyze_changed()

    def analyze_changed(self) -> list[str]:
        """ANALYZE, one at a time, the tables of the current schema this role owns whose
        rows changed as much as autovacuum's own rule asks for (50 rows and a tenth of the
        table, its defaults), skipping one another process holds locked; the tables
        analyzed (PostgreSQL only)."""
        analyzed = []
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            stale = connection.exec_driver_sql(_STALE_TABLES).all()
            quote = connection.dialect.identifier_preparer.quote
            for schema, name in stale:
                try:
                    connection.exec_driver_sql(
                        f"ANALYZE (SKIP_LOCKED) {quote(schema)}.{quote(name)}"
                    )
                except DBAPIError:
                    log.warning("table_not_analyzed", table=name, exc_info=True)
                else:
                    analyzed.append(str(name))
        return analyzed

    def _autovacuum_runs(self) -> bool:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql("SHOW autovacuum").scalar() == "on"

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()


_STALE_TABLES = """
SELECT s.schemaname, s.relname FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
  AND pg_has_role(c.relowner, 'USAGE')
  AND s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, s.n_live_tup, 0)
ORDER BY s.relname
"""


def _one(work: Callable[[Session, Sequence[T]], list[R]], item: T) -> Callable[[Session], list[R]]:
    """`work` for a chunk of one item."""

    def alone(session: Session) -> list[R]:
        return work(session, [item])

    return alone
