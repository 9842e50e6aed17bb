"""Named sequences that only grow: order numbers, the availability sequence.

One INSERT … ON CONFLICT DO UPDATE … RETURNING per draw, on SQLite and PostgreSQL alike;
a draw of `count` numbers reserves them all at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from oms.db import Base

MASTER_DATA = "master_data"
"""The counter whose value changes with routing's master data (migration 0006)."""


class Counter(Base):
    """A named number: a sequence that only grows, or a token that changes (`master_data`,
    set at random by triggers whenever routing's master data changes: migration 0006)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_value(session: Session, name: str, *, count: int = 1) -> int:
    """Reserve `count` numbers of the sequence `name`; returns the last one."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    draw = module.insert(Counter).values(name=name, value=count)
    draw = draw.on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + draw.excluded.value}
    ).returning(Counter.value)
    return int(session.execute(draw).scalar_one())
