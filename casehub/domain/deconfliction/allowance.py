"""A sliding-window allowance: at most `limit` units in any `window` (hit checks per agency)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def wait_for(
    used: Sequence[tuple[datetime, int]],
    *,
    wanted: int,
    limit: int,
    now: datetime,
    window: timedelta,
) -> float | None:
    """Seconds to wait before `wanted` more units fit beside those `used` (moment, units)
    inside the window ending now; None when they fit now.

    Asking for more than `limit` at once never fits: the wait is then a whole window, and the
    caller must split its request.
    """
    start = now - window
    recent = sorted((at, units) for at, units in used if at > start)
    total = sum(units for _at, units in recent)
    if total + wanted <= limit:
        return None
    for at, units in recent:
        total -= units
        if total + wanted <= limit:
            return max((at + window - now).total_seconds(), 0.0)
    return window.total_seconds()  # only when wanted > limit
