"""Throw-away databases for the audit tests and copies of their audit tables to put back; what
the tests read of the log and how they wait for the sequencer's horizon; and the writer the
concurrency tests run in several processes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from casehub.config import Settings
from casehub.crypto import LocalKeyring
from casehub.domain.audit.log import LogVerdict, leaf_data
from casehub.domain.audit.tree_head import TreeHead
from casehub.domain.ids import new_id
from casehub.persistence import Database, migrate
from casehub.persistence.horizon import horizon
from casehub.persistence.tables import AuditEventRow
from casehub.services.audit import log
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime, open_scope
from tests.postgres import fresh_postgres, require_postgres


class Databases:
    """Migrated databases of one engine, until `close`."""

    def __init__(self, engine: str, root: Path) -> None:
        self.engine = engine
        self.root = root
        self.made = ExitStack()  # PostgreSQL databases to drop; SQLite files go with `root`

    def new(self, revision: str = "head") -> str:
        """An empty database migrated to a revision (head unless told)."""
        if self.engine == "postgres":
            url = self.made.enter_context(fresh_postgres("casehub_audit"))
        else:
            url = f"sqlite+aiosqlite:///{self.root / f'casehub_audit_{secrets.token_hex(4)}.db'}"
        migrate.upgrade(url, revision)
        return url

    def close(self) -> None:
        """Drop every PostgreSQL database made here."""
        self.made.close()


def databases_fixture(directory: str, suite: str) -> Any:
    """A module fixture: `Databases` of each engine in turn (PostgreSQL required under CI)."""

    @pytest.fixture(
        scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
    )
    def databases(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Databases]:
        if request.param == "postgres":
            require_postgres(suite)
        made = Databases(request.param, tmp_path_factory.mktemp(directory))
        yield made
        made.close()

    return databases


def runtime_for(url: str, keyring: Path) -> Runtime:
    """A runtime (its own engine and pool) on one database; lighter to import than the app's."""
    settings = Settings(database_url=url, keyring=keyring)
    return Runtime(database=Database(url), keys=LocalKeyring.load(keyring), settings=settings)


async def run_sql(runtime: Runtime, *statements: str, **params: Any) -> None:
    """Statements straight to the database, in one transaction, past every service."""
    async with runtime.database.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), params)


async def run_many(runtime: Runtime, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """One statement once per row of parameters, in one transaction, past every service."""
    if rows:
        async with runtime.database.engine.begin() as connection:
            await connection.execute(text(statement), list(rows))


# The tables tamper tests break, and copies of them to put back before the next test: cheaper
# than a database per test (on PostgreSQL each dropped database costs a checkpoint).
AUDIT_TABLES = ("audit_event", "audit_node", "audit_tree_head")


async def keep_audit_tables(runtime: Runtime) -> None:
    """Copy the audit log's tables as they are now (to `restore_audit_tables` later)."""
    await run_sql(runtime, *(f"CREATE TABLE kept_{t} AS SELECT * FROM {t}" for t in AUDIT_TABLES))


async def restore_audit_tables(runtime: Runtime) -> None:
    """Put the audit log's tables back as `keep_audit_tables` found them."""
    await run_sql(
        runtime,
        *(f"DELETE FROM {t}" for t in AUDIT_TABLES),
        *(f"INSERT INTO {t} SELECT * FROM kept_{t}" for t in AUDIT_TABLES),
    )


# The sequencer

# How long `settled` waits for other transactions on the server to end.
SETTLE_SECONDS = 20.0


async def settled(runtime: Runtime, leaving: int = 0) -> None:
    """Wait until every entry written so far but `leaving` is below the commit-safe horizon,
    so that the next integration takes them.

    On PostgreSQL the horizon is the oldest transaction still writing *anywhere on the server*
    (transaction ids and snapshots span its databases): another test's or another program's
    open transaction holds it back for a while.
    """
    statement = select(func.count()).where(
        col(AuditEventRow.leaf_index).is_(None),
        col(AuditEventRow.txid) >= horizon(runtime.database.engine.dialect.name),
    )
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while True:
        async with runtime.database.engine.connect() as connection:
            waiting = (await connection.execute(statement)).scalar_one()
        if waiting <= leaving:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{waiting} entries never settled"
        await asyncio.sleep(0.02)


async def integrate_settled(runtime: Runtime, batch: int = log.BATCH) -> log.Integration:
    """`log.integrate` once every entry written so far may be integrated."""
    await settled(runtime)
    return await log.integrate(runtime, batch=batch)


async def integrate_all_settled(runtime: Runtime, batch: int = log.BATCH) -> log.Integration:
    """`log.integrate_all` once every entry written so far may be integrated."""
    await settled(runtime)
    return await log.integrate_all(runtime, batch=batch)


# Reading the log


async def verify(runtime: Runtime, held: Sequence[TreeHead] = (), batch: int = 3) -> LogVerdict:
    """`log.verify_log` on a session of its own; small batches by default, so that a fault in
    a later batch must still be found."""
    async with open_scope(runtime) as scope:
        return await log.verify_log(scope.store, runtime, held=held, batch=batch)


async def leaves(runtime: Runtime) -> list[AuditEventRow]:
    """Every integrated entry, in leaf order."""
    async with open_scope(runtime) as scope:
        return await scope.store.audit_leaves(after_index=-1, limit=1_000_000)


async def entries(runtime: Runtime) -> list[AuditEventRow]:
    """Every entry, integrated or not, in the order they were written."""
    async with open_scope(runtime) as scope:
        return list(await scope.store.audit_log())


async def heads(runtime: Runtime) -> list[TreeHead]:
    """Every signed tree head, by size."""
    async with open_scope(runtime) as scope:
        return [log.head_of(row) for row in await scope.store.tree_heads()]


async def pending(runtime: Runtime) -> int:
    """Entries not integrated yet."""
    async with open_scope(runtime) as scope:
        return await scope.store.count_pending_audit_events()


def leaf_bytes(row: AuditEventRow) -> bytes:
    """The leaf data of an entry, as the log hashes it."""
    return leaf_data(audit.entry_content(row))


# Writing entries


async def write_events(runtime: Runtime, writer: str, count: int) -> None:
    """Append `count` events the ways the app does: a failed log-in, a recorded change and a
    decrypted-field read, in turn."""
    for number in range(count):
        kind = number % 3
        if kind == 0:
            await audit.record_auth_failure(runtime, "unknown", f"{writer}-{number}")
            continue
        async with open_scope(runtime) as scope:
            if kind == 1:
                async with audit.mutation(scope, "test.write") as entry:
                    entry.details = {"writer": writer, "number": number}
            else:
                scope.reads = {new_id(): {("Case", new_id()): {"summary"}}}
                await audit.flush_reads(scope)


async def append_entries(runtime: Runtime, count: int, action: str = "test.bulk") -> None:
    """`count` entries in one transaction (one statement), as a request that audits much does."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        await audit.append(
            scope,
            [audit.AuditEntry(action=action, details={"n": number}) for number in range(count)],
        )


def write_events_in_process(url: str, keyring: str, writer: str, count: int) -> None:
    """`write_events` in a process of its own (the entry point of a process pool)."""

    async def main() -> None:
        runtime = runtime_for(url, Path(keyring))
        try:
            await write_events(runtime, writer, count)
        finally:
            await runtime.database.dispose()

    asyncio.run(main())
