"""The real `casehub` console script, run as a subprocess against throw-away databases."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from casehub.app import build_runtime, create_app
from casehub.config import Settings
from casehub.crypto import hash_token
from casehub.domain.enums import Role
from casehub.services.agencies import auth
from casehub.services.audit import log
from casehub.services.runtime import open_scope
from tests.support import register

CASEHUB = Path(sys.executable).parent / "casehub"
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30


@dataclass
class Home:
    """A directory with the database and keyring one CLI invocation uses."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "casehub.db"

    @property
    def keyring(self) -> Path:
        return self.root / "keyring.json"

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.db}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CASEHUB_DATABASE_URL"] = self.url
        env["CASEHUB_KEYRING"] = str(self.keyring)
        return env

    def settings(self) -> Settings:
        return Settings(database_url=self.url, keyring=self.keyring)

    def run(self, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run `casehub ARGS` with this home; never raises on a non-zero exit."""
        return subprocess.run(
            [str(CASEHUB), *args],
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> str:
        """Run and insist on exit 0; returns stdout."""
        result = self.run(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included) through the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def run_all(*calls: tuple[Home, tuple[str, ...]]) -> list[subprocess.CompletedProcess[str]]:
    """Run independent CLI invocations side by side (each pays the interpreter start-up)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(home.run, *args) for home, args in calls]
        return [future.result() for future in futures]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A keyring and a database migrated by `casehub db upgrade`, copied by each test."""
    home = Home(tmp_path_factory.mktemp("template"))
    keys, upgrade = run_all((home, ("keys", "init")), (home, ("db", "upgrade")))
    assert keys.returncode == 0, keys.stderr
    assert upgrade.returncode == 0, upgrade.stderr
    assert home.db.exists()
    return home


def clone(source: Home, target: Path) -> Home:
    """A copy of a home's database and keyring (mode kept) in another directory."""
    target.mkdir(parents=True, exist_ok=True)
    copy_sqlite(source.db, target / "casehub.db")
    shutil.copy2(source.keyring, target / "keyring.json")
    return Home(target)


@pytest.fixture(scope="module")
async def seeded(template: Home, tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The migrated database with MY-PDRM and FR-PARQUET-J3 and a token: three audit events."""
    home = clone(template, tmp_path_factory.mktemp("seeded"))
    runtime = build_runtime(home.settings())
    try:
        async with open_scope(runtime) as scope:
            for code in ("MY-PDRM", "FR-PARQUET-J3"):
                await register(scope, code)
            await auth.issue_token(scope, agency_code="MY-PDRM", roles=[Role.READER])
    finally:
        await runtime.database.dispose()
    return home


@pytest.fixture
def home(template: Home, tmp_path: Path) -> Home:
    """This test's own copy of the freshly migrated database and of the keyring."""
    return clone(template, tmp_path)


@pytest.fixture
def agency_home(seeded: Home, tmp_path: Path) -> Home:
    """This test's own copy of the seeded database (MY-PDRM exists)."""
    return clone(seeded, tmp_path)


# keys


def test_keys_init_creates_private_keyring_once(tmp_path: Path) -> None:
    home = Home(tmp_path)
    first = home.run("keys", "init")
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(home.keyring.stat().st_mode) == 0o600
    body = home.keyring.read_bytes()
    assert body

    second = home.run("keys", "init")
    assert second.returncode == 0, second.stderr
    assert home.keyring.read_bytes() == body
    assert stat.S_IMODE(home.keyring.stat().st_mode) == 0o600


# database files


def _upgrade(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CASEHUB), "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )


def test_db_check_waits_until_the_database_is_migrated(template: Home, tmp_path: Path) -> None:
    """What the Kubernetes init container runs: it fails on an unmigrated database, and with
    --wait it succeeds once the migration (the Job, elsewhere) has run."""
    home = Home(tmp_path)
    shutil.copy2(template.keyring, home.keyring)
    refused = home.run("db", "check")
    assert refused.returncode == 1
    assert "not migrated" in refused.stderr
    waiting = subprocess.Popen(
        [str(CASEHUB), "db", "check", "--wait", str(TIMEOUT)],
        env=home.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        home.ok("db", "upgrade")
        _, stderr = waiting.communicate(timeout=TIMEOUT)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, stderr
    assert home.run("db", "check").returncode == 0


async def test_database_files_are_private_to_the_user(tmp_path: Path) -> None:
    """The SQLite database and its -wal and -shm files hold case titles and references: no
    other local user may read them. (casehub creates the file, never its directory:
    tests/integration/test_cli_errors.py.)"""
    keys = Home(tmp_path)
    keys.ok("keys", "init")
    data = tmp_path / "data"
    data.mkdir()
    home = Home(data)
    env = {**keys.env(), "CASEHUB_DATABASE_URL": home.url}
    old_umask = os.umask(0o022)  # the usual umask, which made them 0644
    try:
        upgraded = await asyncio.to_thread(_upgrade, env)
        assert upgraded.returncode == 0, upgraded.stderr
        assert stat.S_IMODE(home.db.stat().st_mode) == 0o600

        # A running server writes through the same code: while it is open, the WAL and SHM.
        runtime = build_runtime(Settings(database_url=home.url, keyring=keys.keyring))
        try:
            async with open_scope(runtime) as scope:
                await register(scope, "MY-PDRM")
            sides = [data / "casehub.db-wal", data / "casehub.db-shm"]
            assert all(side.exists() for side in sides)
            assert [stat.S_IMODE(side.stat().st_mode) for side in sides] == [0o600, 0o600]
        finally:
            await runtime.database.dispose()

        # The file of an older install, created 0644, is tightened when casehub opens it.
        home.db.chmod(0o644)
        again = await asyncio.to_thread(_upgrade, env)
        assert again.returncode == 0, again.stderr
        assert stat.S_IMODE(home.db.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)


# agencies


def test_agency_add_prints_only_the_global_id(home: Home) -> None:
    result = home.run(
        "agency",
        "add",
        "--code",
        "MY-PDRM",
        "--name",
        "Royal Malaysia Police",
        "--jurisdiction",
        "MY",
        "--kind",
        "LAW_ENFORCEMENT",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    global_id = lines[0]
    assert result.stdout == global_id + "\n"
    assert re.fullmatch(r"[A-Za-z0-9_-]+", global_id), global_id
    decoded = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("ascii")
    type_name, _, raw_uuid = decoded.partition(":")
    assert type_name == "Agency"
    assert str(UUID(raw_uuid)) == raw_uuid


def agency_add(code: str, jurisdiction: str) -> tuple[str, ...]:
    return (
        "agency",
        "add",
        "--code",
        code,
        "--name",
        "Royal Malaysia Police",
        "--jurisdiction",
        jurisdiction,
        "--kind",
        "LAW_ENFORCEMENT",
    )


def test_agency_add_rejects_bad_jurisdiction_and_duplicate_code(agency_home: Home) -> None:
    invalid, duplicate = run_all(
        (agency_home, agency_add("XX-NOWHERE", "XX")),
        (agency_home, agency_add("MY-PDRM", "MY")),  # MY-PDRM exists in the seeded database
    )
    assert invalid.returncode != 0
    assert invalid.stdout == ""
    assert "jurisdiction" in invalid.stderr.lower(), invalid.stderr

    assert duplicate.returncode != 0
    assert duplicate.stdout == ""
    assert duplicate.stderr.strip(), "the refusal says why on stderr"


# tokens


async def viewer_status(http: httpx.AsyncClient, token: str) -> int:
    """The HTTP status of `{ viewer { name } }` with this token."""
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code == 200:
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["viewer"]["name"]
    return response.status_code


async def test_token_issue_and_revoke(agency_home: Home) -> None:
    home = agency_home
    issued = await asyncio.to_thread(
        home.run,
        "token",
        "issue",
        "--agency",
        "MY-PDRM",
        "--role",
        "INVESTIGATOR",
        "--role",
        "READER",
        "--expires",
        "90d",
    )
    assert issued.returncode == 0, issued.stderr
    lines = issued.stdout.splitlines()
    assert len(lines) == 1, issued.stdout
    token = lines[0]
    assert issued.stdout == token + "\n"
    assert token.startswith("chb_")
    assert " " not in token

    # One app across the revocation, as a running server would be.
    app = create_app(home.settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            assert await viewer_status(http, token) == 200

            revoked = await asyncio.to_thread(home.run, "token", "revoke", token)
            assert revoked.returncode == 0, revoked.stderr
            assert token not in revoked.stdout + revoked.stderr, "the secret is not echoed"

            assert await viewer_status(http, token) == 401


def test_token_issue_refuses_unknown_agency_and_bad_lifetime(agency_home: Home) -> None:
    issue = ("token", "issue", "--role", "READER", "--agency")
    unknown, bad = run_all(
        (agency_home, (*issue, "NO-SUCH")),
        (agency_home, (*issue, "MY-PDRM", "--expires", "10x")),
    )
    assert unknown.returncode != 0
    assert unknown.stdout == ""
    assert unknown.stderr.strip()

    assert bad.returncode != 0
    assert "chb_" not in bad.stdout + bad.stderr


async def test_token_issue_always_sets_an_expiry(agency_home: Home) -> None:
    """`--expires 0d` used to issue a token that never expires, as did leaving it out: now a
    zero or too long lifetime is refused with a clear error and no token, and the default
    lifetime applies when none is given."""
    issue = ("token", "issue", "--role", "READER", "--agency", "MY-PDRM")
    zero, too_long, default = await asyncio.to_thread(
        run_all,
        (agency_home, (*issue, "--expires", "0d")),
        (agency_home, (*issue, "--expires", "366d")),
        (agency_home, issue),
    )
    assert zero.returncode != 0
    assert "chb_" not in zero.stdout + zero.stderr
    assert "longer than zero" in zero.stderr, zero.stderr
    assert too_long.returncode != 0
    assert "chb_" not in too_long.stdout + too_long.stderr
    assert "at most 365 days" in too_long.stderr, too_long.stderr
    assert default.returncode == 0, default.stderr

    with sqlite3.connect(agency_home.db) as db:
        tokens = db.execute("SELECT token_hash, expires_at FROM api_token").fetchall()
    db.close()
    # The seeded token and the default one: the refused ones wrote nothing.
    assert len(tokens) == 2
    expiry = dict(tokens)[hash_token(default.stdout.strip())]
    assert expiry is not None
    lifetime = datetime.fromisoformat(expiry).replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(days=89) < lifetime <= timedelta(days=90)


# serve


def test_serve_refuses_unmigrated_database(template: Home, tmp_path: Path) -> None:
    home = Home(tmp_path)
    shutil.copy2(template.keyring, home.keyring)  # the state `casehub keys init` leaves
    started = time.monotonic()
    result = home.run("serve", "--port", str(free_port()), timeout=30)
    assert result.returncode != 0
    assert time.monotonic() - started < 20
    assert "casehub db upgrade" in result.stderr, result.stderr


def test_serve_refuses_world_readable_keyring(home: Home) -> None:
    home.keyring.chmod(0o644)
    result = home.run("serve", "--port", str(free_port()), timeout=30)
    assert result.returncode != 0
    assert "chmod" in result.stderr, result.stderr


@pytest.fixture
def server(home: Home) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`casehub serve` running in the background on a free port."""
    port = free_port()
    log = (home.root / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(CASEHUB), "serve", "--port", str(port)],
        env=home.env(),
        cwd=home.root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def test_serve_answers_health_checks(
    home: Home, server: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, base = server
    deadline = time.monotonic() + 20
    healthy = False
    while time.monotonic() < deadline:
        assert process.poll() is None, (home.root / "serve.log").read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                healthy = True
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    assert healthy, (home.root / "serve.log").read_text()

    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text

    process.terminate()
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit status -15).
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (home.root / "serve.log").read_text()


def wait_healthy(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Wait until a `casehub serve` answers /healthz; fail with its log if it dies or hangs."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(log.read_text())


@contextmanager
def serving(home: Home, **env: str) -> Iterator[str]:
    """`casehub serve` on loopback with extra environment, once /healthz answers."""
    port = free_port()
    log_path = home.root / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CASEHUB), "serve", "--port", str(port)],
            env={**home.env(), **env},
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


def _failed_logins(base: str, forwarded_for: list[str]) -> list[int]:
    """The status of one failed authentication per X-Forwarded-For address, in turn."""
    return [
        httpx.post(
            f"{base}/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": "Bearer chb_wrong", "X-Forwarded-For": address},
            timeout=5,
        ).status_code
        for address in forwarded_for
    ]


def test_only_named_proxies_pick_the_failed_login_bucket(home: Home) -> None:
    """uvicorn believed X-Forwarded-For from 127.0.0.1 by default, so a client on loopback
    chose the address its failed authentications counted against. One failure allowed per
    address: by default both count against the peer (the second is refused 429); when the
    setting names the proxy, each forwarded address has its own bucket."""
    limits = {"CASEHUB_AUTH_FAILURE_BURST": "1", "CASEHUB_AUTH_FAILURES_PER_MINUTE": "0.01"}
    addresses = ["203.0.113.7", "203.0.113.8"]
    with serving(home, **limits) as base:
        assert _failed_logins(base, addresses) == [401, 429]
    with serving(home, **limits, CASEHUB_FORWARDED_ALLOW_IPS="127.0.0.1") as base:
        assert _failed_logins(base, addresses) == [401, 401]


# schema


def test_schema_export_matches_committed_sdl(home: Home) -> None:
    exported = home.ok("schema", "export")
    committed = (REPO / "schema.graphql").read_text(encoding="utf-8")
    assert exported == committed


# audit


def _audit_sql(home: Home, *statements: str) -> None:
    """Statements straight to a home's database, as an intruder with file access would."""
    with sqlite3.connect(home.db) as db:
        for statement in statements:
            db.execute(statement)
    db.close()


def _audit_entries(home: Home) -> int:
    with sqlite3.connect(home.db) as db:
        (entries,) = db.execute("SELECT count(*) FROM audit_event").fetchone()
    db.close()
    return int(entries)


def test_audit_verify_detects_tampering_and_deletion(agency_home: Home) -> None:
    home = agency_home
    entries = _audit_entries(home)
    assert entries >= 3
    before = clone(home, home.root / "before")
    waiting, integrated = run_all((before, ("audit", "verify")), (home, ("audit", "integrate")))
    assert waiting.returncode == 0, waiting.stderr
    assert waiting.stdout.strip() == (
        f"audit log intact: 0 entries, 0 signed tree heads (newest covers 0), "
        f"{entries} not yet integrated"
    )
    assert integrated.returncode == 0, integrated.stderr
    assert integrated.stdout.strip() == f"integrated {entries} entries; tree size {entries}"

    untouched = clone(home, home.root / "untouched")
    deleted = clone(home, home.root / "deleted")
    _audit_sql(home, "UPDATE audit_event SET action = 'x' WHERE seq = 2")
    _audit_sql(deleted, "DELETE FROM audit_event WHERE seq = 2")
    intact, tampered, gap, as_json = run_all(
        (untouched, ("audit", "verify")),
        (home, ("audit", "verify")),
        (deleted, ("audit", "verify")),
        (home, ("audit", "verify", "--json")),
    )
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == (
        f"audit log intact: {entries} entries, 1 signed tree heads (newest covers {entries}), "
        "0 not yet integrated"
    )
    edited = "entry 2 (leaf 1) was edited after it was logged"
    assert (tampered.returncode, tampered.stdout) == (1, ""), tampered.stdout
    assert tampered.stderr.strip() == f"error: audit log broken: {edited}"
    assert (gap.returncode, gap.stdout) == (1, ""), gap.stdout
    assert gap.stderr.strip() == (
        "error: audit log broken: leaf 1 is missing (the entry was deleted, or leaf indexes "
        "rewritten)"
    )
    assert as_json.returncode == 1, as_json.stderr
    assert json.loads(as_json.stdout) == {
        "intact": False,
        "entries": 1,
        "signedSize": entries,
        "treeHeads": 1,
        "pending": 0,
        "problem": edited,
        "leaf": 1,
        "seq": 2,
    }


async def test_audit_head_is_kept_and_verify_checks_the_log_against_it(
    agency_home: Home,
) -> None:
    home = agency_home
    entries = _audit_entries(home)
    before = clone(home, home.root / "before")
    runtime = build_runtime(home.settings())
    try:
        await log.integrate_all(runtime)
    finally:
        await runtime.database.dispose()
    none_yet, printed = run_all((before, ("audit", "head")), (home, ("audit", "head")))
    assert none_yet.returncode == 1, none_yet.stdout
    assert none_yet.stderr.strip() == (
        "error: no signed tree head yet: run `casehub audit integrate` first"
    )
    assert printed.returncode == 0, printed.stderr
    head = json.loads(printed.stdout)
    assert sorted(head) == ["keyId", "rootHash", "signature", "timestamp", "treeSize"]
    assert head["treeSize"] == entries
    # Cut off the last entry, its tree nodes and every tree head: a shorter, valid-looking log.
    size = entries - 1
    intact = clone(home, home.root / "intact")
    for where in (home, intact):
        # Relative paths (the CLI runs in the home): short enough not to be wrapped in errors.
        (where.root / "kept.json").write_text(printed.stdout, encoding="utf-8")
    beyond = " OR ".join(f"(level = {level} AND idx >= {size >> level})" for level in range(8))
    _audit_sql(
        home,
        f"DELETE FROM audit_event WHERE leaf_index >= {size}",
        f"DELETE FROM audit_node WHERE {beyond}",
        "DELETE FROM audit_tree_head",
    )
    (home.root / "bad.json").write_text(json.dumps({"treeSize": entries}), encoding="utf-8")
    held, alone, truncated, bad = run_all(
        (intact, ("audit", "verify", "--head", "kept.json")),
        (home, ("audit", "verify")),
        (home, ("audit", "verify", "--head", "kept.json")),
        (home, ("audit", "verify", "--head", "bad.json")),
    )
    assert held.returncode == 0, held.stderr
    assert f"audit log intact: {entries} entries" in held.stdout
    # What the database alone cannot show: the shorter log is a valid log.
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.strip() == (
        f"audit log intact: {size} entries, 0 signed tree heads (newest covers 0), "
        "0 not yet integrated"
    )
    assert (truncated.returncode, truncated.stdout) == (1, ""), truncated.stdout
    assert truncated.stderr.strip() == (
        f"error: audit log broken: the tree head you hold has size {entries} but the log ends "
        f"at {size}: entries were deleted from its end"
    )
    assert bad.returncode == 2, bad.stderr
    unboxed = " ".join(line.strip("│ ") for line in bad.stderr.splitlines())
    assert "--head: bad.json: a tree head lacks rootHash, timestamp, keyId, signature" in unboxed
