"""The sliding-window allowance of hit checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casehub.domain.deconfliction.allowance import wait_for

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("used", "wanted", "limit", "expected"),
    [
        ([], 1, 100, None),
        ([], 100, 100, None),
        ([], 101, 100, 60.0),
        ([(ago(10), 50)], 50, 100, None),
        ([(ago(10), 50)], 51, 100, 50.0),
        ([(ago(10), 50), (ago(30), 50)], 1, 100, 30.0),
        ([(ago(10), 50), (ago(30), 50)], 60, 100, 50.0),
        ([(ago(61), 100)], 100, 100, None),
        ([(ago(60), 100)], 1, 100, None),
        ([(ago(59.5), 100)], 1, 100, 0.5),
        ([(ago(5), 3)], 1, 3, 55.0),
    ],
)
def test_the_wait_is_until_enough_of_the_window_has_passed(
    used: list[tuple[datetime, int]], wanted: int, limit: int, expected: float | None
) -> None:
    assert wait_for(used, wanted=wanted, limit=limit, now=NOW, window=MINUTE) == expected
