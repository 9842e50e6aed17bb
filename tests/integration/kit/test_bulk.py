"""Many rows inserted at once (with their ids known, in order) on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Integer, Text, func, select
from sqlalchemy.exc import IntegrityError

from oms.audit import AuditEntry
from oms.db import Database
from oms.kit import bulk
from oms.kit.clock import now


def audit_rows(count: int) -> list[dict[str, object]]:
    return [
        {
            "at": now(),
            "actor": "test",
            "action": "thing.done",
            "entity_type": "thing",
            "entity_id": f"T-{n}",
            "before": None,
            "after": None,
            "diff": {},
            "request_id": None,
            "note": None,
        }
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [3, bulk.DIRECT_FROM + 50])
def test_inserted_rows_answer_their_ids_in_the_order_given(db: Database, count: int) -> None:
    with db.transaction() as session:
        ids = bulk.insert_with_ids(session, AuditEntry, audit_rows(count))

    with db.transaction() as session:
        stored = dict(session.execute(select(AuditEntry.id, AuditEntry.entity_id)).all())
        assert [stored[i] for i in ids] == [f"T-{n}" for n in range(count)]
        assert len(set(ids)) == count


def test_many_rows_keep_their_values_and_take_the_defaults_of_columns_left_out(
    db: Database,
) -> None:
    at = now()
    rows = [
        {
            "actor": "test",
            "action": "thing.done",
            "entity_type": "thing",
            "entity_id": f"T-{n}",
            "before": None,
            "after": {"name": 'say "hi"\tback\\slash', "n": n, "tags": ["ü", None]},
            "diff": {},
            "note": None if n % 2 else "line one\nline two, {braces}",
        }
        for n in range(bulk.DIRECT_FROM + 5)
    ]
    with db.transaction() as session:
        bulk.insert_rows(session, AuditEntry, rows)

    with db.transaction() as session:
        stored = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [(e.entity_id, e.before, e.after, e.diff, e.note) for e in stored] == [
            (r["entity_id"], None, r["after"], {}, r["note"]) for r in rows
        ]
        # `at` was left out: its default, a UTC timestamp taken when the rows were written.
        assert all(e.at >= at and e.at.utcoffset() == dt.timedelta(0) for e in stored)


def test_ids_of_a_second_batch_follow_the_first_in_one_transaction_and_the_next(
    db: Database,
) -> None:
    with db.transaction() as session:
        first = bulk.insert_with_ids(session, AuditEntry, audit_rows(4))
        second = bulk.insert_with_ids(session, AuditEntry, audit_rows(bulk.DIRECT_FROM + 1))
    with db.transaction() as session:
        third = bulk.insert_with_ids(session, AuditEntry, audit_rows(2))
        stored = set(session.scalars(select(AuditEntry.id)))

    ids = first + second + third
    assert ids == sorted(ids)
    assert stored == set(ids)


def test_rows_given_column_by_column_keep_strings_that_need_quoting(db: Database) -> None:
    texts = ['a "quoted" word', "back\\slash", "NULL", "", "comma, {brace}", None, "ünï"]
    with db.transaction() as session:
        given = bulk.given_rows(
            session,
            "given",
            {"n": (Integer(), list(range(len(texts)))), "text": (Text(), texts)},
        )
        rows = session.execute(select(given.c.n, given.c.text).order_by(given.c.n))
        assert [t for _, t in rows] == texts


def test_ids_drawn_twice_before_any_insert_do_not_meet(db: Database) -> None:
    with db.transaction() as session:
        first = bulk.next_ids(session, AuditEntry, 3)
        second = bulk.next_ids(session, AuditEntry, 2)
        bulk.insert_rows(
            session,
            AuditEntry,
            [{**row, "id": i} for row, i in zip(audit_rows(5), second + first, strict=True)],
        )

    assert len(set(first + second)) == 5
    with db.transaction() as session:
        assert set(session.scalars(select(AuditEntry.id))) == set(first + second)


def test_rows_written_behind_are_there_for_the_next_statement_and_after_the_block(
    db: Database,
) -> None:
    count = select(func.count()).select_from(AuditEntry)
    with db.transaction() as session, bulk.writing_behind(session):
        bulk.insert_rows(session, AuditEntry, audit_rows(bulk.DIRECT_FROM))
        bulk.insert_rows(session, AuditEntry, audit_rows(bulk.DIRECT_FROM + 1))
        # A statement waits for the writes queued before it.
        assert session.scalar(count) == 2 * bulk.DIRECT_FROM + 1
        ids = bulk.insert_with_ids(session, AuditEntry, audit_rows(bulk.DIRECT_FROM))

    with db.transaction() as session:
        assert session.scalar(count) == 3 * bulk.DIRECT_FROM + 1
        assert set(ids) <= set(session.scalars(select(AuditEntry.id)))


def test_a_write_that_failed_behind_is_raised_as_sqlalchemy_raises_it(db: Database) -> None:
    with db.transaction() as session:
        [taken] = bulk.insert_with_ids(session, AuditEntry, audit_rows(1))
    clash = [{**row, "id": taken + n} for n, row in enumerate(audit_rows(bulk.DIRECT_FROM))]

    with (
        pytest.raises(IntegrityError),
        db.transaction() as session,
        bulk.writing_behind(session),
    ):
        bulk.insert_rows(session, AuditEntry, clash)

    with db.transaction() as session:
        assert list(session.scalars(select(AuditEntry.id))) == [taken]


def test_among_takes_more_values_than_a_statement_may_have_parameters(db: Database) -> None:
    with db.transaction() as session:
        ids = bulk.insert_with_ids(session, AuditEntry, audit_rows(3))
    many = [*ids[:2], *range(10**6, 10**6 + 40_000)]

    with db.transaction() as session:
        wanted = select(AuditEntry.id).where(bulk.among(session, AuditEntry.id, many))
        found = session.scalars(wanted)
        assert sorted(found) == ids[:2]
        none = select(AuditEntry.id).where(bulk.among(session, AuditEntry.id, []))
        assert list(session.scalars(none)) == []


def test_a_query_read_behind_sees_the_writes_queued_before_it(db: Database) -> None:
    count = select(func.count()).select_from(AuditEntry)
    with db.transaction() as session, bulk.writing_behind(session):
        bulk.insert_rows(session, AuditEntry, audit_rows(bulk.DIRECT_FROM))
        counted = bulk.read_behind(session, count)
        bulk.insert_rows(session, AuditEntry, audit_rows(bulk.DIRECT_FROM))
        assert counted() == [(bulk.DIRECT_FROM,)]


def test_a_query_read_behind_a_failed_write_raises_that_failure(db: Database) -> None:
    with db.transaction() as session:
        [taken] = bulk.insert_with_ids(session, AuditEntry, audit_rows(1))
    clash = [{**row, "id": taken + n} for n, row in enumerate(audit_rows(bulk.DIRECT_FROM))]

    def insert_then_count() -> None:
        with db.transaction() as session, bulk.writing_behind(session):
            bulk.insert_rows(session, AuditEntry, clash)
            bulk.read_behind(session, select(func.count()).select_from(AuditEntry))()

    with pytest.raises(IntegrityError):
        insert_then_count()
