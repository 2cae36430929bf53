"""The write-scaling run's pure parts: dealing connections to replicas, pooling results,
averaging PostgreSQL samples, CPU counters, the table and the targets."""

from __future__ import annotations

import math

import pytest
import typer

from benchmarks.hostcpu import cpu_times, idle_share
from benchmarks.load import LoadResult
from benchmarks.pg_sampler import LockSummary, Sample, libpq_url, summarize
from benchmarks.scaling import CASEHUB, FLOOR, Point, merged, spread
from benchmarks.scaling_cli import connection_counts
from benchmarks.scaling_report import replica_gain, share_of_floor, table, targets


@pytest.mark.parametrize(
    ("connections", "replicas", "shares"),
    [(16, 1, [16]), (16, 2, [8, 8]), (5, 2, [3, 2]), (1, 2, [1, 0]), (64, 3, [22, 21, 21])],
)
def test_connections_are_dealt_round_robin(connections, replicas, shares) -> None:
    assert spread(connections, replicas) == shares


def test_merged_results_pool_latencies_and_errors() -> None:
    first = LoadResult(seconds=1.0, latencies=[0.1, 0.2], errors=0)
    second = LoadResult(seconds=1.2, latencies=[0.3], errors=1, first_error="BadAnswer: no")
    result = merged([first, second])
    assert (result.seconds, result.latencies, result.errors) == (1.2, [0.1, 0.2, 0.3], 1)
    assert result.first_error == "BadAnswer: no"
    assert result.rate == pytest.approx(2 / 1.2)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([Sample(0, 0, 0)], LockSummary(1, 0.0, 0.0, 0.0, 0.0)),
        (
            [Sample(2, 1, 3), Sample(0, 0, 1), Sample(4, 3, 2), Sample(2, 0, 2)],
            LockSummary(4, 2.0, 1.0, 0.5, 2.0),
        ),
    ],
)
def test_samples_are_averaged(samples, expected) -> None:
    assert summarize(samples) == expected


def test_no_samples_average_to_nan() -> None:
    summary = summarize([])
    assert summary.samples == 0
    assert math.isnan(summary.mean_lock_waiters)
    assert math.isnan(summary.advisory_share)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/db",
            "postgresql://postgres@127.0.0.1:5432/db",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_the_sampler_connects_with_a_libpq_url(url, expected) -> None:
    assert libpq_url(url) == expected


def test_cpu_counters_give_the_idle_share() -> None:
    before = cpu_times("cpu  100 0 50 800 50 0 0 0 7 0\ncpu0 1 2 3 4\n")
    after = cpu_times("cpu  200 0 100 850 50 0 0 0 9 0\n")
    assert before == (850, 1000)
    assert idle_share(before, after) == pytest.approx(50 / 200)
    assert math.isnan(idle_share(after, after))


@pytest.mark.parametrize(("given", "expected"), [("16,64", (16, 64)), (" 2 ", (2,))])
def test_connection_counts_are_read(given, expected) -> None:
    assert connection_counts(given) == expected


@pytest.mark.parametrize("given", ["", "a,2", "0,4", "-1"])
def test_bad_connection_counts_are_refused(given) -> None:
    with pytest.raises(typer.BadParameter):
        connection_counts(given)


def _point(server: str, replicas: int, rate: float, advisory: float = 0.0) -> Point:
    load = LoadResult(seconds=1.0, latencies=[0.010] * int(rate))
    locks = LockSummary(10, advisory, advisory, advisory, 1.0)
    return Point(server, replicas, 16, load, locks, host_idle=0.25, client_cpu=0.5)


POINTS = [
    _point(CASEHUB, 1, 20, advisory=0.8),
    _point(CASEHUB, 2, 30, advisory=0.9),
    _point(FLOOR, 1, 80),
    _point(FLOOR, 2, 120),
]


@pytest.mark.parametrize(
    ("index", "share", "gain"),
    [(0, 0.25, math.nan), (1, 0.25, 1.5), (2, math.nan, math.nan), (3, math.nan, 1.5)],
)
def test_shares_of_the_floor_and_replica_gains(index, share, gain) -> None:
    point = POINTS[index]
    measured = (share_of_floor(POINTS, point), replica_gain(POINTS, point))
    for found, wanted in zip(measured, (share, gain), strict=True):
        assert (math.isnan(found) and math.isnan(wanted)) or found == pytest.approx(wanted)


def test_the_table_has_a_row_per_point() -> None:
    lines = table(POINTS).splitlines()
    assert len(lines) == 2 + len(POINTS)
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    assert cells[0][:3] == ["server", "replicas", "connections"]
    assert cells[2][0] == "casehub"
    assert cells[2][-2:] == ["25%", ""]
    assert cells[3][-2:] == ["25%", "1.50x"]
    assert cells[5][0] == "floor, no lock"
    assert cells[5][-2:] == ["", "1.50x"]
    assert len({len(line) for line in lines}) == 1  # columns aligned


def test_the_targets_give_casehubs_numbers() -> None:
    shares, gains, waits = targets(POINTS)
    assert shares.endswith("1x16 25%, 2x16 25%")
    assert "16 connections 1.50x (host CPU idle 25%)" in gains
    assert waits.endswith("1x16 80%, 2x16 90%")
