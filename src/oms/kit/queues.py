"""Taking a batch off a queue that a batcher's callers fill."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def drain(
    waiting: queue.SimpleQueue[T | None], most: int, *, size: Callable[[T], int] | None = None
) -> list[T] | None:
    """What waits: the first item (waited for), then whatever else is there at once, until
    the items' `size` (1 each unless given) reaches `most`. None is the stop marker: a
    call that finds it first returns None; found after items, it ends the batch and goes
    back at the end of the queue, so whatever was queued is taken before the stop."""
    first = waiting.get()
    if first is None:
        return None
    taken, total = [first], size(first) if size else 1
    while total < most:
        try:
            more = waiting.get_nowait()
        except queue.Empty:
            break
        if more is None:
            waiting.put(None)
            break
        taken.append(more)
        total += size(more) if size else 1
    return taken
