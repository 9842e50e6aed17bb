"""The cyclic garbage collector paused for a bulk pass, and left as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from oms.kit import bulk


@pytest.fixture
def collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after(collector: None) -> None:
    gc.enable()

    with bulk.collector_paused():
        assert not gc.isenabled()

    assert gc.isenabled()


def test_a_collector_already_off_stays_off(collector: None) -> None:
    gc.disable()

    with bulk.collector_paused():
        pass

    assert not gc.isenabled()


def test_the_collector_comes_back_when_the_block_raises(collector: None) -> None:
    gc.enable()

    with pytest.raises(RuntimeError), bulk.collector_paused():
        raise RuntimeError("boom")

    assert gc.isenabled()
