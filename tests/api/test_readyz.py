"""/readyz answers 503 with every reason not to send traffic here: the database unreachable,
not migrated or behind, a keyring that cannot wrap, sign or match, a key provider that fails,
and on PostgreSQL a LISTEN/NOTIFY listener that lost its connection; 200 once all is well."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from starlette.applications import Starlette

from casehub.app import build_runtime, create_app
from casehub.config import Settings
from casehub.crypto import KeyProvider, LocalKeyring, create_keyring
from casehub.persistence import migrate
from casehub.services.runtime import Runtime
from tests.postgres import fresh_postgres, require_postgres

WAIT = 15.0  # seconds a listener may take to (re)connect
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


@asynccontextmanager
async def calling(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


async def readiness(runtime: Runtime) -> tuple[int, Any]:
    """The status and body of /readyz of an app on this runtime (its lifespan not started)."""
    async with calling(create_app(runtime.settings, runtime=runtime)) as http:
        response = await http.get("/readyz")
    await runtime.database.dispose()
    return response.status_code, response.json()


def unavailable(*problems: str) -> tuple[int, Any]:
    return 503, {"status": "unavailable", "problems": list(problems)}


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    create_keyring(path)
    return path


@pytest.fixture
def migrated(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ready.db'}"
    migrate.upgrade(url)
    return url


async def test_ready_when_all_is_well(migrated: str, keyring: Path) -> None:
    runtime = build_runtime(Settings(database_url=migrated, keyring=keyring))
    assert await readiness(runtime) == (200, {"status": "ready"})


async def test_an_unreachable_database(keyring: Path) -> None:
    runtime = build_runtime(Settings(database_url=UNREACHABLE, keyring=keyring))
    assert await readiness(runtime) == unavailable("the database is unreachable")


async def test_a_database_never_migrated(tmp_path: Path, keyring: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    runtime = build_runtime(Settings(database_url=url, keyring=keyring))
    assert await readiness(runtime) == unavailable(
        "the database is not migrated: run `casehub db upgrade`"
    )


async def test_a_database_behind_the_code(tmp_path: Path, keyring: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrate.upgrade_async(url, "0001")
    runtime = build_runtime(Settings(database_url=url, keyring=keyring))
    assert await readiness(runtime) == unavailable(
        f"the database is at migration 0001, not {migrate.head_revision()}: "
        "run `casehub db upgrade`"
    )


@pytest.fixture
def old_keyring(keyring: Path) -> Path:
    """A keyring as written before receipts, deconfliction and agency signatures existed."""
    data = json.loads(keyring.read_text())
    for name in ("signing", "signing_active", "index", "accreditation", "accreditation_active"):
        del data[name]
    keyring.write_text(json.dumps(data))
    return keyring


async def test_a_keyring_without_signing_index_and_accreditation_keys(
    migrated: str, old_keyring: Path
) -> None:
    runtime = build_runtime(Settings(database_url=migrated, keyring=old_keyring))
    assert await readiness(runtime) == unavailable(
        "The keyring has no receipt-signing key: add one with `casehub keys init`.",
        "The keyring has no index key: add one with `casehub keys init`.",
        "The keyring has no accreditation key: add one with `casehub keys init`.",
    )


class Unreachable(LocalKeyring):
    """A key provider whose backend (a KMS, say) fails with errors of its own."""

    def agency_kek(self, agency_id: UUID, version: int) -> bytes:
        raise ConnectionError("kms.internal:443 refused, credentials AKIA...")

    def receipt_signer(self) -> Any:
        raise ConnectionError("kms.internal:443 refused")

    def match_key(self) -> bytes:
        raise ConnectionError("kms.internal:443 refused")

    def accreditation_signer(self) -> Any:
        raise ConnectionError("kms.internal:443 refused")


async def test_a_failing_key_provider_says_nothing_of_its_errors(
    migrated: str, keyring: Path
) -> None:
    failing: KeyProvider = Unreachable({1: os.urandom(32)}, 1)
    runtime = build_runtime(Settings(database_url=migrated, keyring=keyring), keys=failing)
    assert await readiness(runtime) == unavailable("the key provider cannot derive keys")


async def test_every_reason_at_once(tmp_path: Path, keyring: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    runtime = build_runtime(
        Settings(database_url=url, keyring=keyring), keys=Unreachable({1: os.urandom(32)}, 1)
    )
    assert await readiness(runtime) == unavailable(
        "the database is not migrated: run `casehub db upgrade`",
        "the key provider cannot derive keys",
    )


@pytest.mark.postgres
async def test_a_listener_that_lost_its_connection(keyring: Path) -> None:
    require_postgres("the listener readiness test")
    with fresh_postgres("casehub_ready") as url:
        await migrate.upgrade_async(url)
        settings = Settings(database_url=url, keyring=keyring)
        app = create_app(settings)
        admin_url = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
        name = url.rsplit("/", 1)[1]
        async with app.router.lifespan_context(app), calling(app) as http:
            await until(http, 200, {"status": "ready"})
            async with await psycopg.AsyncConnection.connect(
                f"{admin_url}/postgres", autocommit=True
            ) as admin:
                # No new connection to the database (superusers included), then cut the
                # listeners': they cannot come back until it is allowed again.
                await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
                try:
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name = 'casehub-event-listener'",
                        (name,),
                    )
                    await until(
                        http,
                        *unavailable(
                            "the listener for request events is not connected (LISTEN/NOTIFY)",
                            "the listener for hit notices is not connected (LISTEN/NOTIFY)",
                        ),
                    )
                finally:
                    await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            # The listeners reconnect by themselves, and the process is ready again.
            await until(http, 200, {"status": "ready"})


async def until(http: httpx.AsyncClient, status: int, body: Any) -> None:
    """Wait (bounded) until /readyz answers with this status and body."""
    answer = None
    try:
        async with asyncio.timeout(WAIT):
            while answer != (status, body):
                response = await http.get("/readyz")
                answer = (response.status_code, response.json())
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"/readyz still answers {answer}") from None
