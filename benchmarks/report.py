"""The printed result: the machine, then one Markdown table row per workload, database and
server, casehub's throughput given as a share of the floor's measured in the same run."""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

from benchmarks.runner import Measurement, Outcome

COLUMNS = (
    "database",
    "workload",
    "server",
    "ops/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "SQL/op",
    "peak RSS MiB",
    "errors",
    "of floor",
    "answer",
)


def _proc_field(path: str, name: str) -> str:
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return "unknown"


def machine(postgres_version: str | None) -> str:
    """One line on where the numbers come from."""
    memory_kib = _proc_field("/proc/meminfo", "MemTotal").split()[0]
    parts = [
        f"{os.cpu_count()} CPUs ({_proc_field('/proc/cpuinfo', 'model name')})",
        f"{int(memory_kib) / 1024**2:.1f} GiB RAM",
        f"Python {platform.python_version()}",
    ]
    if postgres_version:
        parts.append(f"PostgreSQL {postgres_version}")
    return ", ".join(parts)


def _number(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def _cells(measurement: Measurement, per_operation: int) -> list[str]:
    load, stats = measurement.load, measurement.stats
    operations = stats.requests / per_operation
    statements = stats.statements / operations if operations else math.nan
    return [
        _number(load.rate),
        *(_number(load.percentile(share) * 1000) for share in (0.50, 0.95, 0.99)),
        _number(statements),
        _number(measurement.peak_rss_kib / 1024, 0),
        str(load.errors),
    ]


def rows(outcome: Outcome) -> list[list[str]]:
    """The table rows of one outcome: casehub's, then the floor's (or why it was skipped)."""
    head = [outcome.database, outcome.workload.title]
    if outcome.casehub is None or outcome.floor is None:
        return [[*head, "casehub", f"skipped: {outcome.skipped}", *[""] * 8]]
    per_operation = outcome.workload.requests_per_operation
    rate, floor_rate = outcome.casehub.load.rate, outcome.floor.load.rate
    share = f"{rate / floor_rate:.0%}" if floor_rate else "n/a"
    answer = "same" if outcome.workload.compare else ""
    return [
        [*head, "casehub", *_cells(outcome.casehub, per_operation), share, answer],
        [*head, "floor", *_cells(outcome.floor, per_operation), "", answer],
    ]


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of every outcome."""
    body = [list(COLUMNS)] + [row for outcome in outcomes for row in rows(outcome)]
    widths = [max(len(row[index]) for row in body) for index in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in body
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def errors(outcomes: list[Outcome]) -> list[str]:
    """The first error of every run that had any."""
    found = []
    for outcome in outcomes:
        for server, measurement in (("casehub", outcome.casehub), ("floor", outcome.floor)):
            if measurement and measurement.load.errors:
                found.append(
                    f"{outcome.database} {outcome.workload.title} {server}: "
                    f"{measurement.load.errors} errors, the first: {measurement.load.first_error}"
                )
    return found
