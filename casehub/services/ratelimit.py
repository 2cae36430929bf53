"""Rate limiters: one token bucket per key (an API token, a client address), and the operations
each API token has running, in this process.

The buckets live in the memory of one server process: with N replicas behind a load balancer
a caller may get up to N times the configured rate.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import UUID

from casehub.config import Settings
from casehub.domain.buckets import Bucket, Rate, full, take, wait
from casehub.domain.errors import RateLimited, Unauthenticated
from casehub.services.agencies import auth
from casehub.services.runtime import Principal, Runtime, Scope

# Keys remembered at most; past it the least recently seen key forgets its bucket (and starts
# full again), so a flood of new addresses cannot grow memory without bound.
CAPACITY = 50_000


class RateLimiter:
    """Token buckets by key, on a monotonic clock the tests can drive."""

    def __init__(
        self,
        rate: Rate,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = CAPACITY,
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.capacity = capacity
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def wait(self, key: str) -> float:
        """Seconds before `key` may be served; 0 when it may be now. Takes nothing."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else wait(bucket, self.rate, self.clock())

    def take(self, key: str) -> float:
        """Draw one call for `key`: 0 when allowed, else the seconds to wait before retrying."""
        now = self.clock()
        bucket, delay = take(self._buckets.get(key) or full(self.rate, now), self.rate, now)
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return delay


class Running:
    """Operations running per API token, in this process, at most `limit` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: dict[UUID, int] = {}

    def take(self, token_id: UUID) -> contextlib.AbstractContextManager[None]:
        """Take one of the token's places, RATE_LIMITED when it has none left; the block of the
        returned context manager gives it back when it ends (enter it at once)."""
        running = self._running.get(token_id, 0)
        if running >= self.limit:
            raise RateLimited(
                f"This token already has {running} operations running; at most {self.limit} "
                "at once.",
                1,
            )
        self._running[token_id] = running + 1
        return self._held(token_id)

    @contextlib.contextmanager
    def _held(self, token_id: UUID) -> Iterator[None]:
        try:
            yield
        finally:
            if left := self._running[token_id] - 1:
                self._running[token_id] = left
            else:
                del self._running[token_id]


@dataclass(frozen=True)
class Limiters:
    """The limiters of /graphql, shared by HTTP requests and websockets: a token cannot double
    its allowance by using both."""

    calls: RateLimiter  # requests per API token
    failures: RateLimiter  # failed authentications per client address
    running: Running  # operations running per API token

    @classmethod
    def of(cls, settings: Settings, clock: Callable[[], float] = time.monotonic) -> Limiters:
        """The limiters the settings ask for, on this clock."""
        return cls(
            calls=RateLimiter(
                Rate(settings.rate_limit_per_second, settings.rate_limit_burst), clock
            ),
            failures=RateLimiter(
                Rate(settings.auth_failures_per_minute / 60, settings.auth_failure_burst), clock
            ),
            running=Running(settings.max_concurrent_operations_per_token),
        )


async def authenticate(
    runtime: Runtime,
    limiters: Limiters,
    scope: Scope,
    authorization: str | None,
    address: str | None,
    possession: auth.Possession | None = None,
) -> Principal:
    """Bearer or DPoP authentication behind its limit: an address that failed too often is
    refused (RATE_LIMITED) before its token is even looked up; each new failure counts
    against it."""
    if delay := limiters.failures.wait(_address_key(address)):
        raise RateLimited("Too many failed authentications from your address.", delay)
    try:
        return await auth.authenticate(runtime, scope, authorization, address, possession)
    except Unauthenticated:
        count_failure(limiters, address)
        raise


def count_failure(limiters: Limiters, address: str | None) -> None:
    """Count one failed authentication against the address."""
    limiters.failures.take(_address_key(address))


def _address_key(address: str | None) -> str:
    return address or "unknown"  # no address (a unix socket): one shared bucket
