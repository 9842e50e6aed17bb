"""Draining a batcher's queue: what waits, up to a limit, and the stop marker kept."""

from __future__ import annotations

import queue

from oms.kit.queues import drain


def filled(*items: list[int] | None) -> queue.SimpleQueue[list[int] | None]:
    waiting: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
    for item in items:
        waiting.put(item)
    return waiting


def test_everything_waiting_is_taken_up_to_the_limit() -> None:
    waiting = filled([1], [2], [3])

    assert drain(waiting, 2) == [[1], [2]]
    assert drain(waiting, 2) == [[3]]


def test_the_limit_can_count_the_items_sizes() -> None:
    waiting = filled([1, 2], [3, 4], [5])

    assert drain(waiting, 3, size=len) == [[1, 2], [3, 4]]
    assert drain(waiting, 3, size=len) == [[5]]


def test_the_stop_marker_ends_a_batch_and_stops_once_the_rest_is_taken() -> None:
    waiting = filled([1], None, [2])

    assert drain(waiting, 10) == [[1]]
    assert drain(waiting, 10) == [[2]]
    assert drain(waiting, 10) is None
