"""When to try a failed webhook again: exponential backoff with a little jitter (pure)."""

from __future__ import annotations

import random

MAX_DELAY_SECONDS = 3600.0
JITTER = 0.1


def retry_delay(
    attempts: int,
    *,
    base_seconds: float,
    jitter: float = JITTER,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `attempts`-th failure: base × 2^(attempts-1), ±jitter, ≤ 1 h.

    The jitter spreads retries of many deliveries that failed together (a
    receiver that was down) so they do not all come back in the same second.
    """
    exponent = max(attempts - 1, 0)
    delay = base_seconds * 2.0 ** min(exponent, 32)
    spread = (rng or random).uniform(-jitter, jitter) if jitter else 0.0
    return min(delay * (1 + spread), MAX_DELAY_SECONDS)
