"""Fixtures of the worker tests: a real webhook receiver and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oms.kit import clock
from tests.integration.jobs.receiver import Receiver
from tests.integration.outbox.clocks import ManualClock


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as running:
        yield running


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    moving = ManualClock()
    clock.set_clock(moving)
    yield moving
    clock.set_clock(None)
