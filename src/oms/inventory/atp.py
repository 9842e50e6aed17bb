"""Available to promise for a channel: a pure policy over warehouse availability."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AtpPolicy:
    """How much of its warehouses' stock a channel may promise.

    `buffer_units` and `buffer_percent` hold stock back (both apply, units
    first); `cap` limits what is ever shown. The result is never negative.
    """

    buffer_units: int = 0
    buffer_percent: int = 0
    cap: int | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> AtpPolicy:
        """The policy kept in a channel's settings under `availability`."""
        raw = settings.get("availability") or {}
        cap = raw.get("cap")
        return cls(
            buffer_units=max(0, int(raw.get("buffer_units", 0))),
            buffer_percent=min(100, max(0, int(raw.get("buffer_percent", 0)))),
            cap=max(0, int(cap)) if cap is not None else None,
        )


def channel_atp(available: Iterable[int], policy: AtpPolicy) -> int:
    """ATP from the available stock of each warehouse the channel may use."""
    total = sum(max(0, a) for a in available)
    after_units = total - policy.buffer_units
    after_percent = after_units - (total * policy.buffer_percent + 99) // 100
    atp = max(0, after_percent)
    return min(atp, policy.cap) if policy.cap is not None else atp
