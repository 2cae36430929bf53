"""The write-scaling run keeps working: a tiny run on PostgreSQL prints a row for casehub and
the lock-free floor at one and two replicas, without errors, and the issue's targets beside
them. Nothing about speed or locks is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench_support import run_benchmark
from tests.postgres import require_postgres

ROOT = Path(__file__).resolve().parents[2]
TINY_RUN = ["--scaling", "--cases", "5", "--duration", "0.5", "--scaling-connections", "2"]


@pytest.mark.postgres
def test_a_tiny_scaling_run_measures_every_server_and_replica_count() -> None:
    require_postgres("the write-scaling run")
    rows, printed = run_benchmark(TINY_RUN)
    found = {(row["server"], row["replicas"], row["connections"]): row for row in rows}
    assert set(found) == {
        (server, replicas, "2")
        for server in ("casehub", "floor, no lock")
        for replicas in ("1", "2")
    }
    for row in rows:
        assert row["errors"] == "0", printed
        assert float(row["writes/s"].replace(",", "")) > 0
    assert found[("casehub", "1", "2")]["of floor"].endswith("%")
    assert found[("casehub", "2", "2")]["2 / 1 replica"].endswith("x")
    assert len([line for line in printed.splitlines() if line.startswith("target: ")]) == 3
