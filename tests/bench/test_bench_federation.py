"""The federation outbox benchmark counts right: a tiny run delivers every message once, in
order, and says so; its rate is the messages over the run's time, its percentiles the
nearest-rank ones of the latencies; the check of the receiving inbox bites when a message is
missing; an offered rate paces the queueing; `python -m benchmarks --federation` prints the
row on each database. Nothing about speed is asserted."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks import databases, federation
from benchmarks.federation import Options, Result
from tests.bench_support import cells, run_benchmark
from tests.postgres import require_postgres

TINY = ["--federation", "--federation-messages", "8", "--federation-conversations", "2"]


def test_a_tiny_run_delivers_every_message_once_in_order() -> None:
    result = federation.run("sqlite", Options(messages=12, conversations=3))
    assert result.problems == []
    assert result.errors == 0
    assert len(result.latencies) == 12
    assert all(0 <= latency <= result.seconds for latency in result.latencies)
    assert result.rounds >= 1
    assert result.delivered.rate == pytest.approx(12 / result.seconds)


def test_an_offered_rate_paces_the_queueing() -> None:
    # 6 messages at 20/s: the last is queued 5/20 s after the first, so the run lasts that.
    result = federation.run("sqlite", Options(messages=6, conversations=2, rate=20))
    assert result.problems == []
    assert len(result.latencies) == 6
    assert result.seconds >= 5 / 20


def test_the_inbox_check_reports_missing_messages() -> None:
    with databases.prepared("sqlite") as empty:
        problems = asyncio.run(federation._inbox_problems(empty, 3))
    assert problems == ["B's inbox holds 0 pings (0 distinct), not 3"]


def test_the_table_gives_the_rate_and_the_nearest_rank_percentiles() -> None:
    latencies = [0.001 * n for n in range(1, 21)]  # 1 .. 20 ms
    result = Result("sqlite", Options(20, 4), seconds=2.0, latencies=latencies, errors=1, rounds=3)
    header, rule, row = federation.table([result]).splitlines()
    assert cells(header) == list(federation.COLUMNS)
    assert set(rule) <= {"|", "-"}
    assert cells(row) == ["sqlite", "20", "4", "all at once", "10.0", "10.0", "19.0", "3", "1"]
    paced = Result("sqlite", Options(20, 4, rate=50), seconds=1.0, latencies=latencies)
    assert cells(federation.table([paced]).splitlines()[2])[3] == "50/s"


def _check(rows: list[dict[str, str]], engine: str) -> None:
    (row,) = rows
    assert row["database"] == engine
    assert (row["messages"], row["conversations"], row["errors"]) == ("8", "2", "0")
    assert float(row["msg/s"]) > 0
    assert float(row["p50 ms"]) <= float(row["p95 ms"])


def test_the_command_line_runs_it_on_sqlite() -> None:
    rows, printed = run_benchmark([*TINY, "--database", "sqlite"])
    _check(rows, "sqlite")
    assert printed.startswith("casehub federation outbox: ")


@pytest.mark.postgres
def test_the_command_line_runs_it_on_postgresql() -> None:
    require_postgres("the federation outbox benchmark")
    rows, _printed = run_benchmark([*TINY, "--database", "postgres"])
    _check(rows, "postgres")
