"""The database entry point: a transaction picked as a deadlock victim (or that read
what a concurrent one changed) runs again, a chunk of work so picked runs again whole,
then item by item; a pooled connection that rested is checked before use."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oms import db as database_module
from oms.db import Database, StaleRead


class Deadlocked(Exception):
    sqlstate = "40P01"


def test_work_chosen_as_a_deadlock_victim_is_run_again(db: Database) -> None:
    calls: list[int] = []

    def work(session: Session) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE …", {}, Deadlocked())
        return "done"

    assert db.run(work) == "done"
    assert len(calls) == 3


def test_other_failures_are_not_retried(db: Database) -> None:
    calls: list[int] = []

    def work(session: Session) -> None:
        calls.append(1)
        raise OperationalError("UPDATE …", {}, Exception("disk full"))

    with pytest.raises(OperationalError):
        db.run(work)
    assert len(calls) == 1


def test_work_in_chunks_answers_for_every_item_in_order_each_chunk_committed(
    db: Database,
) -> None:
    chunks: list[list[int]] = []
    committed: list[int] = []

    def work(session: Session, chunk: Sequence[int]) -> list[int]:
        chunks.append(list(chunk))
        return [n * 10 for n in chunk]

    assert db.in_chunks(list(range(5)), 2, work, done=committed.append) == [0, 10, 20, 30, 40]
    assert chunks == [[0, 1], [2, 3], [4]]
    assert committed == [2, 2, 1]


def test_a_chunk_chosen_as_a_deadlock_victim_is_worked_again_whole(db: Database) -> None:
    chunks: list[list[int]] = []
    committed: list[int] = []

    def work(session: Session, chunk: Sequence[int]) -> list[int]:
        chunks.append(list(chunk))
        if len(chunks) == 2:
            raise OperationalError("UPDATE …", {}, Deadlocked())
        return [n * 10 for n in chunk]

    assert db.in_chunks(list(range(5)), 2, work, done=committed.append) == [0, 10, 20, 30, 40]
    assert chunks == [[0, 1], [2, 3], [2, 3], [4]]
    assert committed == [2, 2, 1]


def test_a_chunk_chosen_twice_as_a_deadlock_victim_is_worked_again_item_by_item(
    db: Database,
) -> None:
    chunks: list[list[int]] = []
    committed: list[int] = []

    def work(session: Session, chunk: Sequence[int]) -> list[int]:
        chunks.append(list(chunk))
        if chunk == [2, 3]:
            raise OperationalError("UPDATE …", {}, Deadlocked())
        return [n * 10 for n in chunk]

    assert db.in_chunks(list(range(5)), 2, work, done=committed.append) == [0, 10, 20, 30, 40]
    assert chunks == [[0, 1], [2, 3], [2, 3], [2], [3], [4]]
    assert committed == [2, 1, 1, 1]


def test_a_chunk_that_read_what_a_concurrent_transaction_changed_is_worked_again_whole(
    db: Database,
) -> None:
    chunks: list[list[int]] = []

    def work(session: Session, chunk: Sequence[int]) -> list[int]:
        chunks.append(list(chunk))
        if len(chunks) == 1:
            raise StaleRead("the units were taken meanwhile")
        return [n * 10 for n in chunk]

    assert db.in_chunks([0, 1], 2, work) == [0, 10]
    assert chunks == [[0, 1], [0, 1]]


def test_work_that_read_what_a_concurrent_transaction_changed_is_run_again(
    db: Database,
) -> None:
    calls: list[int] = []

    def work(session: Session) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise StaleRead("the units were taken meanwhile")
        return "done"

    assert db.run(work) == "done"
    assert len(calls) == 2


def test_a_chunk_whose_commit_is_chosen_as_a_deadlock_victim_is_answered_once(
    db: Database,
) -> None:
    commits: list[int] = []

    def refuse_the_first(session: Session) -> None:
        commits.append(1)
        if len(commits) == 1:
            raise OperationalError("COMMIT", {}, Deadlocked())

    def work(session: Session, chunk: Sequence[int]) -> list[int]:
        return [n * 10 for n in chunk]

    event.listen(db.sessions, "before_commit", refuse_the_first)
    try:
        assert db.in_chunks([0, 1], 2, work) == [0, 10]
    finally:
        event.remove(db.sessions, "before_commit", refuse_the_first)
    assert len(commits) == 2, "the chunk, refused at its COMMIT, was worked again whole"


def test_work_in_chunks_stops_at_any_other_failure(db: Database) -> None:
    def work(session: Session, chunk: Sequence[int]) -> list[int]:
        raise OperationalError("UPDATE …", {}, Exception("disk full"))

    with pytest.raises(OperationalError):
        db.in_chunks([1, 2, 3], 2, work)


def test_a_rested_connection_the_server_dropped_is_replaced_before_use(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("needs PostgreSQL; runs in the PostgreSQL half")
    fresh = Database(db.url)
    try:
        with fresh.engine.connect() as connection:
            dropped = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with db.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(dropped)})")
        monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.0)

        with fresh.engine.connect() as connection:
            now = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()

        assert now != dropped
    finally:
        fresh.dispose()


def _changed_counters(db: Database) -> None:
    """200 rows more in `counters`, their change counted in the server's statistics."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql(
            "INSERT INTO counters (name, value) "
            "SELECT 'analyzed-' || n, n FROM generate_series(1, 200) AS n"
        )
        connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        connection.commit()


@pytest.mark.postgres_only
def test_the_tables_that_changed_much_are_analyzed_and_then_no_longer(db: Database) -> None:
    db.analyze_changed()
    _changed_counters(db)

    analyzed = db.analyze_changed()

    assert "counters" in analyzed
    with db.engine.connect() as connection:
        stats = connection.exec_driver_sql(
            "SELECT n_mod_since_analyze, last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'counters'"
        ).one()
    assert stats == (0, True)
    assert "counters" not in db.analyze_changed(), "nothing changed since"


@pytest.mark.postgres_only
def test_tables_are_analyzed_only_where_the_server_runs_no_autovacuum(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.analyze_changed()
    _changed_counters(db)
    monkeypatch.setattr(Database, "_autovacuum_runs", lambda self: True)

    assert db.analyze_stale() == [], "autovacuum analyzes what changed"

    monkeypatch.setattr(Database, "_autovacuum_runs", lambda self: False)
    assert "counters" in db.analyze_stale()


def test_nothing_is_analyzed_on_sqlite(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the SQLite half's")

    assert db.analyze_stale() == []
