"""The audit links the floor owes, chained exactly as casehub chains them (same lock, same
content, same hash), so that `casehub audit verify` accepts a chain both wrote to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.floor.auth import Caller
from benchmarks.tables import AUDIT
from casehub.domain.audit.chain import GENESIS, link_hash
from casehub.domain.ids import new_id
from casehub.persistence.audit.queries import AUDIT_CHAIN_LOCK
from casehub.persistence.tables import AuditEventRow
from casehub.services.audit.trail import link_content


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
    """Chain the entries onto the log (on SQLite, after `claim_writer`)."""
    if connection.dialect.name == "postgresql":
        # casehub's lock on the chain's head, held to the end of the transaction.
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({AUDIT_CHAIN_LOCK})"))
    prev = await connection.scalar(select(AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1))
    prev = prev or GENESIS
    rows = []
    for entry in entries:
        row = AuditEventRow(
            id=new_id(),
            occurred_at=now,
            actor_principal_id=caller.principal_id,
            actor_agency_id=caller.agency_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            object_agency_id=entry.object_agency_id,
            outcome="OK",
            details=json.dumps(entry.details, sort_keys=True, separators=(",", ":")),
            prev_hash=prev,
            hash="",
        )
        row.hash = prev = link_hash(link_content(row), prev)
        rows.append(row.model_dump(exclude={"seq"}))
    await connection.execute(AUDIT.insert(), rows)
