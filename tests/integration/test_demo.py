"""`casehub demo --no-serve`: the real console script in an empty directory, run twice."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from casehub.app import create_app
from casehub.config import Settings

CASEHUB = Path(sys.executable).parent / "casehub"
CODES = ("MY-PDRM", "MY-MCMC", "FR-PARQUET-J3", "INT-UNODC", "AE-RELAYGRAM")
CASES_QUERY = (
    "{ cases(first: 50) { totalCount edges { node { reference viewerAccess owner { code } } } } }"
)


@dataclass
class DemoRun:
    """One `casehub demo --no-serve` and the tokens it printed."""

    result: subprocess.CompletedProcess[str]
    tokens: dict[str, str]


def run_demo(cwd: Path) -> DemoRun:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
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
    assert len(curls) == 3, first.result.stdout
    assert all(first.tokens["MY-PDRM"] in line for line in curls)


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
    settings = Settings(
        database_url="sqlite+aiosqlite:///.casehub/casehub.db",
        keyring=Path(".casehub/keyring.json"),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
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
    assert "CCID/KL/2026/0412" not in relaygram
    assert "NCID/JB/2026/0077" not in relaygram
    assert all(owner == "AE-RELAYGRAM" for access, owner in relaygram.values() if access == "OWNER")
