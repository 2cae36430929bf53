"""Token buckets (casehub.domain.buckets) and the keyed limiter built on them
(casehub.services.ratelimit), on a clock the tests set."""

from __future__ import annotations

import pytest

from casehub.domain.buckets import Bucket, Rate, full, refilled, take, wait
from casehub.services.ratelimit import RateLimiter

TWO_A_SECOND = Rate(per_second=2, burst=4)


@pytest.mark.parametrize(
    ("bucket", "now", "tokens", "at"),
    [
        (Bucket(0, 10), 10, 0, 10),  # no time, nothing accrued
        (Bucket(0, 10), 11, 2, 11),  # two a second
        (Bucket(1.5, 10), 10.25, 2, 10.25),  # fractions accrue
        (Bucket(0, 10), 100, 4, 100),  # never past the burst
        (Bucket(4, 10), 20, 4, 20),  # a full bucket stays full
        (Bucket(1, 10), 5, 1, 10),  # a clock going backwards grants nothing, takes nothing
    ],
)
def test_refilled(bucket: Bucket, now: float, tokens: float, at: float) -> None:
    assert refilled(bucket, TWO_A_SECOND, now) == Bucket(tokens, at)


@pytest.mark.parametrize(
    ("bucket", "now", "after", "delay"),
    [
        (Bucket(4, 0), 0, Bucket(3, 0), 0),  # full: one taken
        (Bucket(1, 0), 0, Bucket(0, 0), 0),  # the last one
        (Bucket(0, 0), 0, Bucket(0, 0), 0.5),  # empty: half a second at two a second
        (Bucket(0.5, 0), 0, Bucket(0.5, 0), 0.25),  # half accrued: a quarter second to go
        (Bucket(0, 0), 0.5, Bucket(0, 0.5), 0),  # refilled exactly one, taken
        (Bucket(0.25, 0), 0.25, Bucket(0.75, 0.25), 0.125),  # refill counted, still short
    ],
)
def test_take(bucket: Bucket, now: float, after: Bucket, delay: float) -> None:
    assert take(bucket, TWO_A_SECOND, now) == (after, delay)


@pytest.mark.parametrize(
    ("bucket", "now", "delay"),
    [(Bucket(1, 0), 0, 0), (Bucket(0, 0), 0, 0.5), (Bucket(0, 0), 0.2, 0.3), (Bucket(0, 0), 9, 0)],
)
def test_wait_takes_nothing(bucket: Bucket, now: float, delay: float) -> None:
    assert wait(bucket, TWO_A_SECOND, now) == pytest.approx(delay)


def test_a_full_bucket_serves_the_burst_then_the_rate() -> None:
    bucket, served = full(TWO_A_SECOND, 0), 0
    for tick in range(20):  # ten seconds, every half second: four at once, then two a second
        for _ in range(10):
            bucket, delay = take(bucket, TWO_A_SECOND, tick / 2)
            served += delay == 0
    assert served == 4 + 19


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (1, 0), (1, 0.5)])
def test_a_rate_needs_a_refill_and_room_for_one_call(per_second: float, burst: float) -> None:
    with pytest.raises(ValueError, match="positive refill"):
        Rate(per_second, burst)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_keeps_a_bucket_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(1, 2), clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 1]
    assert limiter.take("b") == 0
    assert limiter.wait("a") == 1
    assert limiter.wait("never seen") == 0
    clock.now = 1
    assert limiter.wait("a") == 0
    assert limiter.take("a") == 0


def test_the_limiter_forgets_the_least_recently_seen_key_past_its_capacity() -> None:
    limiter = RateLimiter(Rate(1, 1), Clock(), capacity=2)
    for key in ("a", "b", "a", "c"):  # "b" is the least recently seen when "c" arrives
        limiter.take(key)
    assert limiter.wait("a") == 1
    assert limiter.wait("c") == 1
    assert limiter.wait("b") == 0  # forgotten: starts full again
