"""Readiness: the database answers, its schema is current, and the keyring is loaded."""

from __future__ import annotations

from uuid import UUID

from casehub.persistence import migrate
from casehub.services.runtime import Runtime

_PROBE = UUID(int=0)


class SchemaOutdated(Exception):
    """The database is not at the migration this code needs."""


async def schema_problem(runtime: Runtime) -> str | None:
    """Why the database cannot be served, or None when it is current."""
    current = await migrate.current_revision(runtime.database)
    head = migrate.head_revision()
    if current == head:
        return None
    if current is None:
        return "the database is not migrated: run `casehub db upgrade`"
    return f"the database is at migration {current}, not {head}: run `casehub db upgrade`"


async def readiness(runtime: Runtime) -> list[str]:
    """Every reason not to send traffic here; empty when ready."""
    problems = []
    try:
        problem = await schema_problem(runtime)
    except Exception:
        problem = "the database is unreachable"
    if problem:
        problems.append(problem)
    try:
        runtime.keys.agency_kek(_PROBE, runtime.keys.active_version)
    except Exception:
        problems.append("the key provider cannot derive keys")
    return problems


def receipt_keys(runtime: Runtime) -> dict[str, list[dict[str, str]]]:
    """The hub's receipt verification keys as a JWKS (every key ever used to sign)."""
    return runtime.keys.receipt_public_keys()
