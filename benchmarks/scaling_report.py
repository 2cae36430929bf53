"""The write-scaling run's printed result: one Markdown row per server, replica count and
connection count, casehub's writes/s as a share of the lock-free floor's and each two-replica
rate as a multiple of the one-replica rate; then the issue's targets beside the numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarks.scaling import CASEHUB, FLOOR, Point

LABELS = {CASEHUB: "casehub", FLOOR: "floor, no lock"}
COLUMNS = (
    "server",
    "replicas",
    "connections",
    "writes/s",
    "p50 ms",
    "p95 ms",
    "errors",
    "lock waiters",
    "advisory waiters",
    "samples with an advisory waiter",
    "idle in transaction",
    "host CPU idle",
    "client CPU",
    "of floor",
    "2 / 1 replica",
)
SHARE_OF_FLOOR_TARGET = 0.5
REPLICA_GAIN_TARGET = 1.5


def _number(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0%}"


def _ratio(numerator: float, denominator: float | None) -> float:
    return numerator / denominator if denominator else math.nan


def _rate(points: Sequence[Point], server: str, replicas: int, connections: int) -> float | None:
    for point in points:
        if (point.server, point.replicas, point.connections) == (server, replicas, connections):
            return point.load.rate
    return None


def share_of_floor(points: Sequence[Point], point: Point) -> float:
    """casehub's writes/s over the floor's at the same replicas and connections (NaN for a
    floor row, or without a floor point)."""
    if point.server != CASEHUB:
        return math.nan
    return _ratio(point.load.rate, _rate(points, FLOOR, point.replicas, point.connections))


def replica_gain(points: Sequence[Point], point: Point) -> float:
    """Writes/s of two replicas over one's, same server and connections (NaN otherwise)."""
    if point.replicas != 2:
        return math.nan
    return _ratio(point.load.rate, _rate(points, point.server, 1, point.connections))


def row(points: Sequence[Point], point: Point) -> list[str]:
    """The table cells of one point."""
    load, locks = point.load, point.locks
    gain = replica_gain(points, point)
    return [
        LABELS.get(point.server, point.server),
        str(point.replicas),
        str(point.connections),
        _number(load.rate),
        *(_number(load.percentile(share) * 1000) for share in (0.50, 0.95)),
        str(load.errors),
        _number(locks.mean_lock_waiters, 2),
        _number(locks.mean_advisory_waiters, 2),
        _percent(locks.advisory_share),
        _number(locks.mean_idle_in_transaction, 2),
        _percent(point.host_idle),
        _percent(point.client_cpu),
        _percent(share_of_floor(points, point)).replace("n/a", ""),
        "" if math.isnan(gain) else f"{gain:.2f}x",
    ]


def table(points: Sequence[Point]) -> str:
    """The Markdown table of every point."""
    body = [list(COLUMNS)] + [row(points, point) for point in points]
    widths = [max(len(cells[index]) for cells in body) for index in range(len(COLUMNS))]
    lines = [
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        + " |"
        for cells in body
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def _where(point: Point) -> str:
    return f"{point.replicas}x{point.connections}"


def targets(points: Sequence[Point]) -> list[str]:
    """The issue's targets, each with casehub's measured values (replicas x connections);
    reported, not asserted."""
    ours = [point for point in points if point.server == CASEHUB]
    shares = ", ".join(f"{_where(p)} {_percent(share_of_floor(points, p))}" for p in ours)
    gains = ", ".join(
        f"{p.connections} connections {replica_gain(points, p):.2f}x "
        f"(host CPU idle {_percent(p.host_idle)})"
        for p in ours
        if p.replicas == 2
    )
    waits = ", ".join(f"{_where(p)} {_percent(p.locks.advisory_share)}" for p in ours)
    return [
        f"target: casehub >= {SHARE_OF_FLOOR_TARGET:.0%} of the lock-free floor's writes/s; "
        f"measured: {shares or 'n/a'}",
        f"target: 2 replicas >= {REPLICA_GAIN_TARGET:g}x 1 replica where the database has "
        f"spare CPU; measured: {gains or 'n/a'}",
        "target: no request waits on a cluster-wide lock; samples with a backend queued for "
        f"an advisory lock: {waits or 'n/a'}",
    ]


def errors(points: Sequence[Point]) -> list[str]:
    """The first error of every point that had any."""
    return [
        f"{LABELS.get(p.server, p.server)} {_where(p)}: {p.load.errors} errors, "
        f"the first: {p.load.first_error}"
        for p in points
        if p.load.errors
    ]
