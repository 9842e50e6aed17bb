import datetime as dt

import pytest

from oms.routing.service import local_midnight

NOW = dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("timezone", "midnight"),
    [
        ("UTC", "2026-11-27T00:00:00+00:00"),
        ("America/Chicago", "2026-11-26T06:00:00+00:00"),
        ("Asia/Tokyo", "2026-11-26T15:00:00+00:00"),
        (None, "2026-11-27T00:00:00+00:00"),
        ("Nowhere/Atlantis", "2026-11-27T00:00:00+00:00"),
    ],
)
def test_the_last_midnight_is_the_warehouses_own_in_utc(
    timezone: str | None, midnight: str
) -> None:
    assert local_midnight(NOW, timezone) == dt.datetime.fromisoformat(midnight)
