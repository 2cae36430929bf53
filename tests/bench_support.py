"""Running `python -m benchmarks` on PostgreSQL from a test, and reading its Markdown table."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.postgres import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[1]


def cells(line: str) -> list[str]:
    """The cells of one table row."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def run_benchmark(arguments: Sequence[str]) -> tuple[list[dict[str, str]], str]:
    """The rows of the table a run prints (the run must succeed), keyed by column header,
    and all it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *arguments],
        cwd=ROOT,
        env={**os.environ, "CASEHUB_BENCH_POSTGRES_ADMIN": PG_ADMIN_URL},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    header, *body = [cells(line) for line in done.stdout.splitlines() if line.startswith("| ")]
    return [dict(zip(header, line, strict=True)) for line in body], done.stdout
