"""Token buckets: a steady rate of allowances with room for a burst (API calls per token)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_second` allowances accrue, up to `burst` saved for later."""

    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("A rate needs a positive refill and room for at least one call.")


@dataclass(frozen=True, slots=True)
class Bucket:
    """The allowances saved at instant `at` (seconds on a monotonic clock)."""

    tokens: float
    at: float


def full(rate: Rate, now: float) -> Bucket:
    """A bucket nobody has drawn from."""
    return Bucket(rate.burst, now)


def refilled(bucket: Bucket, rate: Rate, now: float) -> Bucket:
    """The bucket at `now`: what accrued since it was last seen, never past the burst."""
    # A clock that went backwards grants nothing rather than taking back.
    elapsed = max(now - bucket.at, 0.0)
    return Bucket(min(rate.burst, bucket.tokens + elapsed * rate.per_second), max(now, bucket.at))


def wait(bucket: Bucket, rate: Rate, now: float) -> float:
    """Seconds until the bucket holds one allowance; 0 when it holds one now."""
    tokens = refilled(bucket, rate, now).tokens
    return 0.0 if tokens >= 1 else (1 - tokens) / rate.per_second


def take(bucket: Bucket, rate: Rate, now: float) -> tuple[Bucket, float]:
    """Draw one allowance: (the bucket after, 0) when there was one, else (the bucket
    unchanged but for the refill, seconds to wait)."""
    current = refilled(bucket, rate, now)
    if current.tokens >= 1:
        return Bucket(current.tokens - 1, current.at), 0.0
    return current, wait(current, rate, now)
