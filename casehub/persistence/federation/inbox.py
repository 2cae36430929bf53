"""The federation inbox: envelopes accepted from peer hubs, each once, by message id."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import FederationInboxRow


class InboxQueries(StoreBase):
    """Reads and writes of the federation inbox."""

    async def inbox_answer(self, message_id: UUID) -> tuple[str, str] | None:
        """The digest and the ack of the envelope accepted under this message id, if any (a
        primary-key read; plain values, which outlive the read's transaction)."""
        statement = select(col(FederationInboxRow.digest), col(FederationInboxRow.ack)).where(
            col(FederationInboxRow.message_id) == message_id
        )
        row = (await self._execute(statement)).first()
        return None if row is None else (str(row.digest), str(row.ack))

    async def add_inbox_message(self, values: dict[str, Any]) -> bool:
        """Insert an accepted envelope; False when its message id, or its sender's
        conversation and sequence, is taken already (by any replica). A concurrent insert of
        the same envelope waits for the first to commit, then adds nothing: exactly one of
        them is told it added it."""
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        # The row comes back only when it was added (a driver's rowcount is no such promise).
        statement = (
            insert(FederationInboxRow)
            .values(values)
            .on_conflict_do_nothing()
            .returning(col(FederationInboxRow.message_id))
        )
        return (await self._execute(statement)).first() is not None
