"""Retry delays: doubling from the base, a little jitter, never above an hour."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.outbox.retries import MAX_DELAY_SECONDS, retry_delay


def test_without_jitter_the_delay_doubles_with_each_attempt() -> None:
    delays = [retry_delay(n, base_seconds=5, jitter=0) for n in (1, 2, 3, 4)]

    assert delays == [5, 10, 20, 40]


def test_the_delay_never_exceeds_an_hour() -> None:
    assert retry_delay(40, base_seconds=5, jitter=0) == MAX_DELAY_SECONDS


@given(attempt=st.integers(min_value=1, max_value=12), seed=st.integers())
def test_jitter_stays_within_ten_percent(attempt: int, seed: int) -> None:
    exact = retry_delay(attempt, base_seconds=2, jitter=0)

    jittered = retry_delay(attempt, base_seconds=2, rng=random.Random(seed))

    assert jittered == pytest.approx(exact, rel=0.1)
