"""The audit entries the floor owes, written as casehub writes them: inserted in the writer's
transaction, stamped with its transaction id, no lock and no read (casehub's sequencer, running
in the casehub server on the same database, integrates both servers' entries alike)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.floor.auth import Caller
from benchmarks.tables import AUDIT
from casehub.domain.ids import new_id
from casehub.persistence.horizon import stamp


@dataclass(slots=True)
class Entry:
    """One audit event to append."""

    action: str
    object_type: str | None = None
    object_id: UUID | None = None
    object_agency_id: UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def claim_writer(connection: AsyncConnection) -> None:
    """On SQLite, take the one write lock before anything is read (a no-op write, as casehub
    does), so that the transaction never writes on a snapshot another writer moved past."""
    if connection.dialect.name == "sqlite":
        await connection.execute(AUDIT.update().where(AUDIT.c.seq < 0).values(seq=AUDIT.c.seq))


async def append(
    connection: AsyncConnection, caller: Caller, entries: list[Entry], now: datetime
) -> None:
    """Insert the entries in one statement (on SQLite, after `claim_writer`)."""
    rows = [
        {
            "id": new_id(),
            "occurred_at": now,
            "actor_principal_id": caller.principal_id,
            "actor_agency_id": caller.agency_id,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "object_agency_id": entry.object_agency_id,
            "outcome": "OK",
            "details": json.dumps(entry.details, sort_keys=True, separators=(",", ":")),
        }
        for entry in entries
    ]
    statement = AUDIT.insert().values(txid=stamp(connection.dialect.name))
    await connection.execute(statement, rows)
