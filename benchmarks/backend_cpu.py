"""The CPU time PostgreSQL's backends spend for a run: every backend connected to the run's
database is read in /proc (utime + stime) before and after, so a server that has PostgreSQL
build its answer (PostGraphile's one query) is seen to pay for it there. Linux only, and the
server on this machine; a backend that exits during the run takes its time with it."""

from __future__ import annotations

from pathlib import Path

import psycopg

from benchmarks.processes import cpu_seconds

# The run's backends, the reader's own left out.
QUERY = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"


class BackendCpu:
    """Reads the CPU time of the backends connected to one database."""

    def __init__(self, admin_url: str, database: str) -> None:
        self.admin_url = admin_url
        self.database = database

    def read(self) -> dict[int, float]:
        """CPU seconds so far of each backend connected to the database."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            pids = [row[0] for row in connection.execute(QUERY, (self.database,))]
        found = {}
        for pid in pids:
            try:
                found[pid] = cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
            except (FileNotFoundError, ProcessLookupError):
                continue  # exited since it was listed
        return found


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends spent between two readings (a new backend counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
