"""The ship-by deadline of a fulfillment order: pure, no session, no clock of its own.

A warehouse ships what it has by its daily cut-off (`HH:MM`, its own time zone; 17:00
when it names none). Released before the cut-off, expedited, overnight and pickup work
is due at that day's cut-off; released after it, at the next day's. Standard work gets
one more day. Weekends are working days here: a warehouse that closes on them says so
with its capacity, not with this rule.

A fulfillment order is late when its deadline has passed and it has not shipped, and
at risk when the deadline is less than `AT_RISK` away.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DEFAULT_CUTOFF = dt.time(17, 0)
AT_RISK = dt.timedelta(hours=2)
EXTRA_DAYS = {"standard": 1, "expedited": 0, "overnight": 0, "pickup": 0}


def cutoff_of(text: str | None) -> dt.time:
    """A warehouse's cut-off as a time; none, or unreadable, is the default."""
    if not text:
        return DEFAULT_CUTOFF
    try:
        hours, minutes = (int(part) for part in text.split(":", 1))
        return dt.time(hours, minutes)
    except ValueError:
        return DEFAULT_CUTOFF


def ship_by(
    released_at: dt.datetime, *, service_level: str, cutoff: str | None, timezone: str
) -> dt.datetime:
    """The deadline (UTC) for work released at `released_at` (aware)."""
    zone = ZoneInfo(timezone or "UTC")
    local = released_at.astimezone(zone)
    deadline_time = cutoff_of(cutoff)
    day = local.date()
    if local.time() >= deadline_time:
        day += dt.timedelta(days=1)
    day += dt.timedelta(days=EXTRA_DAYS.get(service_level, 1))
    deadline = dt.datetime.combine(day, deadline_time, tzinfo=zone)
    return deadline.astimezone(dt.UTC)


def is_late(deadline: dt.datetime | None, now: dt.datetime) -> bool:
    return deadline is not None and deadline <= now


def is_at_risk(deadline: dt.datetime | None, now: dt.datetime) -> bool:
    return deadline is not None and now < deadline <= now + AT_RISK


def window(
    now: dt.datetime, *, late: bool, at_risk: bool
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The deadlines (after, until] the SLA views ask for: late ones, at-risk ones, or both."""
    if late and at_risk:
        return None, now + AT_RISK
    if late:
        return None, now
    if at_risk:
        return now, now + AT_RISK
    return None, None
