"""Throw-away databases for the audit tests, each with an audit chain of its own to break, and
the writer the concurrency test runs in several processes."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from casehub.config import Settings
from casehub.crypto import LocalKeyring
from casehub.domain.ids import new_id
from casehub.persistence import Database, migrate
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime, open_scope
from tests.postgres import fresh_postgres


class Databases:
    """Migrated databases of one engine, and copies of them, until `close`."""

    def __init__(self, engine: str, root: Path) -> None:
        self.engine = engine
        self.root = root
        self.made = ExitStack()  # PostgreSQL databases to drop; SQLite files go with `root`

    def new(self) -> str:
        """An empty database migrated to head."""
        url = self._create(None)
        migrate.upgrade(url)
        return url

    def copy(self, url: str) -> str:
        """A copy of a database (on PostgreSQL nobody may be connected to the original)."""
        return self._create(url)

    def _create(self, template: str | None) -> str:
        source = None if template is None else make_url(template).database
        if self.engine == "postgres":
            return self.made.enter_context(fresh_postgres("casehub_audit", source))
        path = self.root / f"casehub_audit_{secrets.token_hex(4)}.db"
        if source is not None:
            with sqlite3.connect(source) as original, sqlite3.connect(path) as target:
                original.backup(target)
            original.close()
            target.close()
        return f"sqlite+aiosqlite:///{path}"

    def close(self) -> None:
        """Drop every PostgreSQL database made here."""
        self.made.close()


def runtime_for(url: str, keyring: Path) -> Runtime:
    """A runtime (its own engine and pool) on one database; lighter to import than the app's."""
    settings = Settings(database_url=url, keyring=keyring)
    return Runtime(database=Database(url), keys=LocalKeyring.load(keyring), settings=settings)


async def run_sql(runtime: Runtime, *statements: str, **params: Any) -> None:
    """Statements straight to the database, in one transaction, past every service."""
    async with runtime.database.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), params)


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


def write_events_in_process(url: str, keyring: str, writer: str, count: int) -> None:
    """`write_events` in a process of its own (the entry point of a process pool)."""

    async def main() -> None:
        runtime = runtime_for(url, Path(keyring))
        try:
            await write_events(runtime, writer, count)
        finally:
            await runtime.database.dispose()

    asyncio.run(main())
