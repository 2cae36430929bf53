"""Concurrent writers and a sequencer integrating while they write keep one audit log: 8 engines
on one PostgreSQL database, 4 on one SQLite file, and 2 processes on either. At the end every
committed entry is in the tree exactly once and the log verifies."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path

import pytest

from casehub.services.audit import log
from tests.audit_support import (
    Databases,
    entries,
    heads,
    integrate_all_settled,
    leaves,
    pending,
    runtime_for,
    verify,
    write_events,
)
from tests.postgres import require_postgres

REPO = Path(__file__).resolve().parents[2]
EVENTS = 24  # per writer: 8 of each kind
# How long the sequencer goes on after the writers are done, if it has integrated nothing yet
# (a transaction elsewhere on the PostgreSQL server can hold the horizon back for a while).
GRACE_SECONDS = 20.0


class Sequencer:
    """`log.integrate` in a loop on an engine of its own, as `casehub serve` runs it, until
    the writers are done and it has integrated something."""

    def __init__(self, url: str, keyring: Path) -> None:
        self.runtime = runtime_for(url, keyring)
        self.writing = True
        self.rounds: list[log.Integration] = []

    @property
    def integrated(self) -> int:
        """Entries integrated so far."""
        return sum(round_.integrated for round_ in self.rounds)

    async def run(self) -> None:
        """Integrate small batches until told to stop."""
        loop = asyncio.get_running_loop()
        deadline = None
        try:
            while self.writing or not self.integrated:
                if not self.writing:
                    deadline = deadline or loop.time() + GRACE_SECONDS
                    assert loop.time() < deadline, "the sequencer never integrated anything"
                self.rounds.append(await log.integrate(self.runtime, batch=16))
                await asyncio.sleep(0.01)
        finally:
            await self.runtime.database.dispose()

    async def alongside(self, *writers: Awaitable[object]) -> None:
        """Run while the writers run."""
        sequencer = asyncio.ensure_future(self.run())
        try:
            await asyncio.gather(*writers)
        except BaseException:
            sequencer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sequencer
            raise
        self.writing = False
        await sequencer


async def _every_entry_once(url: str, keyring: Path, expected: int) -> None:
    """Integrate what is left; then the log verifies and holds each committed entry once."""
    runtime = runtime_for(url, keyring)
    try:
        finished = await integrate_all_settled(runtime)
        verdict = await verify(runtime, batch=50)
        rows = await entries(runtime)
        placed = await leaves(runtime)
        signed = await heads(runtime)
        left = await pending(runtime)
    finally:
        await runtime.database.dispose()
    assert finished.leader
    assert verdict.intact, verdict
    assert len(rows) == expected
    assert left == 0
    assert (verdict.size, finished.size, signed[-1].size) == (expected, expected, expected)
    assert [row.leaf_index for row in placed] == list(range(expected))
    assert sorted(row.seq or 0 for row in placed) == sorted(row.seq or 0 for row in rows)
    each = expected // 3
    assert Counter(row.action for row in rows) == {
        "auth.fail": each,
        "test.write": each,
        "field.decrypt": each,
    }


async def _engines_write(url: str, keyring: Path, writers: int) -> None:
    runtimes = [runtime_for(url, keyring) for _ in range(writers)]
    sequencer = Sequencer(url, keyring)
    try:
        await sequencer.alongside(
            *(
                write_events(runtime, f"w{number}", EVENTS)
                for number, runtime in enumerate(runtimes)
            )
        )
    finally:
        await asyncio.gather(*(runtime.database.dispose() for runtime in runtimes))
    assert sequencer.integrated > 0
    await _every_entry_once(url, keyring, writers * EVENTS)


async def _processes_write(url: str, keyring: Path, processes: int) -> None:
    # Separate processes, as two `casehub serve` on one database would be.
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from tests.audit_support import write_events_in_process as write; "
            "write(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))",
            url,
            str(keyring),
            f"p{number}",
            str(EVENTS),
            cwd=REPO,
        )
        for number in range(processes)
    ]
    sequencer = Sequencer(url, keyring)
    await sequencer.alongside(*(writer.wait() for writer in writers))
    assert [writer.returncode for writer in writers] == [0] * processes
    assert sequencer.integrated > 0
    await _every_entry_once(url, keyring, processes * EVENTS)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    if request.param == "postgres":
        require_postgres("the concurrent-writers test")
    made = Databases(request.param, tmp_path)
    yield made
    made.close()


@pytest.fixture
def postgres_databases(tmp_path: Path) -> Iterator[Databases]:
    require_postgres("the concurrent-writers test")
    made = Databases("postgres", tmp_path)
    yield made
    made.close()


@pytest.mark.postgres
async def test_eight_engines_on_postgres_and_a_sequencer_keep_one_log(
    postgres_databases: Databases, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(postgres_databases.new)
    await _engines_write(url, keyring_path, 8)


async def test_engines_on_one_sqlite_file_and_a_sequencer_keep_one_log(
    tmp_path: Path, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(Databases("sqlite", tmp_path).new)
    await _engines_write(url, keyring_path, 4)


async def test_two_processes_and_a_sequencer_keep_one_log(
    databases: Databases, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(databases.new)
    await _processes_write(url, keyring_path, 2)
