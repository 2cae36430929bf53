"""`casehub demo --no-serve`: the real console script in an empty directory, run twice; the
scenario's cooperation requests, the overdue MLA and the receipts of the demo."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from casehub.app import create_app
from casehub.config import Settings
from casehub.demo.loader import EXAMPLES

CASEHUB = Path(sys.executable).parent / "casehub"
CODES = ("MY-PDRM", "MY-MCMC", "FR-PARQUET-J3", "INT-UNODC", "AE-RELAYGRAM")
STATES = (
    "DRAFT",
    "SUBMITTED",
    "SUBMITTED",  # the forged one: an insider raised its priority in the database
    "ACKNOWLEDGED",
    "ACCEPTED",
    "DECLINED",
    "FULFILLED",
    "PARTIALLY_FULFILLED",
    "WITHDRAWN",
    "CLOSED",
)
REQUESTS_SQL = """
SELECT r.status, r.kind, r.priority, a.code, b.code
FROM cooperation_request r
JOIN agency a ON a.id = r.requester_agency_id
JOIN agency b ON b.id = r.requested_agency_id"""
CASES_QUERY = (
    "{ cases(first: 50) { totalCount edges { node { reference viewerAccess owner { code } } } } }"
)


@dataclass
class DemoRun:
    """One `casehub demo --no-serve` and the tokens it printed."""

    result: subprocess.CompletedProcess[str]
    tokens: dict[str, str]


def demo_env() -> dict[str, str]:
    """The environment without CASEHUB_ settings: the demo's defaults under ./.casehub/."""
    return {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}


def casehub(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Another `casehub` command in the demo's directory."""
    return subprocess.run(
        [str(CASEHUB), *args],
        cwd=cwd,
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@asynccontextmanager
async def demo_api() -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the demo's database and keyring (run from the demo's directory)."""
    settings = Settings(
        database_url="sqlite+aiosqlite:///.casehub/casehub.db",
        keyring=Path(".casehub/keyring.json"),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            yield http


def run_demo(cwd: Path) -> DemoRun:
    env = demo_env()
    result = subprocess.run(
        [str(CASEHUB), "demo", "--no-serve"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    tokens: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"\s*([A-Z][A-Z0-9-]+)\s+(chb_\S+)\s*", line)
        if match:
            assert match.group(1) not in tokens, f"token of {match.group(1)} printed twice"
            tokens[match.group(1)] = match.group(2)
    return DemoRun(result, tokens)


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as connection:
        (value,) = connection.execute(sql).fetchone()
    connection.close()
    assert isinstance(value, int)
    return value


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty directory the demo runs in."""
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def first(workdir: Path) -> DemoRun:
    return run_demo(workdir)


@pytest.fixture(scope="module")
def second(workdir: Path, first: DemoRun) -> DemoRun:
    return run_demo(workdir)


def test_demo_creates_home_and_prints_tokens(workdir: Path, first: DemoRun) -> None:
    assert first.result.returncode == 0, first.result.stderr
    keyring = workdir / ".casehub" / "keyring.json"
    assert keyring.is_file()
    assert stat.S_IMODE(keyring.stat().st_mode) == 0o600
    assert (workdir / ".casehub" / "casehub.db").is_file()

    assert set(first.tokens) == set(CODES), first.result.stdout
    assert len(set(first.tokens.values())) == len(CODES)
    curls = [line for line in first.result.stdout.splitlines() if line.lstrip().startswith("curl ")]
    assert len(curls) == len(EXAMPLES), first.result.stdout
    # Each example with the token of the agency it is meant for.
    assert [
        first.tokens[code or "MY-PDRM"] in line
        for line, (_title, _query, code) in zip(curls, EXAMPLES, strict=True)
    ] == [True] * len(EXAMPLES)


def test_demo_loads_the_scenario(workdir: Path, first: DemoRun) -> None:
    assert first.result.returncode == 0, first.result.stderr
    db = workdir / ".casehub" / "casehub.db"
    assert count(db, "SELECT count(*) FROM agency") >= 5
    assert count(db, "SELECT count(DISTINCT jurisdiction) FROM agency") >= 3
    assert count(db, "SELECT count(*) FROM case_file") == 8
    assert count(db, "SELECT count(*) FROM subject") >= 20
    assert (
        count(db, "SELECT count(*) FROM evidence WHERE kind = 'HASH_ONLY' AND content IS NULL") >= 1
    )
    assert count(db, "SELECT count(*) FROM custody_event") >= 1
    assert count(db, "SELECT count(*) FROM case_share") >= 5


def test_demo_twice_is_idempotent_with_fresh_tokens(
    workdir: Path, first: DemoRun, second: DemoRun
) -> None:
    assert second.result.returncode == 0, second.result.stderr
    db = workdir / ".casehub" / "casehub.db"
    assert count(db, "SELECT count(*) FROM case_file") == 8
    assert count(db, "SELECT count(*) FROM agency") == len(CODES)
    assert count(db, "SELECT count(*) FROM case_share") == count(
        db, "SELECT count(DISTINCT case_id || ':' || agency_id) FROM case_share"
    )
    assert count(db, "SELECT count(*) FROM cooperation_request") == len(STATES)
    assert count(db, "SELECT count(*) FROM request_event") == count(
        db, "SELECT count(DISTINCT request_id || ':' || number) FROM request_event"
    )
    assert set(second.tokens) == set(CODES), second.result.stdout
    for code in CODES:
        assert second.tokens[code] != first.tokens[code], code


async def cases_seen(http: httpx.AsyncClient, token: str) -> dict[str, tuple[str, str]]:
    """reference -> (viewerAccess, owner code) of every case the token's agency can see."""
    response = await http.post(
        "/graphql", json={"query": CASES_QUERY}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    connection = body["data"]["cases"]
    seen = {
        edge["node"]["reference"]: (edge["node"]["viewerAccess"], edge["node"]["owner"]["code"])
        for edge in connection["edges"]
    }
    assert connection["totalCount"] == len(seen) == len(connection["edges"])
    return seen


async def test_demo_agencies_see_what_was_shared_with_them(
    workdir: Path, second: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert second.result.returncode == 0, second.result.stderr
    monkeypatch.chdir(workdir)
    async with demo_api() as http:
        pdrm = await cases_seen(http, second.tokens["MY-PDRM"])
        relaygram = await cases_seen(http, second.tokens["AE-RELAYGRAM"])

    assert pdrm == {
        "CCID/KL/2026/0412": ("OWNER", "MY-PDRM"),
        "NCID/JB/2026/0077": ("OWNER", "MY-PDRM"),
        "D11/KL/2026/0033": ("OWNER", "MY-PDRM"),
        "PARQUET-J3-26-184522": ("FULL", "FR-PARQUET-J3"),
        "MCMC/ENF/2026/1188": ("FULL", "MY-MCMC"),
        "UNODC-CYB-2026-SEA-014": ("METADATA", "INT-UNODC"),
    }

    assert relaygram["D11/KL/2026/0033"] == ("FULL", "MY-PDRM")
    # Cases linked to requests the platform handles: their clear fields only, while open or
    # once fulfilled (the preservation); nothing of the withdrawn, declined or closed ones'.
    assert relaygram["CCID/KL/2026/0412"] == ("METADATA", "MY-PDRM")
    assert relaygram["PARQUET-J3-26-184522"] == ("METADATA", "FR-PARQUET-J3")
    assert relaygram["MCMC/ENF/2026/1203"] == ("METADATA", "MY-MCMC")
    assert "UNODC-CYB-2026-SEA-014" not in relaygram  # linked to the declined request only
    assert "NCID/JB/2026/0077" not in relaygram
    assert all(owner == "AE-RELAYGRAM" for access, owner in relaygram.values() if access == "OWNER")


def demo_requests(db: Path) -> list[tuple[str, str, str, str, str]]:
    """(status, kind, priority, requester code, requested code) of every request."""
    with sqlite3.connect(db) as connection:
        rows = [tuple(row) for row in connection.execute(REQUESTS_SQL)]
    connection.close()
    return rows


def test_demo_has_requests_in_every_state(workdir: Path, second: DemoRun) -> None:
    assert second.result.returncode == 0, second.result.stderr
    db = workdir / ".casehub" / "casehub.db"
    requests = demo_requests(db)
    assert sorted(status for status, *_rest in requests) == sorted(STATES)
    parties = {code for *_head, requester, requested in requests for code in (requester, requested)}
    assert parties == set(CODES)

    by_status = {status: (kind, priority, a, b) for status, kind, priority, a, b in requests}
    assert sorted(row[1:] for row in requests if row[0] == "SUBMITTED") == [
        ("DATA_DISCLOSURE", "EMERGENCY", "MY-PDRM", "AE-RELAYGRAM"),
        ("MUTUAL_LEGAL_ASSISTANCE", "ROUTINE", "MY-PDRM", "FR-PARQUET-J3"),
    ]
    assert (
        "EMERGENCY_DISCLOSURE",
        "EMERGENCY",
        "MY-PDRM",
        "AE-RELAYGRAM",
    ) in by_status.values()
    assert ("DATA_DISCLOSURE", "FR-PARQUET-J3", "AE-RELAYGRAM") in {
        (kind, a, b) for kind, _priority, a, b in by_status.values()
    }
    assert ("CONTENT_REMOVAL", "MY-MCMC", "AE-RELAYGRAM") in {
        (kind, a, b) for kind, _priority, a, b in by_status.values()
    }
    assert by_status["FULFILLED"][0] == "EVIDENCE_PRESERVATION"
    assert {by_status[status][2] for status in ("DECLINED", "WITHDRAWN")} == {"INT-UNODC"}

    # Threads, linked cases, attached and supplied evidence, and one receipt per step.
    assert count(db, "SELECT count(*) FROM request_message WHERE kind = 'MESSAGE'") >= 4
    assert count(db, "SELECT count(*) FROM cooperation_request WHERE case_id IS NOT NULL") >= 8
    assert count(db, "SELECT count(*) FROM request_evidence WHERE role = 'SUPPLIED'") >= 1
    assert count(db, "SELECT count(*) FROM request_evidence WHERE role = 'ATTACHED'") >= 2
    assert count(db, "SELECT count(*) FROM request_event") >= 30
    assert count(db, "SELECT count(*) FROM request_event WHERE signature = ''") == 0
    # Every agency signs: each signable step carries its agency's signature.
    signable = "('SUBMIT', 'APPROVE', 'ACCEPT', 'DECLINE', 'FULFIL')"
    assert count(db, f"SELECT count(*) FROM request_event WHERE action IN {signable}") == count(
        db, "SELECT count(*) FROM request_signature"
    )
    assert count(db, "SELECT count(*) FROM agency_signing_key WHERE accreditation IS NULL") == 0
    for code in CODES:
        key = workdir / ".casehub" / "demo-agency-keys" / f"{code}.json"
        assert key.stat().st_mode & 0o777 == 0o600, code


def test_demo_overdue_mla_is_listed(workdir: Path, second: DemoRun) -> None:
    assert second.result.returncode == 0, second.result.stderr
    result = casehub(workdir, "requests", "overdue", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [
        (row["kind"], row["status"], row["requester"], row["requested"], row["step"])
        for row in rows
    ] == [("MUTUAL_LEGAL_ASSISTANCE", "SUBMITTED", "MY-PDRM", "FR-PARQUET-J3", "ACKNOWLEDGE")]
    assert rows[0]["overdueSeconds"] > 27 * 24 * 3600

    table = casehub(workdir, "requests", "overdue")
    assert table.returncode == 0, table.stderr
    assert rows[0]["id"] in table.stdout

    exported = casehub(workdir, "receipts", "export", rows[0]["id"], "--output", "mla.json")
    assert exported.returncode == 0, exported.stderr
    verified = casehub(workdir, "receipts", "verify", "mla.json")
    assert verified.returncode == 0, verified.stderr
    # CREATE, SUBMIT and the requester's reminder message.
    assert verified.stdout.startswith("verified 3 receipts"), verified.stdout


REQUESTS_QUERY = """query($f: CooperationRequestFilter) {
  cooperationRequests(filter: $f, first: 50) { edges { node {
    id kind status priority isOverdue particulars { imminentThreat }
    requester { code } requested { code } } } } }"""


async def requests_seen(
    http: httpx.AsyncClient, token: str, direction: str
) -> list[dict[str, Any]]:
    response = await http.post(
        "/graphql",
        json={"query": REQUESTS_QUERY, "variables": {"f": {"direction": direction}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["cooperationRequests"]["edges"]]


async def test_demo_requests_through_the_api(
    workdir: Path, second: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert second.result.returncode == 0, second.result.stderr
    monkeypatch.chdir(workdir)
    async with demo_api() as http:
        incoming = await requests_seen(http, second.tokens["AE-RELAYGRAM"], "INCOMING")
        pdrm_out = await requests_seen(http, second.tokens["MY-PDRM"], "OUTGOING")
        pdrm_in = await requests_seen(http, second.tokens["MY-PDRM"], "INCOMING")
        j3_out = await requests_seen(http, second.tokens["FR-PARQUET-J3"], "OUTGOING")

    emergency = [node for node in incoming if node["kind"] == "EMERGENCY_DISCLOSURE"]
    assert len(emergency) == 1
    assert emergency[0]["requester"]["code"] == "MY-PDRM"
    assert emergency[0]["priority"] == "EMERGENCY"
    assert "12-year-old" in emergency[0]["particulars"]["imminentThreat"]
    assert {node["requester"]["code"] for node in incoming} == {
        "MY-PDRM",
        "FR-PARQUET-J3",
        "MY-MCMC",
        "INT-UNODC",
    }

    overdue = [node for node in pdrm_out if node["isOverdue"]]
    assert [(node["kind"], node["requested"]["code"]) for node in overdue] == [
        ("MUTUAL_LEGAL_ASSISTANCE", "FR-PARQUET-J3")
    ]
    # The Paris draft to the Malaysian police is Paris's alone until it is submitted.
    drafts = [node for node in j3_out if node["status"] == "DRAFT"]
    assert len(drafts) == 1
    assert drafts[0]["id"] not in {node["id"] for node in pdrm_in}


async def test_demo_examples_run_and_deconfliction_finds_the_shared_leads(
    workdir: Path, second: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    async with demo_api() as http:
        bodies = []
        for _title, query, code in EXAMPLES:
            token = second.tokens[code or "MY-PDRM"]
            response = await http.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            bodies.append(response.json())
    for body in bodies:
        assert "errors" not in body, body
        for value in body["data"].values():
            assert not (isinstance(value, dict) and value.get("errors")), body
    [hit_check] = [body for body in bodies if "hitCheck" in body["data"]]
    [result] = hit_check["data"]["hitCheck"]["results"]
    assert sorted(hit["agency"]["code"] for hit in result["hits"]) == [
        "FR-PARQUET-J3",
        "INT-UNODC",
    ]


async def test_demo_platform_tells_the_verified_emergency_from_the_forged_one(
    workdir: Path, second: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    query = """{ cooperationRequests(first: 20, filter: {direction: INCOMING}) { edges { node {
      priority status verification { action status reason
        signatures { role status agency { code } key { algorithm } } } } } } }"""
    async with demo_api() as http:
        response = await http.post(
            "/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {second.tokens['AE-RELAYGRAM']}"},
        )
    nodes = [edge["node"] for edge in response.json()["data"]["cooperationRequests"]["edges"]]
    emergencies = [node for node in nodes if node["priority"] == "EMERGENCY"]
    verdicts = sorted(
        (node["status"], [(step["action"], step["status"]) for step in node["verification"]])
        for node in emergencies
    )
    assert verdicts == [
        # Approved by a supervisor (both signatures shown), then answered by the platform.
        (
            "PARTIALLY_FULFILLED",
            [("APPROVE", "VERIFIED"), ("ACCEPT", "VERIFIED"), ("FULFIL", "VERIFIED")],
        ),
        # Signed as ROUTINE; the EMERGENCY the platform is shown was never signed.
        ("SUBMITTED", [("SUBMIT", "INVALID")]),
    ]
    forged = next(node for node in emergencies if node["status"] == "SUBMITTED")
    assert forged["verification"][0]["reason"] == "statement:priority"
    approved = next(node for node in emergencies if node["status"] != "SUBMITTED")
    approval = approved["verification"][0]
    assert [(item["role"], item["agency"]["code"]) for item in approval["signatures"]] == [
        ("SIGNER", "MY-PDRM"),
        ("COUNTERSIGNER", "MY-PDRM"),
    ]
    # The platform signs with its post-quantum (hybrid) key.
    fulfil = approved["verification"][-1]["signatures"][0]
    assert fulfil["key"]["algorithm"] == "ED25519_ML_DSA_65"
