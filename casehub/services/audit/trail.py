"""Audit trail: every mutation, refusal, decryption and failed authentication is an entry of the
audit log, appended by the transaction that did it with no lock and no read (the sequencer in
casehub.services.audit.log puts entries into the Merkle tree once they are committed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import groupby, islice
from operator import itemgetter
from typing import Any, TypeVar
from uuid import UUID

from casehub.domain.errors import Conflict, DomainError
from casehub.domain.ids import new_id
from casehub.persistence import DuplicateError
from casehub.persistence.tables import AuditEventRow
from casehub.services.runtime import Runtime, Scope, open_scope


@dataclass(slots=True)
class AuditEntry:
    """What one audit event says; details never hold protected plaintext."""

    action: str
    outcome: str = "OK"
    object_type: str | None = None
    object_id: UUID | None = None
    object_agency_id: UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)


# The objects one field.decrypt event names at most (an administrator reads them as a list of
# known length); a request that decrypted more is recorded in several events.
READS_PER_EVENT = 100
T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """The items in tuples of `size` (the last one shorter)."""
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


# Told of every event recorded in the current request or connection (the API's metrics count
# decryptions, hit checks and failed authentications from them); None elsewhere.
OBSERVER: ContextVar[Callable[[AuditEntry], None] | None] = ContextVar(
    "casehub_audit_observer", default=None
)


def entry_content(row: AuditEventRow) -> dict[str, Any]:
    """What an entry's leaf hash covers: every column but the sequence number, the writer's
    transaction id and the leaf index (the sequencer's bookkeeping)."""
    return {
        "id": str(row.id),
        "occurred_at": row.occurred_at.isoformat(),
        "actor_principal_id": str(row.actor_principal_id) if row.actor_principal_id else None,
        "actor_agency_id": str(row.actor_agency_id) if row.actor_agency_id else None,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": str(row.object_id) if row.object_id else None,
        "object_agency_id": str(row.object_agency_id) if row.object_agency_id else None,
        "outcome": row.outcome,
        "details": row.details,
    }


async def append(scope: Scope, entries: list[AuditEntry]) -> None:
    """Add the entries to the log inside the caller's transaction."""
    if not entries:
        return
    principal = scope.principal
    now = scope.now
    principal_id = principal.id if principal else None
    agency_id = principal.agency_id if principal else None
    await scope.store.add_audit_events(
        [
            {
                "id": new_id(),
                "occurred_at": now,
                "actor_principal_id": principal_id,
                "actor_agency_id": agency_id,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "object_agency_id": entry.object_agency_id,
                "outcome": entry.outcome,
                "details": json.dumps(entry.details, sort_keys=True, separators=(",", ":")),
            }
            for entry in entries
        ]
    )
    if (observe := OBSERVER.get()) is not None:
        for entry in entries:
            observe(entry)


@asynccontextmanager
async def mutation(scope: Scope, action: str) -> AsyncIterator[AuditEntry]:
    """Run a change in one transaction that also records it; a refusal is recorded alone."""
    entry = AuditEntry(action=action)
    try:
        try:
            async with scope.store.transaction():
                yield entry
                await append(scope, [entry])
        except DuplicateError:
            # Services check uniqueness first; only a concurrent writer gets here.
            raise Conflict("A conflicting change was made at the same time; retry.") from None
    except DomainError as error:
        entry.outcome = error.code.value
        async with scope.store.transaction():
            await append(scope, [entry])
        raise


async def flush_reads(scope: Scope) -> None:
    """Record the protected fields decrypted for the caller in this request: events per owner
    agency and object type, of at most READS_PER_EVENT objects each, naming objects and fields,
    never values."""
    if not scope.reads:
        return
    entries = []
    for owner, objects in scope.reads.items():
        # Ids as text before sorting: the same order as UUIDs', compared without Python calls.
        named = sorted(
            (kind, str(object_id), names) for (kind, object_id), names in objects.items()
        )
        for kind, group in groupby(named, key=itemgetter(0)):
            for chunk in batched(group, READS_PER_EVENT):
                objects_read = [
                    {"type": kind, "id": object_id, "fields": sorted(names)}
                    for kind, object_id, names in chunk
                ]
                entries.append(
                    AuditEntry(
                        action="field.decrypt",
                        object_type=kind,
                        object_agency_id=owner,
                        details={"objects": objects_read},
                    )
                )
    scope.reads = {}
    async with scope.store.transaction():
        await append(scope, entries)


async def record_auth_failure(runtime: Runtime, reason: str, client: str | None) -> None:
    """Record a refused authentication (the reason stays in the log, never in the response)."""
    await record_alone(
        runtime,
        AuditEntry(
            action="auth.fail",
            outcome="UNAUTHENTICATED",
            details={"reason": reason, "client": client},
        ),
    )


async def record_alone(runtime: Runtime, entry: AuditEntry) -> None:
    """Record one event in a transaction of its own, with no principal (an operator's command
    or an anonymous caller)."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        await append(scope, [entry])
