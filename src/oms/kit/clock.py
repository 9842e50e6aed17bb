"""One clock for the whole system: timezone-aware UTC, replaceable in tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

_now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # noqa: E731


def now() -> dt.datetime:
    """The current time, in UTC."""
    return _now()


def set_clock(source: Callable[[], dt.datetime] | None) -> None:
    """Make `now()` read from `source` (tests); `None` restores the real clock."""
    global _now
    _now = source if source is not None else (lambda: dt.datetime.now(dt.UTC))


def as_utc(value: dt.datetime) -> dt.datetime:
    """`value` in UTC; a naive time is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(as_utc)]
"""A time a partner sends: in UTC once read; one without a zone is taken to be UTC."""
