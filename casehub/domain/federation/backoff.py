"""When to try a delivery again (pure): exponential backoff with full jitter.

After the n-th failed attempt the next one waits a uniformly random time between 0 and
min(cap, base * 2**(n-1)) ("full jitter"): the delay doubles while a peer stays down, is bounded
by the cap, and the randomness spreads the retries of many messages (and of several hubs) so
that a peer coming back is not hit by all of them at the same moment.
"""

from __future__ import annotations

from datetime import timedelta

# 2**62 overflows nothing and is past any cap: the exponent stops growing there.
_EXPONENT_MAX = 62


def ceiling(attempts: int, *, base: float, cap: float) -> float:
    """The longest wait, in seconds, after `attempts` failed attempts (at least 1)."""
    if attempts < 1:
        raise ValueError("The backoff follows a failed attempt: attempts is at least 1.")
    if base <= 0 or cap < base:
        raise ValueError("The backoff needs 0 < base <= cap.")
    return min(cap, base * 2.0 ** min(attempts - 1, _EXPONENT_MAX))


def delay(attempts: int, *, base: float, cap: float, draw: float) -> timedelta:
    """The wait after `attempts` failed attempts, for a random `draw` in [0, 1)."""
    if not 0.0 <= draw < 1.0:
        raise ValueError("A draw is in [0, 1).")
    return timedelta(seconds=draw * ceiling(attempts, base=base, cap=cap))
