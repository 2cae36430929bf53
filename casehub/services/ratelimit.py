"""Rate limiters: one token bucket per key (an API token, a client address), in this process.

The buckets live in the memory of one server process: with N replicas behind a load balancer
a caller may get up to N times the configured rate.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Limiters:
    """The limiters of the HTTP gate."""

    calls: RateLimiter  # requests per API token
    failures: RateLimiter  # failed authentications per client address

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
        )


async def authenticate(
    runtime: Runtime,
    limiters: Limiters,
    scope: Scope,
    authorization: str | None,
    address: str | None,
) -> Principal:
    """Bearer authentication behind its limit: an address that failed too often is refused
    (RATE_LIMITED) before its token is even looked up; each new failure counts against it."""
    key = address or "unknown"  # no address (a unix socket): one shared bucket
    if delay := limiters.failures.wait(key):
        raise RateLimited("Too many failed authentications from your address.", delay)
    try:
        return await auth.authenticate(runtime, scope, authorization, address)
    except Unauthenticated:
        limiters.failures.take(key)
        raise
