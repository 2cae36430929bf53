"""Key rotation without downtime: rotate, activate, rewrap and retire, in-process and through
the real `casehub` console script, with a server answering reads during a rewrap."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from casehub.app import build_runtime, create_app
from casehub.config import Settings
from casehub.crypto import LocalKeyring, activate_version, create_keyring, rotate_keyring
from casehub.domain.enums import Role
from casehub.domain.errors import Conflict
from casehub.persistence import migrate
from casehub.services.agencies import auth
from casehub.services.keys import lifecycle as key_lifecycle
from casehub.services.runtime import open_scope
from tests.integration.test_cli import CASEHUB, free_port, wait_healthy
from tests.postgres import fresh_postgres, require_postgres
from tests.support import register

TIMEOUT = 30
SUMMARY = "Wallet drained through a fake exchange"
OPEN = (
    "mutation($input: OpenCaseInput!) { openCase(input: $input) "
    "{ case { id summary } errors { code message } } }"
)
READ = "query($id: ID!) { node(id: $id) { ... on Case { id summary } } }"


@dataclass
class KeyHome:
    """A keyring, a migrated database of its own, one agency and an INVESTIGATOR token."""

    root: Path
    url: str
    token: str = ""

    @property
    def keyring(self) -> Path:
        return self.root / "keyring.json"

    def settings(self) -> Settings:
        return Settings(database_url=self.url, keyring=self.keyring)

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
        env["CASEHUB_DATABASE_URL"] = self.url
        env["CASEHUB_KEYRING"] = str(self.keyring)
        # The client loops here measure availability, not the per-token rate limit.
        env["CASEHUB_RATE_LIMIT_PER_SECOND"] = "10000"
        env["CASEHUB_RATE_LIMIT_BURST"] = "10000"
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `casehub ARGS` against this home; never raises on a non-zero exit."""
        return subprocess.run(
            [str(CASEHUB), *args],
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """An in-process server, started now: it loads the keyring as it is at this moment."""
        app = create_app(self.settings())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://casehub.test",
                headers={"Authorization": f"Bearer {self.token}"},
            ) as http:
                yield http


async def make_home(root: Path, url: str | None = None) -> KeyHome:
    home = KeyHome(root, url or f"sqlite+aiosqlite:///{root / 'casehub.db'}")
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(create_keyring, home.keyring)
    await asyncio.to_thread(migrate.upgrade, home.url)
    runtime = build_runtime(home.settings())
    try:
        async with open_scope(runtime) as scope:
            await register(scope, "MY-PDRM")
            _, home.token = await auth.issue_token(
                scope, agency_code="MY-PDRM", roles=[Role.INVESTIGATOR, Role.READER]
            )
    finally:
        await runtime.database.dispose()
    return home


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def home(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyHome]:
    """A home on SQLite or on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield await make_home(tmp_path / "home")
        return
    require_postgres("key rotation on PostgreSQL")
    with fresh_postgres("casehub_keys") as url:
        yield await make_home(tmp_path / "home", url)


async def open_case(http: httpx.AsyncClient, reference: str) -> str:
    data = {"reference": reference, "title": "T", "summary": SUMMARY, "category": "FRAUD"}
    response = await http.post("/graphql", json={"query": OPEN, "variables": {"input": data}})
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["openCase"]
    assert payload["errors"] == [], payload
    case_id: str = payload["case"]["id"]
    return case_id


async def summary_of(http: httpx.AsyncClient, case_id: str) -> Any:
    response = await http.post("/graphql", json={"query": READ, "variables": {"id": case_id}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["node"]["summary"]


async def status(home: KeyHome) -> dict[int, tuple[bool, bool, int]]:
    runtime = build_runtime(home.settings())
    try:
        rows = await key_lifecycle.key_status(runtime)
    finally:
        await runtime.database.dispose()
    return {row.version: (row.active, row.pending, row.wraps) for row in rows}


async def rewrap(home: KeyHome, batch_size: int = 500, progress: Any = None) -> int:
    runtime = build_runtime(home.settings())
    try:
        result = await key_lifecycle.rewrap(runtime, batch_size=batch_size, progress=progress)
    finally:
        await runtime.database.dispose()
    assert result.skipped == 0
    return result.rewrapped


async def retire(home: KeyHome, version: int) -> None:
    runtime = build_runtime(home.settings())
    try:
        await key_lifecycle.retire(runtime, version)
    finally:
        await runtime.database.dispose()


async def test_data_written_under_v1_reads_through_the_whole_rotation(home: KeyHome) -> None:
    async with home.client() as http:
        old = await open_case(http, "R-1")
    assert await status(home) == {1: (True, False, 1)}

    assert rotate_keyring(home.keyring) == 2
    async with home.client() as http:  # restarted with v2 decrypt-only
        assert await summary_of(http, old) == SUMMARY
        still_v1 = await open_case(http, "R-2")
    assert await status(home) == {1: (True, False, 2), 2: (False, True, 0)}

    activate_version(home.keyring)
    async with home.client() as http:  # restarted with v2 active
        assert await summary_of(http, old) == SUMMARY
        new = await open_case(http, "R-3")
    assert await status(home) == {1: (False, False, 2), 2: (True, False, 1)}

    with pytest.raises(Conflict, match="still holds 2 data-key wrap"):
        await retire(home, 1)
    with pytest.raises(Conflict, match="active"):
        await retire(home, 2)

    assert await rewrap(home) == 2
    assert await status(home) == {1: (False, False, 0), 2: (True, False, 3)}
    assert await rewrap(home) == 0, "nothing left to do"

    await retire(home, 1)
    assert LocalKeyring.load(home.keyring).versions == [2]
    async with home.client() as http:  # restarted without v1
        for case_id in (old, still_v1, new):
            assert await summary_of(http, case_id) == SUMMARY
    assert await key_events(home) == [
        ("keys.rewrap", {"version": 2, "rewrapped": 2, "skipped": 0}),
        ("keys.rewrap", {"version": 2, "rewrapped": 0, "skipped": 0}),
        ("keys.retire", {"version": 1}),
    ]


async def key_events(home: KeyHome) -> list[tuple[str, dict[str, Any]]]:
    """The key commands recorded in the audit chain, oldest first."""
    runtime = build_runtime(home.settings())
    try:
        async with runtime.database.engine.connect() as connection:
            statement = "SELECT action, details FROM audit_event WHERE action LIKE 'keys.%'"
            rows = await connection.execute(text(statement + " ORDER BY seq"))
            return [(action, json.loads(details)) for action, details in rows]
    finally:
        await runtime.database.dispose()


async def test_rewrap_is_resumable_after_an_interruption(home: KeyHome) -> None:
    async with home.client() as http:
        cases = [await open_case(http, f"R-{n}") for n in range(7)]
    rotate_keyring(home.keyring)
    activate_version(home.keyring)
    calls: list[tuple[int, int]] = []

    def crash_after_first_batch(done: int, total: int) -> None:
        calls.append((done, total))
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rewrap(home, batch_size=3, progress=crash_after_first_batch)
    assert calls == [(0, 7), (3, 7)]
    assert await status(home) == {1: (False, False, 4), 2: (True, False, 3)}
    async with home.client() as http:  # every wrap valid, under either version
        for case_id in cases:
            assert await summary_of(http, case_id) == SUMMARY

    seen: list[tuple[int, int]] = []
    assert await rewrap(home, batch_size=3, progress=lambda d, t: seen.append((d, t))) == 4
    assert seen == [(0, 4), (3, 4), (4, 4)]
    assert await status(home) == {1: (False, False, 0), 2: (True, False, 7)}


async def test_cli_rotate_status_rewrap_retire(home: KeyHome) -> None:
    async with home.client() as http:
        await open_case(http, "R-1")

    rotated = await asyncio.to_thread(home.run, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() == "2"
    assert "Restart" in rotated.stderr
    again = await asyncio.to_thread(home.run, "keys", "rotate")
    assert again.returncode != 0
    assert "already pending" in again.stderr

    shown = await asyncio.to_thread(home.run, "keys", "status")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1:] == ["1\tactive\t1", "2\tpending\t0"]

    activated = await asyncio.to_thread(home.run, "keys", "rotate", "--activate")
    assert activated.returncode == 0, activated.stderr

    refused = await asyncio.to_thread(home.run, "keys", "retire", "1")
    assert refused.returncode != 0
    assert "still holds 1 data-key wrap" in refused.stderr
    assert "casehub keys rewrap" in refused.stderr

    rewrapped = await asyncio.to_thread(home.run, "keys", "rewrap", "--batch-size", "5")
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert "rewrapped 1 wrap(s)" in rewrapped.stderr

    shown = await asyncio.to_thread(home.run, "keys", "status")
    assert shown.stdout.splitlines()[1:] == ["1\tdecrypt-only\t0", "2\tactive\t1"]

    retired = await asyncio.to_thread(home.run, "keys", "retire", "1")
    assert retired.returncode == 0, retired.stderr
    shown = await asyncio.to_thread(home.run, "keys", "status")
    assert shown.stdout.splitlines()[1:] == ["2\tactive\t1"]


@pytest.fixture
async def rotated_home(home: KeyHome) -> KeyHome:
    """30 cases written under v1, then v2 rotated in and activated (no rewrap yet)."""
    async with home.client() as http:
        for n in range(30):
            await open_case(http, f"R-{n}")
    rotate_keyring(home.keyring)
    activate_version(home.keyring)
    return home


@pytest.fixture
def served(rotated_home: KeyHome) -> Iterator[str]:
    """`casehub serve` on a free port, started with the rotated keyring (knows v1 and v2)."""
    home = rotated_home
    port = free_port()
    log_path = home.root / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CASEHUB), "serve", "--port", str(port)],
            env=home.env(),
            cwd=home.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(process, base, log_path)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_server_answers_every_read_during_a_rewrap(
    rotated_home: KeyHome, served: str
) -> None:
    home = rotated_home
    async with home.client() as http:
        cases = await _case_ids(http)
    assert len(cases) == 30
    statuses, rewrapped = await _reads_during_rewrap(home, served, cases)
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert "rewrapped 30 wrap(s)" in rewrapped.stderr
    assert len(statuses) >= 20
    failed = [item for item in statuses if item != (200, SUMMARY)]
    assert failed == [], failed[:5]
    assert await status(home) == {1: (False, False, 0), 2: (True, False, 30)}


async def _case_ids(http: httpx.AsyncClient) -> list[str]:
    response = await http.post(
        "/graphql", json={"query": "{ cases(first: 100) { edges { node { id } } } }"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["id"] for edge in body["data"]["cases"]["edges"]]


async def _reads_during_rewrap(
    home: KeyHome, base: str, cases: list[str]
) -> tuple[list[tuple[int, Any]], subprocess.CompletedProcess[str]]:
    statuses: list[tuple[int, Any]] = []
    rewrap_task = asyncio.create_task(
        asyncio.to_thread(home.run, "keys", "rewrap", "--batch-size", "5")
    )
    headers = {"Authorization": f"Bearer {home.token}"}
    deadline = time.monotonic() + 3
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        n = 0
        while n < 200 and (time.monotonic() < deadline or not rewrap_task.done()):
            case_id = cases[n % len(cases)]
            response = await http.post(
                "/graphql", json={"query": READ, "variables": {"id": case_id}}
            )
            body = response.json() if response.status_code == 200 else {}
            summary = None
            if "errors" not in body and body.get("data"):
                summary = body["data"]["node"]["summary"]
            statuses.append((response.status_code, summary))
            n += 1
            await asyncio.sleep(0.01)  # spread ~200 reads over the rewrap's few seconds
    return statuses, await rewrap_task
