"""Throw-away PostgreSQL databases for tests: the server on this machine, one database each (so
parallel workers never share one)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get(
    "CASEHUB_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_BASE = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)


def postgres_reachable() -> bool:
    """Whether the admin URL answers."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_postgres(what: str) -> None:
    """Skip the test when PostgreSQL is down, unless CI requires it (then fail)."""
    if postgres_reachable():
        return
    if os.environ.get("CASEHUB_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required but unreachable at {PG_ADMIN_URL}")
    pytest.skip(f"PostgreSQL is not reachable; {what} is skipped")


@contextmanager
def fresh_postgres(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new, empty (or `template`-copied) database; its SQLAlchemy URL; dropped afterwards."""
    # The xdist worker in the name: a database a killed run left behind says which worker made it.
    name = f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{secrets.token_hex(4)}"
    like = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"{like}')
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
