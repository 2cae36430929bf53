"""The federation outbox: messages to peer hubs, queued with the change they tell of, and the
one-sender-at-a-time lock of the delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import col

from casehub.domain.federation.outbox import OutboxState
from casehub.persistence.base import StoreBase
from casehub.persistence.database import Database, sqlite_path
from casehub.persistence.tables import FederationOutboxRow, FederationPeerRow

Outbox = FederationOutboxRow
# The key of the session advisory lock held by the one sending worker on PostgreSQL (the audit
# sequencer's is 7426584220).
SENDER_LOCK = 7426584221
_PENDING = OutboxState.PENDING.value
_DELIVERED = OutboxState.DELIVERED.value


class OutboxQueries(StoreBase):
    """Reads and writes of the federation outbox."""

    async def add_outbox_message(self, values: dict[str, Any]) -> int | None:
        """Insert a message (every column but `sequence`) as the next sequence of its peer's
        conversation, in one statement, if the peer is pinned now; its sequence, or None when
        the peer is not pinned or a concurrent writer took that sequence (the caller tells
        which, and tries again: a new statement sees the other's commit).

        One statement, so that on SQLite it is the write that takes the lock before the read,
        and on PostgreSQL a writer holding the same next sequence uncommitted makes this one
        wait for its end, then add nothing."""
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        table: Any = Outbox.__table__  # type: ignore[attr-defined]
        given = [column for column in table.c if column.key in values]
        following = func.coalesce(func.max(table.c.sequence), 0) + 1
        chosen = select(
            *[literal(values[column.key], column.type) for column in given], following
        ).where(table.c.peer == values["peer"], table.c.conversation == values["conversation"])
        pinned = exists().where(
            col(FederationPeerRow.hub_id) == values["peer"],
            col(FederationPeerRow.removed_at).is_(None),
        )
        chosen = chosen.having(pinned)
        statement = (
            insert(table)
            .from_select([*[column.key for column in given], "sequence"], chosen)
            .on_conflict_do_nothing()
            .returning(table.c.sequence)
        )
        return (await self._execute(statement)).scalar_one_or_none()

    async def outbox_message(self, message_id: UUID) -> FederationOutboxRow | None:
        """One queued message, as stored now."""
        statement = select(Outbox).where(col(Outbox.message_id) == message_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def due_outbox_messages(self, now: datetime, limit: int) -> list[FederationOutboxRow]:
        """The next message of each conversation that is PENDING, due by `now`, to a peer
        pinned now, and behind no message of its conversation still undelivered (PENDING or
        DEAD): at most one per conversation, oldest due first."""
        earlier = aliased(Outbox)
        blocked = exists().where(
            col(earlier.peer) == col(Outbox.peer),
            col(earlier.conversation) == col(Outbox.conversation),
            col(earlier.sequence) < col(Outbox.sequence),
            col(earlier.state) != _DELIVERED,
        )
        statement = (
            select(Outbox)
            .join(FederationPeerRow, col(FederationPeerRow.hub_id) == col(Outbox.peer))
            .where(
                col(Outbox.state) == _PENDING,
                col(Outbox.next_attempt_at) <= now,
                col(FederationPeerRow.removed_at).is_(None),
                ~blocked,
            )
            .order_by(col(Outbox.next_attempt_at), col(Outbox.message_id))
            .limit(limit)
        )
        return await self._all(statement.execution_options(populate_existing=True))

    async def update_outbox_message(
        self, message_id: UUID, attempts: int, envelope: str | None, values: dict[str, Any]
    ) -> bool:
        """Change a PENDING message if no other sender touched it since it was read with
        these attempts and this envelope; False when one did (or it is no longer PENDING)."""
        same_envelope = (
            col(Outbox.envelope).is_(None) if envelope is None else col(Outbox.envelope) == envelope
        )
        statement = (
            update(Outbox)
            .where(
                col(Outbox.message_id) == message_id,
                col(Outbox.state) == _PENDING,
                col(Outbox.attempts) == attempts,
                same_envelope,
            )
            .values(values)
            .returning(col(Outbox.message_id))
            .execution_options(synchronize_session=False)
        )
        return (await self._execute(statement)).first() is not None

    async def outbox_page(
        self, state: str | None, limit: int
    ) -> Sequence[tuple[FederationOutboxRow, str, datetime | None]]:
        """Queued messages (of one state when given), oldest first, each with its peer's name
        and when the peer was removed (None while it is pinned)."""
        statement = (
            select(Outbox, col(FederationPeerRow.name), col(FederationPeerRow.removed_at))
            .join(FederationPeerRow, col(FederationPeerRow.hub_id) == col(Outbox.peer))
            .order_by(col(Outbox.created_at), col(Outbox.message_id))
            .limit(limit)
        )
        if state is not None:
            statement = statement.where(col(Outbox.state) == state)
        rows: list[Any] = list((await self._execute(statement)).all())
        return [(row[0], str(row[1]), row[2]) for row in rows]

    async def outbox_depth(self) -> tuple[dict[str, int], datetime | None]:
        """Messages by state, and when the oldest PENDING one was queued."""
        counted = select(col(Outbox.state), func.count()).group_by(col(Outbox.state))
        rows: list[Any] = list((await self._execute(counted)).all())
        oldest = select(func.min(col(Outbox.created_at))).where(col(Outbox.state) == _PENDING)
        return {str(state): int(n) for state, n in rows}, await self._one(oldest)


@contextlib.asynccontextmanager
async def sender_lock(database: Database) -> AsyncIterator[bool]:
    """Whether this process is the one sender of the database while the block runs (False:
    another holds it; never waits). PostgreSQL: a session advisory lock on a connection kept
    for the block (no transaction stays open while peers are called; a process that dies
    closes its connection and so releases it). SQLite: an exclusive lock on a file beside the
    database, which the system releases with the process too."""
    if database.dialect == "postgresql":
        async with database.engine.connect() as connection:
            taken = await connection.execute(text(f"SELECT pg_try_advisory_lock({SENDER_LOCK})"))
            held = bool(taken.scalar_one())
            await connection.commit()
            try:
                yield held
            finally:
                if held:
                    await connection.execute(text(f"SELECT pg_advisory_unlock({SENDER_LOCK})"))
                    await connection.commit()
        return
    path = sqlite_path(database.url)
    if path is None:  # an in-memory database lives in this process only
        yield True
        return
    descriptor = await asyncio.to_thread(
        os.open, f"{path}.federation-sender.lock", os.O_RDWR | os.O_CREAT, 0o600
    )
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # releases the lock
