"""The database entry point: a transaction picked as a deadlock victim runs again."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oms.db import Database


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
