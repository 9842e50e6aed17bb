"""Named sequences that only grow: order numbers, the availability sequence.

One conditional UPDATE … RETURNING per draw, on SQLite and PostgreSQL alike;
a draw of `count` numbers reserves them all at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from oms.db import Base


class Counter(Base):
    """A named number that only grows."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_value(session: Session, name: str, *, count: int = 1) -> int:
    """Reserve `count` numbers of the sequence `name`; returns the last one."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(module.insert(Counter).on_conflict_do_nothing(), [{"name": name, "value": 0}])
    result = session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    return int(result.scalar_one())
