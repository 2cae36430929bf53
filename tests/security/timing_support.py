"""Timing comparisons for the oracle tests: interleaved rounds and a rank test.

Two kinds of call (say, a hidden id and a missing one) are timed in rounds, each round making
one call of each kind in a random order, so that whatever else the machine does (other
processes, garbage collection, a cache warming) falls on both kinds alike. Two rank tests, which
assume no distribution of the times and are not moved by a few very slow calls, compare them
(normal approximations, tie-corrected): Mann-Whitney U on the two samples, and the Wilcoxon
signed-rank test on each round's difference, which also cancels the slow drifts of a shared
machine's load (other processes starting and ending) and so sees more in the same time.

A systematic difference is declared only when both hold: one of the two |z| above `Z_BOUND` and
medians apart by more than `MIN_EFFECT` of the faster one. Under the null hypothesis (same path,
same time) the random order makes the two labels exchangeable within each round, however busy
the machine (noise only widens both samples alike), so |z| > 4.5 has a chance of about 7 in a
million per test: with two tests and a few comparisons per engine, a run fails by chance about
once in ten thousand, before the effect bound (which alone would pass by chance on a noisy
machine) cuts that further. The effect bound also keeps a tiny real difference (microseconds of
SQL against milliseconds of request: no oracle across a network) from failing. Against the old
look-ups (load, then decide) the same rounds gave z of 4 to 13 on a 2-core machine loaded by
other test runs, medians 17-60% apart.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

Z_BOUND = 4.5
MIN_EFFECT = 0.05


def mann_whitney_z(first: Sequence[float], second: Sequence[float]) -> float:
    """The Mann-Whitney U statistic of `first` against `second` as a z score (normal
    approximation with the tie correction); positive when `first` tends to be larger."""
    n, m = len(first), len(second)
    if n == 0 or m == 0:
        raise ValueError("both samples need values")
    pooled = sorted([(value, 0) for value in first] + [(value, 1) for value in second])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    start = 0
    while start < len(pooled):
        end = start
        while end + 1 < len(pooled) and pooled[end + 1][0] == pooled[start][0]:
            end += 1
        for index in range(start, end + 1):
            ranks[index] = (start + end) / 2 + 1  # average rank, 1-based
        size = end - start + 1
        ties += size**3 - size
        start = end + 1
    rank_sum = sum(rank for rank, (_value, group) in zip(ranks, pooled, strict=True) if not group)
    u = rank_sum - n * (n + 1) / 2
    total = n + m
    variance = n * m / 12 * ((total + 1) - ties / (total * (total - 1)))
    if variance == 0:
        return 0.0
    return (u - n * m / 2) / math.sqrt(variance)


def signed_rank_z(differences: Sequence[float]) -> float:
    """The Wilcoxon signed-rank statistic of paired differences as a z score (normal
    approximation, zeros dropped, tie-corrected); positive when the differences tend to be
    positive."""
    nonzero = sorted((abs(value), value > 0) for value in differences if value != 0)
    n = len(nonzero)
    if n == 0:
        return 0.0
    ranks = [0.0] * n
    ties = 0.0
    start = 0
    while start < n:
        end = start
        while end + 1 < n and nonzero[end + 1][0] == nonzero[start][0]:
            end += 1
        for index in range(start, end + 1):
            ranks[index] = (start + end) / 2 + 1
        size = end - start + 1
        ties += size**3 - size
        start = end + 1
    positive = sum(rank for rank, (_size, up) in zip(ranks, nonzero, strict=True) if up)
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - ties / 48
    return (positive - mean) / math.sqrt(variance)


@dataclass(frozen=True)
class Comparison:
    """Times (seconds) of the two kinds of call, and their verdict."""

    name: str
    hidden: list[float]
    missing: list[float]

    @property
    def z(self) -> float:
        """Positive when the hidden calls tend to be slower."""
        return mann_whitney_z(self.hidden, self.missing)

    @property
    def paired_z(self) -> float:
        """Positive when the hidden call of a round tends to be the slower one."""
        return signed_rank_z([h - m for h, m in zip(self.hidden, self.missing, strict=True)])

    @property
    def effect(self) -> float:
        """The medians' difference relative to the faster of the two."""
        hidden, missing = statistics.median(self.hidden), statistics.median(self.missing)
        return abs(hidden - missing) / min(hidden, missing)

    @property
    def systematic(self) -> bool:
        """Whether the two kinds of call differ in time beyond chance and beyond noise."""
        return max(abs(self.z), abs(self.paired_z)) > Z_BOUND and self.effect > MIN_EFFECT

    def __str__(self) -> str:
        hidden, missing = statistics.median(self.hidden), statistics.median(self.missing)
        return (
            f"{self.name}: medians {hidden * 1e3:.2f} ms hidden vs {missing * 1e3:.2f} ms "
            f"missing ({self.effect:.1%}), z = {self.z:.2f}, paired z = {self.paired_z:.2f}, "
            f"{len(self.hidden)} rounds"
        )


async def interleaved(
    name: str,
    hidden: Callable[[], Awaitable[None]],
    missing: Callable[[], Awaitable[None]],
    *,
    rounds: int,
    warmup: int,
    seed: int,
    budget: float = float("inf"),
    least: int = 0,
) -> Comparison:
    """Time `rounds` rounds (after `warmup` untimed ones) of one call of each kind, in an
    order drawn anew for every round; fewer, but at least `least`, once `budget` seconds
    have passed (the stop depends on the clock alone, never on the times compared)."""
    order = random.Random(seed)
    times: dict[bool, list[float]] = {True: [], False: []}
    deadline = time.monotonic() + budget
    for index in range(warmup + rounds):
        if index >= warmup + least and time.monotonic() > deadline:
            break
        kinds = [True, False]
        order.shuffle(kinds)
        for is_hidden in kinds:
            call = hidden if is_hidden else missing
            started = time.perf_counter()
            await call()
            elapsed = time.perf_counter() - started
            if index >= warmup:
                times[is_hidden].append(elapsed)
    return Comparison(name, times[True], times[False])
