import gc
from collections.abc import Iterator

import pytest

from oms.kit import heap


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_settling_freezes_what_lives_and_collects_the_young_less_often() -> None:
    alive = ["made at start-up"]

    heap.settle()
    later = ["made while serving"]

    watched = gc.get_objects()
    assert not any(o is alive for o in watched)
    assert any(o is later for o in watched)
    assert gc.get_threshold() == heap.THRESHOLDS
    assert heap.THRESHOLDS[0] > 700
