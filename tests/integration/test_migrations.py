"""Alembic migrations: they build every table, and exactly the schema the models describe."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import casehub.persistence.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from casehub.app import build_runtime
from casehub.config import Settings
from casehub.crypto import create_keyring
from casehub.persistence import migrate
from casehub.services.health import readiness, schema_problem
from tests.postgres import fresh_postgres, require_postgres

TABLES = {
    "agency",
    "principal",
    "api_token",
    "case_file",
    "data_key_wrap",
    "subject",
    "identifier",
    "evidence",
    "custody_event",
    "case_share",
    "audit_event",
    "identifier_index",
    "hit_check",
    "hit_notice",
    "alembic_version",
}


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite file migrated to head."""
    path = tmp_path_factory.mktemp("migrated") / "casehub.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def schema_diff(sync_url: str) -> list[Any]:
    """Alembic's autogenerate diff between the live database and SQLModel.metadata."""
    engine = sqlalchemy.create_engine(sync_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            diff: list[Any] = compare_metadata(context, SQLModel.metadata)
            return diff
    finally:
        engine.dispose()


def test_upgrade_creates_every_table(migrated_sqlite: Path) -> None:
    with sqlite3.connect(migrated_sqlite) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    db.close()
    names = {name for (name,) in rows}
    assert names >= TABLES, TABLES - names
    assert revision == migrate.head_revision()


def test_upgrade_twice_is_a_no_op(migrated_sqlite: Path) -> None:
    migrate.upgrade(f"sqlite+aiosqlite:///{migrated_sqlite}")
    assert schema_diff(f"sqlite:///{migrated_sqlite}") == []


def test_sqlite_schema_matches_the_models(migrated_sqlite: Path) -> None:
    assert schema_diff(f"sqlite:///{migrated_sqlite}") == []


def test_models_cover_every_migrated_table() -> None:
    assert set(SQLModel.metadata.tables) >= TABLES - {"alembic_version"}


async def test_schema_problem_reports_unmigrated_database(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    create_keyring(keyring)
    url = f"sqlite+aiosqlite:///{tmp_path / 'casehub.db'}"
    runtime = build_runtime(Settings(database_url=url, keyring=keyring))
    try:
        problem = await schema_problem(runtime)
        assert problem is not None
        assert "casehub db upgrade" in problem
        assert await readiness(runtime)

        await migrate.upgrade_async(url)
        assert await schema_problem(runtime) is None
        assert await readiness(runtime) == []
    finally:
        await runtime.database.dispose()


@pytest.mark.parametrize(
    ("revision", "serves"),
    [("0001", False), ("0003", False), ("9999_from_a_newer_release", True)],
)
async def test_an_older_migration_is_refused_and_a_newer_release_s_is_served(
    tmp_path: Path, revision: str, serves: bool
) -> None:
    keyring = tmp_path / "keyring.json"
    create_keyring(keyring)
    url = f"sqlite+aiosqlite:///{tmp_path / 'casehub.db'}"
    await migrate.upgrade_async(url)
    with sqlite3.connect(tmp_path / "casehub.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    connection.close()
    runtime = build_runtime(Settings(database_url=url, keyring=keyring))
    try:
        problem = await schema_problem(runtime)
    finally:
        await runtime.database.dispose()
    # During a rolling upgrade the old release keeps serving on the new (expanded) schema.
    assert (problem is None) is serves, problem
    if not serves:
        assert problem is not None
        assert f"at migration {revision}" in problem


@pytest.mark.postgres
def test_postgres_schema_matches_the_models() -> None:
    require_postgres("comparing migrations on PostgreSQL")
    with fresh_postgres("casehub_migrations") as url:
        migrate.upgrade(url)
        assert schema_diff(url) == []
        engine = sqlalchemy.create_engine(url)
        try:
            names = set(sqlalchemy.inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert names >= TABLES, TABLES - names
