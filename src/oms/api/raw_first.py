"""Raw-first handling of an inbound payload, in three transactions.

The payload is stored before anything reads it (`store`), then processed (`process`,
run again after a PostgreSQL deadlock); when processing fails, the failure is noted on
the stored payload in a transaction of its own (`record_failure`), so it is never lost
and never left looking as if it were still waiting: a business error with its problems,
anything unexpected as an internal error (the logs have the rest), then re-raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from oms.db import Database
from oms.errors import OmsError

T = TypeVar("T")

INTERNAL = OmsError(
    "the payload is kept, but processing it failed with an internal error; see the logs "
    "under the request id, and replay it once fixed",
    code="internal_error",
)


def take_stored(
    db: Database,
    store: Callable[[Session], int],
    process: Callable[[Session, int], T],
    record_failure: Callable[[Session, int, OmsError], None],
) -> T:
    with db.transaction() as session:
        inbox_id = store(session)
    try:
        return db.run(lambda session: process(session, inbox_id))
    except OmsError as exc:
        with db.transaction() as session:
            record_failure(session, inbox_id, exc)
        exc.details.setdefault("inbox_id", inbox_id)
        raise
    except Exception:
        with db.transaction() as session:
            record_failure(session, inbox_id, INTERNAL)
        raise
