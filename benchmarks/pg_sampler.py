"""What PostgreSQL's backends are doing while a point runs: sampled on a connection of its own
(a thread, so that a busy load generator does not delay it) every ~100 ms, then averaged.

Backends waiting on a heavyweight lock, those of them queued for an advisory lock (a lock
taken to serialise writers cluster-wide, whatever its key), and sessions idle in a
transaction (holding locks while the application does something else)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import psycopg

INTERVAL = 0.1

# Counted on the sampled database alone, the sampler's own backend left out.
QUERY = """
SELECT
  (SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND wait_event_type = 'Lock'),
  (SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE a.datname = current_database() AND NOT l.granted AND l.locktype = 'advisory'),
  (SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND state = 'idle in transaction')
"""


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at the backends."""

    lock_waiters: int
    advisory_waiters: int
    idle_in_transaction: int


@dataclass(frozen=True, slots=True)
class LockSummary:
    """The samples of one point, averaged."""

    samples: int
    mean_lock_waiters: float
    mean_advisory_waiters: float
    # Share of samples that saw at least one backend queued for an advisory lock.
    advisory_share: float
    mean_idle_in_transaction: float


def summarize(samples: Sequence[Sample]) -> LockSummary:
    """Means and shares over the samples (NaN when there are none)."""
    count = len(samples)
    if not count:
        return LockSummary(0, math.nan, math.nan, math.nan, math.nan)
    return LockSummary(
        samples=count,
        mean_lock_waiters=sum(s.lock_waiters for s in samples) / count,
        mean_advisory_waiters=sum(s.advisory_waiters for s in samples) / count,
        advisory_share=sum(1 for s in samples if s.advisory_waiters) / count,
        mean_idle_in_transaction=sum(s.idle_in_transaction for s in samples) / count,
    )


def libpq_url(url: str) -> str:
    """A libpq URL of a SQLAlchemy PostgreSQL URL (`postgresql+psycopg://` and the like)."""
    scheme, separator, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{separator}{rest}"


class Sampler:
    """Samples the database every `interval` seconds between entering and leaving the block."""

    def __init__(self, url: str, interval: float = INTERVAL) -> None:
        self.url = libpq_url(url)
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _run(self, connection: psycopg.Connection[tuple[int, int, int]]) -> None:
        started = time.monotonic()
        ticks = 0
        try:
            while not self._stop.is_set():
                row = connection.execute(QUERY).fetchone()
                if row is not None:
                    self.samples.append(Sample(*row))
                ticks += 1
                # On a fixed cadence: a slow sample shortens the next wait.
                self._stop.wait(max(0.0, started + ticks * self.interval - time.monotonic()))
        except BaseException as error:  # reported on leaving the block
            self._error = error
        finally:
            connection.close()

    def __enter__(self) -> Sampler:
        connection: psycopg.Connection[tuple[int, int, int]] = psycopg.connect(
            self.url, autocommit=True
        )
        self._thread = threading.Thread(target=self._run, args=(connection,), daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None and kind is None:
            raise RuntimeError(f"the PostgreSQL sampler failed: {self._error}") from self._error

    def summary(self) -> LockSummary:
        """The samples taken so far, averaged."""
        return summarize(self.samples)
