"""Queries on the audit chain: its head under the writers' lock, the chain in order, and the
events one agency may read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, or_, select, text, update
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import AuditEventRow, PrincipalRow

# The key of the transaction-level advisory lock that serialises writers of the chain on
# PostgreSQL (persistence/notify.py takes the same one for request events).
AUDIT_CHAIN_LOCK = 7426584219

Event = AuditEventRow


class AuditQueries(StoreBase):
    """Reads and appends of the audit chain; who may read which events is the services' rule."""

    async def last_audit_hash(self) -> str | None:
        """The newest link's hash, read under the chain's write lock (held to the end of the
        transaction), so that two writers never chain onto the same link."""
        if self.dialect == "postgresql":
            await self._execute(text(f"SELECT pg_advisory_xact_lock({AUDIT_CHAIN_LOCK})"))
        else:
            # SQLite starts a transaction lazily and takes its one write lock at the first
            # write: a no-op write makes the head below the newest committed one, and keeps
            # other writers (any process on the file) out until the commit.
            await self._execute(
                update(Event)
                .where(col(Event.seq) < 0)
                .values(seq=col(Event.seq))
                .execution_options(synchronize_session=False)
            )
        statement = select(col(Event.hash)).order_by(col(Event.seq).desc()).limit(1)
        return await self._one_or_none(statement)

    async def add_audit_events(self, rows: Sequence[AuditEventRow]) -> None:
        """Insert chain links in one statement (their sequence numbers are not read back)."""
        values = [row.model_dump(exclude={"seq"}) for row in rows]
        async with self._lock:
            await self.session.execute(insert(AuditEventRow), values)

    async def audit_chain(
        self, *, after_seq: int = 0, limit: int | None = None
    ) -> Sequence[AuditEventRow]:
        """The chain in order, from after a sequence number (all of it by default)."""
        statement = select(Event).where(col(Event.seq) > after_seq).order_by(col(Event.seq))
        return await self._all(statement.limit(limit))

    @staticmethod
    def _concerning(
        agency_id: UUID,
        action: str | None,
        object_type: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[Any]:
        conditions: list[Any] = [
            or_(col(Event.object_agency_id) == agency_id, col(Event.actor_agency_id) == agency_id)
        ]
        if action is not None:
            conditions.append(col(Event.action) == action)
        if object_type is not None:
            conditions.append(col(Event.object_type) == object_type)
        if since is not None:
            conditions.append(col(Event.occurred_at) >= since)
        if until is not None:
            conditions.append(col(Event.occurred_at) < until)
        return conditions

    async def audit_events_page(
        self,
        *,
        agency_id: UUID,
        action: str | None,
        object_type: str | None,
        since: datetime | None,
        until: datetime | None,
        first: int,
        before_seq: int | None,
    ) -> list[tuple[AuditEventRow, str | None]]:
        """Newest first, events about the agency's objects or by its principals (keyset on the
        sequence number), each with its actor's principal name."""
        statement = (
            select(Event, col(PrincipalRow.name))
            .outerjoin(PrincipalRow, col(PrincipalRow.id) == col(Event.actor_principal_id))
            .where(*self._concerning(agency_id, action, object_type, since, until))
        )
        if before_seq is not None:
            statement = statement.where(col(Event.seq) < before_seq)
        statement = statement.order_by(col(Event.seq).desc()).limit(first)
        rows: list[Any] = list((await self._execute(statement)).all())
        return [(row[0], row[1]) for row in rows]

    async def count_audit_events(
        self,
        *,
        agency_id: UUID,
        action: str | None,
        object_type: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        """How many events the same filter matches in all."""
        statement = select(func.count()).select_from(Event)
        statement = statement.where(*self._concerning(agency_id, action, object_type, since, until))
        return await self._one(statement)
