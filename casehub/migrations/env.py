"""Alembic environment: runs migrations over the async engine named in the config."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from casehub.persistence import tables  # noqa: F401  (registers the tables on the metadata)
from casehub.persistence.database import Database

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode recreates a table by dropping it and renaming a copy;
        # with foreign keys enforced, dropping a table other rows reference fails (agency,
        # 0013). SQLite ignores this pragma inside a transaction, so it comes first, and
        # every reference is checked before the migrations commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"The migrations broke foreign keys: {broken[:10]}")


async def _run_async() -> None:
    database = Database(config.get_main_option("sqlalchemy.url") or "")
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await database.dispose()


if context.is_offline_mode():
    raise SystemExit("casehub migrations run online only: use `casehub db upgrade`.")
asyncio.run(_run_async())
