"""Readiness: the database answers, its schema is current, the keyring is loaded, and on
PostgreSQL the LISTEN/NOTIFY listeners are connected."""

from __future__ import annotations

from uuid import UUID

from casehub.crypto import KeyringError
from casehub.persistence import migrate
from casehub.services.runtime import Runtime

_PROBE = UUID(int=0)


class SchemaOutdated(Exception):
    """The database is not at the migration this code needs."""


async def schema_problem(runtime: Runtime) -> str | None:
    """Why the database cannot be served, or None when it is at this code's migration or at
    one from a newer release."""
    current = await migrate.current_revision(runtime.database)
    head = migrate.head_revision()
    if current == head:
        return None
    if current is None:
        return "the database is not migrated: run `casehub db upgrade`"
    if current not in migrate.known_revisions():
        # A newer release migrated it. Migrations are expand/contract (docs/OPERATIONS.md):
        # the release before still runs on them, so a rolling upgrade keeps serving.
        return None
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
    problems.extend(_key_problems(runtime))
    for feed, bus in (("request events", runtime.bus), ("hit notices", runtime.notices)):
        if not bus.connected:
            problems.append(f"the listener for {feed} is not connected (LISTEN/NOTIFY)")
    return problems


def _key_problems(runtime: Runtime) -> list[str]:
    """What the key provider cannot do: wrap data keys, sign receipts, make match tokens,
    accredit agency keys."""
    keys = runtime.keys
    problems = []
    for probe in (
        lambda: keys.agency_kek(_PROBE, keys.active_version),
        keys.receipt_signer,
        keys.match_key,
        keys.accreditation_signer,
    ):
        try:
            probe()
        except KeyringError as error:
            problems.append(str(error))  # what is missing and the command that adds it
        except Exception:
            # A KMS adapter's own errors may say more than a public probe should.
            problems.append("the key provider cannot derive keys")
    return list(dict.fromkeys(problems))


def receipt_keys(runtime: Runtime) -> dict[str, list[dict[str, str]]]:
    """The hub's receipt verification keys as a JWKS (every key ever used to sign)."""
    return runtime.keys.receipt_public_keys()


def accreditation_keys(runtime: Runtime) -> dict[str, list[dict[str, object]]]:
    """The hub's accreditation verification keys as a JWKS (every key ever used to sign)."""
    return runtime.keys.accreditation_public_keys()
