"""The load generator: a pool of keep-alive connections, one worker per connection repeating an
operation for a fixed time, each operation timed from its first byte sent to its last received
(less what it spent in `untimed` blocks)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx

Operation = Callable[[httpx.AsyncClient], Awaitable[object]]


class BadAnswer(Exception):
    """A response that is not the success the workload expects."""


# Seconds the running worker's current operation spent in `untimed` blocks (each worker is a
# task of its own, so each sees its own list).
_UNTIMED: ContextVar[list[float]] = ContextVar("untimed")


@contextmanager
def untimed() -> Iterator[None]:
    """Leave the block out of the operation's latency: client-side work that is the agency
    tool's cost, not the server's (signing a statement). Outside `drive` it only runs."""
    begin = time.perf_counter()
    try:
        yield
    finally:
        spent = _UNTIMED.get(None)
        if spent is not None:
            spent[0] += time.perf_counter() - begin


@dataclass(slots=True)
class LoadResult:
    """What one run of an operation achieved."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    @property
    def operations(self) -> int:
        """Operations completed, failed ones included."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Successful operations per second."""
        return (self.operations - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """The latency (seconds) that this share of operations did not exceed (nearest rank)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def client(base_url: str, connections: int) -> httpx.AsyncClient:
    """An HTTP/1.1 client keeping up to `connections` connections alive."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120.0)


async def drive(
    http: httpx.AsyncClient, operation: Operation, *, connections: int, seconds: float
) -> LoadResult:
    """Run `connections` workers repeating the operation until `seconds` have passed; each
    finishes the operation it started, so the server is idle when this returns."""
    started = time.perf_counter()
    deadline = started + seconds
    result = LoadResult(seconds=0.0)

    async def worker() -> None:
        spent = [0.0]
        _UNTIMED.set(spent)
        while (begin := time.perf_counter()) < deadline:
            spent[0] = 0.0
            try:
                await operation(http)
            except (BadAnswer, httpx.HTTPError) as error:
                result.errors += 1
                result.first_error = result.first_error or f"{type(error).__name__}: {error}"
            result.latencies.append(time.perf_counter() - begin - spent[0])

    await asyncio.gather(*(worker() for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result
