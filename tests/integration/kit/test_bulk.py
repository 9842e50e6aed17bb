"""Many rows inserted with their ids known, in order, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

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


@pytest.mark.parametrize("count", [3, bulk.SEQUENCE_FROM + 50])
def test_inserted_rows_answer_their_ids_in_the_order_given(db: Database, count: int) -> None:
    with db.transaction() as session:
        ids = bulk.insert_with_ids(session, AuditEntry, audit_rows(count))

    with db.transaction() as session:
        stored = dict(session.execute(select(AuditEntry.id, AuditEntry.entity_id)).all())
        assert [stored[i] for i in ids] == [f"T-{n}" for n in range(count)]
        assert len(set(ids)) == count
