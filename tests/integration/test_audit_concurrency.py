"""Concurrent writers keep one unbroken audit chain: 8 engines on one PostgreSQL database, and
several processes on one SQLite file, each appending through the audit service."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from casehub.services.audit import trail as audit
from casehub.services.runtime import open_scope
from tests.audit_support import Databases, runtime_for, write_events
from tests.postgres import require_postgres

REPO = Path(__file__).resolve().parents[2]
WRITERS = 8
EVENTS = 24  # per writer: 8 of each kind


async def _intact(url: str, keyring: Path, expected: int) -> None:
    runtime = runtime_for(url, keyring)
    try:
        async with open_scope(runtime) as scope:
            verdict = await audit.verify_chain(scope.store, batch=50)
            rows = await scope.store.audit_chain()
    finally:
        await runtime.database.dispose()
    assert verdict.intact, verdict
    assert verdict.checked == expected
    # One chain: every link but the first is the successor of exactly one other.
    assert len({row.prev_hash for row in rows}) == expected
    each = expected // 3
    assert Counter(row.action for row in rows) == {
        "auth.fail": each,
        "test.write": each,
        "field.decrypt": each,
    }


@pytest.fixture
def postgres_databases(tmp_path: Path) -> Iterator[Databases]:
    require_postgres("the concurrent-writers test")
    databases = Databases("postgres", tmp_path)
    yield databases
    databases.close()


@pytest.mark.postgres
async def test_eight_engines_on_postgres_keep_one_chain(
    postgres_databases: Databases, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(postgres_databases.new)
    runtimes = [runtime_for(url, keyring_path) for _ in range(WRITERS)]
    try:
        await asyncio.gather(
            *(
                write_events(runtime, f"w{number}", EVENTS)
                for number, runtime in enumerate(runtimes)
            )
        )
    finally:
        await asyncio.gather(*(runtime.database.dispose() for runtime in runtimes))
    await _intact(url, keyring_path, WRITERS * EVENTS)


async def test_processes_on_one_sqlite_file_keep_one_chain(
    tmp_path: Path, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(Databases("sqlite", tmp_path).new)
    processes = 2
    # Separate processes, as two `casehub serve` on one file would be.
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from tests.audit_support import write_events_in_process as write; "
            "write(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))",
            url,
            str(keyring_path),
            f"p{number}",
            str(EVENTS),
            cwd=REPO,
        )
        for number in range(processes)
    ]
    assert [await writer.wait() for writer in writers] == [0] * processes
    await _intact(url, keyring_path, processes * EVENTS)


async def test_engines_on_one_sqlite_file_keep_one_chain(
    tmp_path: Path, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(Databases("sqlite", tmp_path).new)
    runtimes = [runtime_for(url, keyring_path) for _ in range(4)]
    try:
        await asyncio.gather(
            *(
                write_events(runtime, f"e{number}", EVENTS)
                for number, runtime in enumerate(runtimes)
            )
        )
    finally:
        await asyncio.gather(*(runtime.database.dispose() for runtime in runtimes))
    await _intact(url, keyring_path, 4 * EVENTS)
