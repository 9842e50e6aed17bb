"""Ship-by deadlines from a warehouse's cut-off and the service level."""

from __future__ import annotations

import datetime as dt

from oms.fulfillment import sla

UTC = dt.UTC


def at(hour: int, minute: int = 0, day: int = 27) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_expedited_work_released_before_the_cutoff_is_due_at_that_days_cutoff() -> None:
    due = sla.ship_by(at(10), service_level="expedited", cutoff="15:00", timezone="UTC")

    assert due == at(15)


def test_work_released_after_the_cutoff_is_due_at_the_next_days() -> None:
    due = sla.ship_by(at(16), service_level="overnight", cutoff="15:00", timezone="UTC")

    assert due == at(15, day=28)


def test_standard_work_gets_one_more_day() -> None:
    due = sla.ship_by(at(10), service_level="standard", cutoff="15:00", timezone="UTC")

    assert due == at(15, day=28)


def test_the_cutoff_is_read_in_the_warehouses_time_zone() -> None:
    # 16:00 UTC is 10:00 in Chicago (CST, UTC-6): before its 15:00 cut-off, due 21:00 UTC.
    due = sla.ship_by(at(16), service_level="expedited", cutoff="15:00", timezone="America/Chicago")

    assert due == at(21)


def test_a_warehouse_without_a_cutoff_uses_five_in_the_afternoon() -> None:
    due = sla.ship_by(at(9), service_level="pickup", cutoff=None, timezone="UTC")

    assert due == at(17)


def test_late_and_at_risk_are_read_against_now() -> None:
    now = at(12)

    assert sla.is_late(at(11), now)
    assert not sla.is_late(at(13), now)
    assert sla.is_at_risk(at(13), now)
    assert not sla.is_at_risk(at(15), now)
    assert sla.window(now, late=True, at_risk=False) == (None, now)
    assert sla.window(now, late=False, at_risk=True) == (now, at(14))
    assert sla.window(now, late=True, at_risk=True) == (None, at(14))
    assert sla.window(now, late=False, at_risk=False) == (None, None)
