"""The benchmark harness keeps working: a tiny run on SQLite prints a row for every workload on
casehub and on the floor (or says the floor does not apply), without errors, and casehub's
answers match the floor's; a signed submission's extra cost is given for each signed workload.
Nothing about speed is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
TINY_RUN = ["--cases", "20", "--duration", "0.5", "--connections", "2", "--database", "sqlite"]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_a_tiny_run_measures_every_workload_on_both_servers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *TINY_RUN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    header, *lines = [_cells(line) for line in done.stdout.splitlines() if line.startswith("| ")]
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    for workload in WORKLOADS:
        found = {row["server"]: row for row in rows if row["workload"] == workload.title}
        assert found, f"no row for {workload.title}"
        if workload.requires and found["casehub"]["ops/s"].startswith("skipped"):
            continue  # the schema lacks the field; the harness said so
        assert set(found) == {"casehub", "floor"}
        measured = found.values() if workload.floor else [found["casehub"]]
        for row in measured:
            assert row["errors"] == "0", done.stderr[-4000:]
            assert row["answer"] == ("same" if workload.compare else "")
        if workload.floor is None:
            assert found["casehub"]["of floor"] == "n/a"
            assert found["floor"]["ops/s"] == workload.no_floor
    extra = [line for line in done.stdout.splitlines() if line.startswith("- sqlite, ")]
    added = [workload for workload in WORKLOADS if workload.extra_over]
    assert [line.partition(" over ")[0] for line in extra] == [
        f"- sqlite, {workload.title}" for workload in added
    ]
    assert all("of a d. write operation's" in line for line in extra), extra
