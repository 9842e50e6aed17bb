"""The one clock, and times as partners send them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from oms.kit.clock import UtcDatetime, as_utc


class Stamped(BaseModel):
    at: UtcDatetime


def test_a_time_without_a_zone_is_taken_to_be_utc() -> None:
    read = Stamped.model_validate({"at": "2026-11-27T10:00:00"}).at

    assert read == dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def test_a_time_with_a_zone_is_moved_to_utc() -> None:
    read = Stamped.model_validate({"at": "2026-11-27T10:00:00-06:00"}).at

    assert read == dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC)
    assert read.tzinfo == dt.UTC
    assert as_utc(read) == read
