"""The write-scaling run keeps working: a tiny run on PostgreSQL prints a row for casehub and
the lock-free floor at one and two replicas, without errors, and the issue's targets beside
them. Nothing about speed or locks is asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres import PG_ADMIN_URL, require_postgres

ROOT = Path(__file__).resolve().parents[2]
TINY_RUN = ["--scaling", "--cases", "5", "--duration", "0.5", "--scaling-connections", "2"]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@pytest.mark.postgres
def test_a_tiny_scaling_run_measures_every_server_and_replica_count() -> None:
    require_postgres("the write-scaling run")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *TINY_RUN],
        cwd=ROOT,
        env={**os.environ, "CASEHUB_BENCH_POSTGRES_ADMIN": PG_ADMIN_URL},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    header, *body = [_cells(line) for line in lines if line.startswith("| ")]
    rows = [dict(zip(header, cells, strict=True)) for cells in body]
    found = {(row["server"], row["replicas"], row["connections"]): row for row in rows}
    assert set(found) == {
        (server, replicas, "2")
        for server in ("casehub", "floor, no lock")
        for replicas in ("1", "2")
    }
    for row in rows:
        assert row["errors"] == "0", done.stderr[-4000:]
        assert float(row["writes/s"].replace(",", "")) > 0
    assert found[("casehub", "1", "2")]["of floor"].endswith("%")
    assert found[("casehub", "2", "2")]["2 / 1 replica"].endswith("x")
    assert len([line for line in lines if line.startswith("target: ")]) == 3
