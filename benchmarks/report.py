"""The printed result: the machine, then one Markdown table row per workload, database and
server, casehub's throughput given as a share of the floor's measured in the same run (and,
where the peer ran, casehub's and the floor's as a share of PostGraphile's)."""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

from benchmarks.peer import NAME as PEER
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
    "CPU ms/req",
    "DB CPU ms/req",
    "peak RSS MiB",
    "errors",
    "of floor",
    "answer",
)
PEER_COLUMN = "of PostGraphile"  # only in a table where the peer ran or was skipped


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
    cpu = measurement.cpu_seconds * 1000 / stats.requests if stats.requests else math.nan
    db_cpu = measurement.db_cpu_seconds * 1000 / stats.requests if stats.requests else math.nan
    return [
        _number(load.rate),
        *(_number(load.percentile(share) * 1000) for share in (0.50, 0.95, 0.99)),
        _number(statements),
        _number(cpu),
        _number(db_cpu),
        _number(measurement.peak_rss_kib / 1024, 0),
        str(load.errors),
    ]


def _share(rate: float, of: float) -> str:
    return f"{rate / of:.0%}" if of else "n/a"


def _peer_shown(outcomes: list[Outcome]) -> bool:
    return any(o.peer is not None or o.peer_skipped is not None for o in outcomes)


def rows(outcome: Outcome, peer_column: bool = False) -> list[list[str]]:
    """The table rows of one outcome: casehub's, then the floor's (or why it was skipped),
    then the peer's where it ran or was skipped; with `peer_column`, each of casehub's and the
    floor's throughput as a share of the peer's."""
    head = [outcome.database, outcome.workload.title]
    width = len(COLUMNS) + peer_column
    if outcome.casehub is None or outcome.floor is None:
        row = [*head, "casehub", f"skipped: {outcome.skipped}"]
        return [[*row, *[""] * (width - len(row))]]
    per_operation = outcome.workload.requests_per_operation
    rate, floor_rate = outcome.casehub.load.rate, outcome.floor.load.rate
    answer = "same" if outcome.workload.compare else ""
    casehub = [*head, "casehub", *_cells(outcome.casehub, per_operation), _share(rate, floor_rate)]
    floor = [*head, "floor", *_cells(outcome.floor, per_operation), ""]
    if not peer_column:
        return [[*casehub, answer], [*floor, answer]]
    peer_rate = outcome.peer.load.rate if outcome.peer else math.nan
    shares = ["" if math.isnan(peer_rate) else _share(r, peer_rate) for r in (rate, floor_rate)]
    found = [[*casehub, shares[0], answer], [*floor, shares[1], answer]]
    if outcome.peer is not None:
        cells = _cells(outcome.peer, per_operation)
        found.append([*head, PEER, *cells, "", "", "same rows"])
    elif outcome.peer_skipped is not None:
        row = [*head, PEER, f"skipped: {outcome.peer_skipped}"]
        found.append([*row, *[""] * (width - len(row))])
    return found


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of every outcome (with the peer's column where it ran or was
    skipped)."""
    peer_column = _peer_shown(outcomes)
    columns = [*COLUMNS[:-1], PEER_COLUMN, COLUMNS[-1]] if peer_column else list(COLUMNS)
    body = [columns] + [row for outcome in outcomes for row in rows(outcome, peer_column)]
    widths = [max(len(row[index]) for row in body) for index in range(len(columns))]
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
        measured = (("casehub", outcome.casehub), ("floor", outcome.floor), (PEER, outcome.peer))
        for server, measurement in measured:
            if measurement and measurement.load.errors:
                found.append(
                    f"{outcome.database} {outcome.workload.title} {server}: "
                    f"{measurement.load.errors} errors, the first: {measurement.load.first_error}"
                )
    return found
