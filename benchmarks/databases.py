"""The databases a run measures: a SQLite file or a PostgreSQL database of its own, each with a
keyring, migrated to head, and thrown away afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from casehub.config import Environment, Settings
from casehub.crypto import create_keyring
from casehub.persistence import migrate

ENGINES = ("sqlite", "postgres")
UNLIMITED = 1_000_000_000
POSTGRES_ADMIN_URL = os.environ.get(
    "CASEHUB_BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True, slots=True)
class Target:
    """A migrated database, the keyring that goes with it, and a directory for the rest."""

    engine: str
    url: str
    keyring: Path
    workdir: Path

    def settings(self) -> Settings:
        """Settings of an in-process runtime on this target (the seeders')."""
        return Settings(env=Environment.PRODUCTION, database_url=self.url, keyring=self.keyring)

    def environment(self) -> dict[str, str]:
        """The CASEHUB_* variables a server process of this target runs with."""
        return {
            "CASEHUB_ENV": "production",
            "CASEHUB_DATABASE_URL": self.url,
            "CASEHUB_KEYRING": str(self.keyring),
            "CASEHUB_LOG_LEVEL": "WARNING",
            # Throughput is what is measured, not the limiter: the limits stay checked on every
            # request, but so high that they never refuse one.
            "CASEHUB_RATE_LIMIT_PER_SECOND": str(UNLIMITED),
            "CASEHUB_RATE_LIMIT_BURST": str(UNLIMITED),
            "CASEHUB_HIT_CHECK_PER_MINUTE": str(UNLIMITED),
            # Every client of a workload holds the one token.
            "CASEHUB_MAX_CONCURRENT_OPERATIONS_PER_TOKEN": str(UNLIMITED),
        }


@contextmanager
def _postgres_database(suffix: str = "") -> Iterator[str]:
    name = f"casehub_bench_{os.getpid()}{suffix}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def prepared(engine: str, suffix: str = "") -> Iterator[Target]:
    """A fresh, migrated database of this engine with a new keyring; removed at the end.
    Several at once in one process need each its own `suffix` (on PostgreSQL, the
    database's name ends with it)."""
    with tempfile.TemporaryDirectory(prefix=f"casehub-bench-{engine}{suffix}-") as name:
        workdir = Path(name)
        keyring = workdir / "keyring.json"
        create_keyring(keyring)
        if engine == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'casehub.db'}"
            migrate.upgrade(url)
            yield Target(engine, url, keyring, workdir)
            return
        with _postgres_database(suffix) as url:
            migrate.upgrade(url)
            yield Target(engine, url, keyring, workdir)


def postgres_version() -> str:
    """The server's version string, for the report."""
    with psycopg.connect(POSTGRES_ADMIN_URL) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"
