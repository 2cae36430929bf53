"""The submit workloads (an unsigned submission, then signed ones) and what the report says of
them: each operation succeeds on a real hub only when the hub sent the request and its receipt
commits to exactly the signature given; any other answer is an error. The signing is left out
of an operation's latency, the floor's row says it does not apply, and the report gives a
signed submission's extra cost as a share of a write's. Nothing about speed is asserted."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from benchmarks import databases, report, seeding
from benchmarks.dataset import OWNERS
from benchmarks.load import BadAnswer, LoadResult, drive, untimed
from benchmarks.processes import Stats
from benchmarks.runner import Measurement, Outcome, pooled, turns_of
from benchmarks.seeding import Tokens
from benchmarks.signing import Submitter, submission_signature
from benchmarks.workloads import (
    NO_SIGNATURES_ON_THE_FLOOR,
    WORKLOADS,
    Fixture,
    Workload,
    check_submitted,
)
from casehub.api.ids import to_global_id
from casehub.app import build_runtime, create_app
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.enums import AgencyKind
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import (
    parse_statement,
    signature_digest,
    statement_bytes,
)
from tests.bench_support import cells

BY_NAME = {workload.name: workload for workload in WORKLOADS}
SUBMIT, SIGNED, HYBRID = (BY_NAME[n] for n in ("submit", "signed-submit", "signed-submit-hybrid"))
WRITE = BY_NAME["write"]


def test_the_submissions_go_where_no_signature_is_required() -> None:
    assert OWNERS[seeding.SUBMITTED_TO].kind is AgencyKind.LAW_ENFORCEMENT


# --- the operations on a real hub ------------------------------------------------------------


@pytest.fixture(scope="module")
def target() -> Iterator[databases.Target]:
    """A fresh migrated SQLite database (migrating runs its own event loop: not in a test's)."""
    with databases.prepared("sqlite") as prepared:
        yield prepared


@pytest.fixture(scope="module")
async def hub(target: databases.Target) -> AsyncIterator[tuple[httpx.AsyncClient, Fixture]]:
    """The target seeded (one case) and served in process, and what the workloads know of it."""
    tokens, submitter = await seeding.seed(target, cases=1, bulk=False)
    runtime = build_runtime(target.settings())
    app = create_app(target.settings(), runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
            yield http, Fixture(tokens, 1, submitter)
    finally:
        await runtime.database.dispose()


@pytest.mark.parametrize("workload", [SUBMIT, SIGNED, HYBRID], ids=lambda w: w.name)
async def test_each_submit_operation_succeeds_on_the_hub(
    hub: tuple[httpx.AsyncClient, Fixture], workload: Workload
) -> None:
    http, fixture = hub
    operation = workload.casehub(fixture)
    submitted: Any = await operation(http)
    assert submitted["status"] == "SUBMITTED"
    committed = orjson.loads(submitted["events"][-1]["receipt"]["eventJson"]).get("signatures")
    assert (committed is None) == (workload is SUBMIT)


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
async def test_a_key_the_hub_never_accredited_makes_the_operation_fail(
    hub: tuple[httpx.AsyncClient, Fixture], algorithm: SigningAlgorithm
) -> None:
    http, fixture = hub
    stranger = {algorithm: AgencyPrivateKey.generate(algorithm)}
    unaccredited = dataclasses.replace(
        fixture, submitter=dataclasses.replace(fixture.submitter, keys=stranger)
    )
    workload = SIGNED if algorithm is SigningAlgorithm.ED25519 else HYBRID
    with pytest.raises(BadAnswer, match="KEY_NOT_ACCREDITED"):
        await workload.casehub(unaccredited)(http)


async def test_a_refused_signature_counts_as_an_error_in_a_run(
    hub: tuple[httpx.AsyncClient, Fixture],
) -> None:
    http, fixture = hub
    stranger = {SigningAlgorithm.ED25519: AgencyPrivateKey.generate(SigningAlgorithm.ED25519)}
    unaccredited = dataclasses.replace(
        fixture, submitter=dataclasses.replace(fixture.submitter, keys=stranger)
    )
    result = await drive(http, SIGNED.casehub(unaccredited), connections=1, seconds=0.01)
    assert result.errors == result.operations >= 1
    assert result.rate == 0
    assert result.first_error is not None
    assert "KEY_NOT_ACCREDITED" in result.first_error


# --- what the operation checks, against answers made up here ---------------------------------

SUBMITTER = Submitter(
    agency=UUID("00000000-0000-7000-8000-00000000000a"),
    principal=UUID("00000000-0000-7000-8000-00000000000b"),
    keys={algorithm: AgencyPrivateKey.generate(algorithm) for algorithm in SigningAlgorithm},
    requested=UUID("00000000-0000-7000-8000-00000000000c"),
)
DRAFT_ID = to_global_id("CooperationRequest", UUID("00000000-0000-7000-8000-0000000000d0"))


def _draft() -> dict[str, Any]:
    """The createCooperationRequest payload's request, as the hub returns it."""
    return {
        "id": DRAFT_ID,
        "kind": "INFORMATION_REQUEST",
        "priority": "ROUTINE",
        "legalBasis": None,
        "title": "t",
        "status": "DRAFT",
        "outcome": None,
        "version": 1,
        "requester": {"id": to_global_id("Agency", SUBMITTER.agency), "code": "A"},
        "requested": {
            "id": to_global_id("Agency", SUBMITTER.requested),
            "code": "B",
            "kind": "LAW_ENFORCEMENT",
        },
        "body": "Please.",
        "particulars": None,
        "evidence": [],
    }


def _submitted(
    signatures: list[str] | None, status: str = "SUBMITTED", action: str = "SUBMIT"
) -> dict[str, Any]:
    event: dict[str, Any] = {"action": action}
    if signatures is not None:
        event["signatures"] = signatures
    receipt = {"eventJson": orjson.dumps(event).decode()}
    return {
        "status": status,
        "events": [
            {"action": "CREATE", "receipt": {"eventJson": "{}"}},
            {**event, "receipt": receipt},
        ],
    }


SIGNATURE = {"keyThumbprint": "k", "statement": "{}", "signature": "s"}
DIGEST = signature_digest("{}", "s")


@pytest.mark.parametrize(
    ("answer", "signature", "error"),
    [
        (_submitted(None), None, None),
        (_submitted([DIGEST]), SIGNATURE, None),
        (_submitted(None, status="AWAITING_APPROVAL"), None, "status AWAITING_APPROVAL"),
        (_submitted(None, action="ACKNOWLEDGE"), None, "the last event is ACKNOWLEDGE"),
        (_submitted(None), SIGNATURE, "the receipt commits to []"),
        (_submitted([DIGEST, DIGEST]), SIGNATURE, "the receipt commits to"),
        (_submitted(["0" * 64]), SIGNATURE, "the receipt commits to"),
        (_submitted([DIGEST]), None, "the receipt commits to"),
    ],
)
def test_a_submission_is_checked(
    answer: dict[str, Any], signature: dict[str, str] | None, error: str | None
) -> None:
    if error is None:
        check_submitted(answer, signature)
    else:
        with pytest.raises(BadAnswer, match=error.replace("[", r"\[").replace("]", r"\]")):
            check_submitted(answer, signature)


def test_the_signature_is_over_the_draft_as_returned() -> None:
    key = SUBMITTER.keys[SigningAlgorithm.ED25519]
    signature = submission_signature(key, SUBMITTER, _draft())
    statement = parse_statement(signature["statement"])
    assert key.public.verify(statement_bytes(statement), signature["signature"])
    assert signature["keyThumbprint"] == key.public.thumbprint == statement["key"]
    assert statement["action"] == "SUBMIT"
    assert statement["request"] == "00000000-0000-7000-8000-0000000000d0"
    assert (statement["agency"], statement["principal"]) == (
        str(SUBMITTER.agency),
        str(SUBMITTER.principal),
    )
    assert statement["requested"] == str(SUBMITTER.requested)
    assert statement["evidenceSha256"] == []
    # A fresh nonce every time: the hub refuses one used twice with a key.
    again = parse_statement(submission_signature(key, SUBMITTER, _draft())["statement"])
    assert again["nonce"] != statement["nonce"]


def _fake_hub(
    submit_answer: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[httpx.MockTransport, list[dict[str, Any]]]:
    """A hub that returns the draft, then `submit_answer(step input)`; the steps it got."""
    steps: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent = orjson.loads(request.content)
        if "createCooperationRequest" in sent["query"]:
            data = {"createCooperationRequest": {"request": _draft(), "errors": []}}
        else:
            steps.append(sent["variables"]["input"])
            request_ = submit_answer(sent["variables"]["input"])
            data = {"submitCooperationRequest": {"request": request_, "errors": []}}
        return httpx.Response(200, content=orjson.dumps({"data": data}))

    return httpx.MockTransport(handle), steps


def _committing(step: dict[str, Any]) -> dict[str, Any]:
    given = step.get("signature")
    return _submitted(
        None if given is None else [signature_digest(given["statement"], given["signature"])]
    )


FIXTURE = Fixture(Tokens(reader="r", writer="w"), cases=1, submitter=SUBMITTER)


@pytest.mark.parametrize(
    ("workload", "answer", "error"),
    [
        (SUBMIT, _committing, None),
        (SIGNED, _committing, None),
        (HYBRID, _committing, None),
        (SIGNED, lambda _step: _submitted(None), "the receipt commits to []"),
        (SUBMIT, lambda _step: _submitted([DIGEST]), "the receipt commits to"),
    ],
    ids=["submit", "signed", "hybrid", "signature dropped", "signature made up"],
)
async def test_the_operation_sends_a_signature_and_checks_the_receipt(
    workload: Workload,
    answer: Callable[[dict[str, Any]], dict[str, Any]],
    error: str | None,
) -> None:
    transport, steps = _fake_hub(answer)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        operation = workload.casehub(FIXTURE)
        if error is None:
            await operation(http)
        else:
            with pytest.raises(BadAnswer, match=error.replace("[", r"\[").replace("]", r"\]")):
                await operation(http)
    (step,) = steps
    assert step["id"] == DRAFT_ID
    assert ("signature" in step) == (workload is not SUBMIT)


# --- the load generator leaves the signing out -----------------------------------------------


async def test_untimed_work_is_left_out_of_the_latency() -> None:
    async def operation(_http: httpx.AsyncClient) -> object:
        with untimed():
            await asyncio.sleep(0.05)
        return None

    async with httpx.AsyncClient() as http:
        result = await drive(http, operation, connections=1, seconds=0.01)
    assert result.operations == 1
    assert result.latencies[0] < 0.02


def test_untimed_outside_a_run_only_runs() -> None:
    ran = []
    with untimed():
        ran.append(True)
    assert ran == [True]


# --- the report ------------------------------------------------------------------------------


def _measured(rate: float, cpu: float, requests: int, db_cpu: float = math.nan) -> Measurement:
    """`rate` operations in one second, `requests` requests and `cpu` seconds of CPU."""
    load = LoadResult(1.0, [1 / rate] * int(rate)) if rate else LoadResult(1.0, [1.0], 1, "x")
    return Measurement(load, Stats(requests=requests, statements=0), 1024, cpu, db_cpu)


def test_the_floor_row_says_it_does_not_apply() -> None:
    outcome = Outcome("sqlite", SIGNED, _measured(10.0, 0.2, 20))
    header, _rule, *body = [cells(line) for line in report.table([outcome]).splitlines()]
    casehub, floor = (dict(zip(header, row, strict=True)) for row in body)
    assert casehub["ops/s"] == "10.0"
    assert casehub["CPU ms/req"] == "10.0"
    assert casehub["of floor"] == "n/a"
    assert floor["server"] == "floor"
    assert floor["ops/s"] == NO_SIGNATURES_ON_THE_FLOOR
    assert all(floor[column] == "" for column in header[4:])


def test_the_floor_row_fits_a_table_with_the_peer_column() -> None:
    cases = Outcome("postgres", WORKLOADS[0], None, None, skipped="x", peer_skipped="no npm")
    signed = Outcome("postgres", SIGNED, _measured(10.0, 0.2, 20))
    lines = report.table([cases, signed]).splitlines()
    assert "of PostGraphile" in lines[0]
    assert len({len(cells(line)) for line in lines}) == 1


# sqlite: a submit 20 ops/s, 40 requests, 0.2 s of CPU: 10 ms of CPU and 50 ms of time an op;
# signed: 16 ops/s, 32 requests, 0.176 s: 11 ms and 62.5 ms; a write 10 ops/s, 30 requests,
# 0.25 s: 25 ms and 100 ms.
def _run(
    database: str = "sqlite", db_cpu: tuple[float, float, float] = (math.nan,) * 3
) -> dict[str, Outcome]:
    return {
        "submit": Outcome(database, SUBMIT, _measured(20.0, 0.2, 40, db_cpu[0])),
        "signed": Outcome(database, SIGNED, _measured(16.0, 0.176, 32, db_cpu[1])),
        "write": Outcome(database, WRITE, _measured(10.0, 0.25, 30, db_cpu[2])),
    }


def test_the_extra_cost_is_a_share_of_a_write() -> None:
    run = _run()
    (line,) = report.extra_costs([run["write"], run["submit"], run["signed"]])
    assert line == (
        "sqlite, f. signed submit over e. submit: +1.00 ms of CPU (casehub) and +12.50 ms of "
        "time (1 / ops/s) an operation: 4.0% and 12.5% of a d. write operation's (25.00 ms of "
        "CPU, 100.00 ms; target < 10%)"
    )


def test_on_postgres_the_database_cpu_counts_too() -> None:
    run = _run("postgres", db_cpu=(0.02, 0.048, 0.05))  # 1, 3 and 5 ms an operation
    (line,) = report.extra_costs(list(run.values()))
    assert "+3.00 ms of CPU (casehub + PostgreSQL)" in line
    assert "10.0% and 12.5% of a d. write operation's (30.00 ms of CPU" in line


@pytest.mark.parametrize(
    ("present", "says"),
    [
        (["signed", "write"], "no `submit` run to compare with"),
        (["signed", "submit"], "; no `write` run to compare with"),
        (["submit", "write"], None),
    ],
)
def test_the_extra_cost_needs_its_baseline_and_a_write(
    present: list[str], says: str | None
) -> None:
    run = _run()
    lines = report.extra_costs([run[name] for name in present])
    if says is None:
        assert lines == []
    else:
        (line,) = lines
        assert says in line


def test_a_run_without_successes_gives_no_number() -> None:
    run = _run()
    run["signed"] = Outcome("sqlite", SIGNED, _measured(0.0, 0.1, 0))
    (line,) = report.extra_costs(list(run.values()))
    assert "n/a of CPU (casehub) and n/a of time" in line
    assert ": n/a and n/a of a d. write operation's" in line


# --- measured in turns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workload", "run", "group"),
    [
        (SUBMIT, [WRITE, SUBMIT, SIGNED, HYBRID], [SUBMIT, SIGNED, HYBRID]),
        (HYBRID, [WRITE, SUBMIT, SIGNED, HYBRID], [SUBMIT, SIGNED, HYBRID]),
        (SIGNED, [SUBMIT, SIGNED], [SUBMIT, SIGNED]),
        (SIGNED, [SIGNED, HYBRID], [SIGNED]),
        (SUBMIT, [SUBMIT], [SUBMIT]),
        (WRITE, [WRITE, SUBMIT, SIGNED], [WRITE]),
    ],
)
def test_an_addition_is_measured_in_turns_with_its_base(
    workload: Workload, run: list[Workload], group: list[Workload]
) -> None:
    assert turns_of(workload, run) == group


def test_turns_pool_into_one_measurement() -> None:
    first = Measurement(LoadResult(2.0, [0.1, 0.2]), Stats(4, 40), 100, 0.5, math.nan)
    second = Measurement(
        LoadResult(2.5, [0.3], errors=1, first_error="BadAnswer: no"), Stats(2, 20), 300, 0.25
    )
    both = pooled([first, second])
    assert (both.load.seconds, both.load.latencies, both.load.errors) == (4.5, [0.1, 0.2, 0.3], 1)
    assert both.load.first_error == "BadAnswer: no"
    assert both.stats == Stats(6, 60)
    assert (both.peak_rss_kib, both.cpu_seconds) == (300, 0.75)
    assert math.isnan(both.db_cpu_seconds)
    on_postgres = pooled([Measurement(LoadResult(1.0), Stats(1, 1), 1, 0.1, 0.25)] * 2)
    assert on_postgres.db_cpu_seconds == 0.5
