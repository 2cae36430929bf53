"""How busy the machine was during a point: the share of all CPUs' time spent idle, from the
counters in /proc/stat (Linux), read before and after."""

from __future__ import annotations

import math
from pathlib import Path

# /proc/stat's first line: cpu user nice system idle iowait irq softirq steal ...
IDLE_FIELDS = (3, 4)  # idle and iowait
COUNTED_FIELDS = 8  # guest time is already counted in user time


def cpu_times(stat: str | None = None) -> tuple[int, int]:
    """(idle ticks, total ticks) of all CPUs since boot, from /proc/stat (or the text given)."""
    text = Path("/proc/stat").read_text() if stat is None else stat
    fields = [int(value) for value in text.splitlines()[0].split()[1 : COUNTED_FIELDS + 1]]
    return sum(fields[index] for index in IDLE_FIELDS), sum(fields)


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of CPU time spent idle between two readings (NaN if no tick passed)."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else math.nan
