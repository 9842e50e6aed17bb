"""Fixtures of the outbox tests: a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oms.kit import clock
from tests.integration.outbox.clocks import ManualClock


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    moving = ManualClock()
    clock.set_clock(moving)
    yield moving
    clock.set_clock(None)
