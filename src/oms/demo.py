"""The demo dataset, loaded by `make run` on first start and by `oms demo load`."""

from __future__ import annotations

from sqlalchemy.orm import Session


def load(session: Session) -> str:
    """Load the demo master data; returns a one-line summary."""
    return "nothing yet"
