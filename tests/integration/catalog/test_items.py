"""Items service: concurrent updates never overwrite one another unseen."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from oms.auth.principal import SYSTEM
from oms.catalog import items
from oms.catalog.schemas import ItemCreate, ItemUpdate
from oms.db import Database
from oms.errors import PreconditionFailed


def rename(db: Database, name: str, *, expected_version: int) -> None:
    with db.transaction() as session:
        items.update_item(
            session, "ABC-1", ItemUpdate(name=name), actor=SYSTEM, expected_version=expected_version
        )


def wait_for_a_blocked_session(db: Database) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.engine.connect() as connection:
            if connection.execute(query).scalar_one() > 0:
                return
        time.sleep(0.02)
    pytest.fail("the second update never waited for the first")


@pytest.mark.postgres_only
def test_an_update_against_a_version_changed_meanwhile_is_refused_not_applied(
    db: Database,
) -> None:
    with db.transaction() as session:
        items.create_item(session, ItemCreate(sku="ABC-1", name="Blue widget"), actor=SYSTEM)
    with ThreadPoolExecutor(1) as pool, db.transaction() as first:
        items.update_item(
            first, "ABC-1", ItemUpdate(name="Teal widget"), actor=SYSTEM, expected_version=1
        )
        second = pool.submit(rename, db, "Red widget", expected_version=1)
        wait_for_a_blocked_session(db)

    with pytest.raises(PreconditionFailed):
        second.result(timeout=10)
    with db.transaction() as session:
        item = items.get_item(session, "ABC-1")
        assert (item.name, item.version) == ("Teal widget", 2)
