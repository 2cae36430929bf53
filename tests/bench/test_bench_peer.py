"""PostGraphile as the benchmark's peer: a tiny run on PostgreSQL measures the cases page on it
beside casehub and the floor, without errors, and gives both as a share of it; and the parts
the run rests on (CPU time from /proc, the peer's URL, the page's shape, the report's rows).
Nothing about speed is asserted. Where npm cannot install PostGraphile the run is skipped,
naming why; under CI=true it fails instead."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import orjson
import pytest

from benchmarks import peer, report
from benchmarks.load import BadAnswer, LoadResult
from benchmarks.processes import CLOCK_TICKS, Stats, cpu_seconds
from benchmarks.runner import Measurement, Outcome
from benchmarks.seeding import Tokens
from benchmarks.signing import Submitter
from benchmarks.workloads import WORKLOADS, Fixture, casehub_rows, peer_page_shape, peer_rows
from casehub.api.ids import to_global_id
from tests.bench_support import cells, run_benchmark
from tests.postgres import require_postgres

ROOT = Path(__file__).resolve().parents[2]
TINY_RUN = [
    *("--database", "postgres", "--workloads", "cases", "--cases", "5"),
    *("--duration", "1", "--connections", "2"),
]
CASES = next(workload for workload in WORKLOADS if workload.name == "cases")


def _installed_or_skip() -> None:
    try:
        peer.install()
    except peer.PeerUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostGraphile cannot run, and CI requires it: {error}")
        pytest.skip(f"PostGraphile cannot run here: {error}")


@pytest.mark.postgres
def test_a_tiny_run_measures_the_cases_page_on_postgraphile_too() -> None:
    require_postgres("the PostGraphile peer run")
    _installed_or_skip()
    table, printed = run_benchmark(TINY_RUN)
    rows = {row["server"]: row for row in table}
    assert set(rows) == {"casehub", "floor", peer.NAME}, printed
    for row in rows.values():
        assert row["errors"] == "0", printed
        assert float(row["CPU ms/req"].replace(",", "")) > 0
    assert float(rows[peer.NAME]["ops/s"].replace(",", "")) > 0
    assert rows[peer.NAME]["answer"] == "same rows"
    assert rows["casehub"]["of PostGraphile"].endswith("%")
    assert rows["floor"]["of PostGraphile"].endswith("%")


def test_without_the_peer_the_table_has_no_peer_column() -> None:
    outcome = Outcome("sqlite", CASES, _measured(10.0), _measured(20.0))
    lines = report.table([outcome]).splitlines()
    assert "of PostGraphile" not in lines[0]
    assert cells(lines[2])[report.COLUMNS.index("of floor")] == "50%"


@pytest.mark.parametrize(
    ("peer_rate", "skipped", "servers", "shares"),
    [
        (40.0, None, ["casehub", "floor", peer.NAME], ["25%", "50%", ""]),
        (None, "no node or npm on PATH", ["casehub", "floor", peer.NAME], ["", "", ""]),
    ],
)
def test_the_peer_row_and_the_shares_of_it(
    peer_rate: float | None, skipped: str | None, servers: list[str], shares: list[str]
) -> None:
    measured = None if peer_rate is None else _measured(peer_rate)
    outcome = Outcome(
        "postgres", CASES, _measured(10.0), _measured(20.0), peer=measured, peer_skipped=skipped
    )
    header, _rule, *body = [cells(line) for line in report.table([outcome]).splitlines()]
    rows = [dict(zip(header, cells, strict=True)) for cells in body]
    assert [row["server"] for row in rows] == servers
    assert [row["of PostGraphile"] for row in rows] == shares
    if skipped:
        assert rows[2]["ops/s"] == f"skipped: {skipped}"
    else:
        assert rows[2]["CPU ms/req"] == "5.0"  # 0.5 s of CPU over 100 requests
        assert rows[2]["answer"] == "same rows"


def test_a_peer_error_is_reported() -> None:
    failed = _measured(40.0, errors=2)
    outcome = Outcome("postgres", CASES, _measured(10.0), _measured(20.0), peer=failed)
    assert report.errors([outcome]) == [
        f"postgres {CASES.title} {peer.NAME}: 2 errors, the first: BadAnswer: x"
    ]


@pytest.mark.parametrize(
    ("stat", "seconds"),
    [
        ("1 (node) S 0 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 11 0 9 0 0", 200),
        ("7 (a b) c) R 0 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 9 0 0", 7),
    ],
)
def test_cpu_seconds_adds_user_and_system_time(stat: str, seconds: int) -> None:
    assert cpu_seconds(stat) == seconds / CLOCK_TICKS


def test_cpu_seconds_of_this_process_grow() -> None:
    path = Path(f"/proc/{os.getpid()}/stat")
    before = cpu_seconds(path.read_text())
    sum(range(2_000_000))
    assert cpu_seconds(path.read_text()) >= before


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/bench",
            "postgresql://postgres@127.0.0.1:5432/bench",
        ),
        ("postgresql://u:p@h/db", "postgresql://u:p@h/db"),
    ],
)
def test_the_peer_takes_a_libpq_url(url: str, expected: str) -> None:
    assert peer.libpq_url(url) == expected


def test_the_peer_refuses_sqlite() -> None:
    with pytest.raises(peer.PeerUnavailable, match="PostgreSQL only"):
        peer.libpq_url("sqlite+aiosqlite:///x.db")


def test_the_install_directory_follows_the_lock_file() -> None:
    assert peer.install_directory(b"a") != peer.install_directory(b"b")
    assert peer.install_directory(b"a").parent == peer.cache_root()


@pytest.mark.parametrize(("cases", "pages"), [(5, 5), (50, 50), (1_000, 50)])
def test_the_page_shape_is_the_newest_cases(cases: int, pages: int) -> None:
    shape = peer_page_shape(cases)
    assert len(shape) == pages
    assert all(subjects == [2, 2] for subjects in shape)


def test_the_two_pages_flatten_alike() -> None:
    ids = {name: f"0000000{n}-0000-7000-8000-000000000000" for n, name in enumerate("csi")}
    clear = {
        "reference": "R",
        "title": "T",
        "category": "FRAUD",
        "status": "OPEN",
        "tlp": "AMBER",
        "handlingCode": "H1",
        "version": 1,
    }
    owner = {"code": "A", "name": "Agency", "jurisdiction": "MY"}
    item = {"kind": "PHONE", "platform": None, "chain": None}
    casehub: dict[str, Any] = {
        "cases": {
            "edges": [
                {
                    "node": {
                        "id": to_global_id("Case", UUID(ids["c"])),
                        **clear,
                        "summary": "plain",
                        "owner": owner,
                        "subjects": [
                            {
                                "id": to_global_id("Subject", UUID(ids["s"])),
                                "kind": "PERSON",
                                "displayName": "Name",
                                "identifiers": [
                                    {
                                        "id": to_global_id("Identifier", UUID(ids["i"])),
                                        **item,
                                        "value": "+60123",
                                    }
                                ],
                            }
                        ],
                    }
                }
            ]
        }
    }
    postgraphile: dict[str, Any] = {
        "allCaseFiles": {
            "edges": [
                {
                    "node": {
                        "id": ids["c"],
                        **clear,
                        "summary": "\\x4348",
                        "owner": owner,
                        "subjects": {
                            "nodes": [
                                {
                                    "id": ids["s"],
                                    "kind": "PERSON",
                                    "displayName": "\\x4348",
                                    "identifiers": {
                                        "nodes": [{"id": ids["i"], **item, "value": "\\x4348"}]
                                    },
                                }
                            ]
                        },
                    }
                }
            ]
        }
    }
    assert casehub_rows(casehub) == peer_rows(postgraphile)
    postgraphile["allCaseFiles"]["edges"][0]["node"]["title"] = "other"
    assert casehub_rows(casehub) != peer_rows(postgraphile)


def _measured(rate: float, errors: int = 0) -> Measurement:
    """`rate` successful operations in a second (and `errors` failed ones); whatever the rate,
    100 requests and 0.5 s of CPU, 5 ms a request."""
    latencies = [1 / rate] * (int(rate) + errors)
    first_error = "BadAnswer: x" if errors else None
    load = LoadResult(1.0, latencies, errors, first_error)
    return Measurement(load, Stats(requests=100, statements=100), 100 * 1024, 0.5)


def _peer_page(shape: list[list[int]], owner: bool = True) -> dict[str, Any]:
    def node(subjects: list[int]) -> dict[str, Any]:
        return {
            "summary": "\\x4348",
            "owner": {"code": "A"} if owner else None,
            "subjects": {"nodes": [{"identifiers": {"nodes": [{}] * count}} for count in subjects]},
        }

    return {"data": {"allCaseFiles": {"edges": [{"node": node(case)} for case in shape]}}}


@pytest.mark.parametrize(
    ("shape", "owner", "error"),
    [
        ([[2, 2]] * 3, True, None),
        ([[2, 2], [2], [2, 2]], True, "of case 1: [2] against [2, 2]"),
        ([[2, 2]] * 2, True, "2 cases against 3"),
        ([[2, 2]] * 3, False, "a case without its owner or summary"),
    ],
)
async def test_the_peer_operation_checks_the_page(
    shape: list[list[int]], owner: bool, error: str | None
) -> None:
    assert CASES.peer is not None
    submitter = Submitter(agency=uuid4(), principal=uuid4(), keys={}, requested=uuid4())
    operation = CASES.peer(Fixture(Tokens(reader="r", writer="w"), cases=3, submitter=submitter))
    body = orjson.dumps(_peer_page(shape, owner))
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, content=body))
    async with httpx.AsyncClient(transport=transport, base_url="http://peer") as http:
        if error is None:
            assert await operation(http) == _peer_page(shape)["data"]
        else:
            with pytest.raises(BadAnswer, match=re.escape(error)):
                await operation(http)
