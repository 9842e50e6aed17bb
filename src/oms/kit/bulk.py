"""Inserting many rows and knowing their ids, fast on both databases.

SQLite answers a multi-row INSERT … RETURNING cheaply. On PostgreSQL the same
statement, built page by page, costs psycopg a parse of every page's SQL text on
the client (seconds for 100k rows); drawing the ids from the column's sequence
first and inserting them with a pipelined executemany costs a fraction of it
(from `SEQUENCE_FROM` rows: below, one statement is cheaper than two).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

SEQUENCE_FROM = 100
"""Fewer rows go in one INSERT … RETURNING: one statement, and little SQL to parse."""


def insert_with_ids(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert `rows` (each with the same keys) into `model`'s table; their ids, in order."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    if len(rows) >= SEQUENCE_FROM and session.get_bind().dialect.name == "postgresql":
        drawn = session.scalars(
            select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                func.generate_series(1, len(rows))
            )
        )
        ids = [int(i) for i in drawn]
        session.execute(insert(table), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    found = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(i) for i in found.scalars()]
