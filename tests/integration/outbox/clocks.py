"""A clock tests move by hand (installed with `oms.kit.clock.set_clock`)."""

from __future__ import annotations

import datetime as dt


class ManualClock:
    """Starts at the real time (receivers check signature timestamps) and moves when told."""

    def __init__(self) -> None:
        self.current = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += dt.timedelta(seconds=seconds)

    def move_to(self, moment: dt.datetime) -> None:
        self.current = max(self.current, moment)
