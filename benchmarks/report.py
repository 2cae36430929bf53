"""The printed result: the machine, then one Markdown table row per workload, database and
server, casehub's throughput given as a share of the floor's measured in the same run (and,
where the peer ran, casehub's and the floor's as a share of PostGraphile's); then, for a
workload that adds to another (a signed submission to an unsigned one), what it adds per
operation, as a share of a write measured in the same run."""

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
# What an extra cost is given as a share of (a workload's name), and the target share.
WRITE = "write"
EXTRA_TARGET = 0.10


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
    if outcome.casehub is None:
        return [_padded([*head, "casehub", f"skipped: {outcome.skipped}"], width)]
    per_operation = outcome.workload.requests_per_operation
    if outcome.floor is None:
        casehub = [*head, "casehub", *_cells(outcome.casehub, per_operation), "n/a"]
        casehub += [""] * peer_column + [""]
        return [casehub, _padded([*head, "floor", outcome.workload.no_floor], width)]
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
        found.append(_padded([*head, PEER, f"skipped: {outcome.peer_skipped}"], width))
    return found


def _padded(row: list[str], width: int) -> list[str]:
    return [*row, *[""] * (width - len(row))]


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


def _per_operation(measurement: Measurement, per_operation: int) -> tuple[float, float]:
    """Seconds of CPU (the server's, and its database's where measured) and of time (the
    inverse of the throughput) one operation cost; NaN where nothing succeeded."""
    operations = measurement.stats.requests / per_operation
    cpu = measurement.cpu_seconds
    if not math.isnan(measurement.db_cpu_seconds):
        cpu += measurement.db_cpu_seconds
    rate = measurement.load.rate
    return (cpu / operations if operations else math.nan), (1 / rate if rate else math.nan)


def _ms(seconds: float, sign: str = "+") -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:{sign},.2f} ms"


def _of(part: float, whole: float) -> str:
    return "n/a" if math.isnan(part) or math.isnan(whole) or not whole else f"{part / whole:.1%}"


def extra_costs(outcomes: list[Outcome]) -> list[str]:
    """One line per measured workload that adds to another: what an operation of it cost
    beyond one of the other (CPU and time), and that as a share of a write's in the same run."""
    measured = {
        (outcome.database, outcome.workload.name): outcome
        for outcome in outcomes
        if outcome.casehub is not None
    }
    lines = []
    for outcome in outcomes:
        over = outcome.workload.extra_over
        if over is None or outcome.casehub is None:
            continue
        base = measured.get((outcome.database, over))
        line = f"{outcome.database}, {outcome.workload.title}"
        if base is None or base.casehub is None:
            lines.append(f"{line}: no `{over}` run to compare with (--workloads {over},...)")
            continue
        cpu, time = _per_operation(outcome.casehub, outcome.workload.requests_per_operation)
        base_cpu, base_time = _per_operation(base.casehub, base.workload.requests_per_operation)
        extra_cpu, extra_time = cpu - base_cpu, time - base_time
        what = "casehub + PostgreSQL" if outcome.database == "postgres" else "casehub"
        line += (
            f" over {base.workload.title}: {_ms(extra_cpu)} of CPU ({what}) and "
            f"{_ms(extra_time)} of time (1 / ops/s) an operation"
        )
        write = measured.get((outcome.database, WRITE))
        if write is None or write.casehub is None:
            lines.append(f"{line}; no `{WRITE}` run to compare with")
            continue
        write_cpu, write_time = _per_operation(write.casehub, write.workload.requests_per_operation)
        lines.append(
            f"{line}: {_of(extra_cpu, write_cpu)} and {_of(extra_time, write_time)} of a "
            f"{write.workload.title} operation's ({_ms(write_cpu, '')} of CPU, "
            f"{_ms(write_time, '')}; target < {EXTRA_TARGET:.0%})"
        )
    return lines
