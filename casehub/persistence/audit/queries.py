"""Queries on the audit log: entries appended without coordination, the sequencer's reads and
writes of the Merkle tree (pending entries below the commit-safe horizon, perfect-subtree nodes,
signed tree heads), and the events one agency may read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, tuple_, update
from sqlmodel import col

from casehub.domain.paging import KeyRange
from casehub.persistence import keysets
from casehub.persistence.base import StoreBase
from casehub.persistence.horizon import horizon, stamp
from casehub.persistence.tables import AuditEventRow, AuditNodeRow, AuditTreeHeadRow, PrincipalRow

# The key of the advisory lock that keeps one sequencer integrating at a time on PostgreSQL.
# Only the sequencer takes it, never a request.
SEQUENCER_LOCK = 7426584220

Event = AuditEventRow
Node = AuditNodeRow
Head = AuditTreeHeadRow
NodeId = tuple[int, int]


# Built once: each statement stamps its rows with the writing transaction (persistence.horizon).
_INSERT = {
    dialect: insert(Event).values(txid=stamp(dialect)) for dialect in ("postgresql", "sqlite")
}


class AuditQueries(StoreBase):
    """Appends to the audit log and the sequencer's tree; who may read which events is the
    services' rule."""

    async def add_audit_events(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Insert entries (their columns but the sequencer's: seq, txid, leaf_index) in one
        statement, stamped with this transaction (no lock, no read: the sequencer orders them
        later)."""
        async with self._lock:
            await self.session.execute(_INSERT[self.dialect], entries)

    async def audit_log(
        self, *, after_seq: int = 0, limit: int | None = None
    ) -> Sequence[AuditEventRow]:
        """Entries in the order they were written, from after a sequence number."""
        statement = select(Event).where(col(Event.seq) > after_seq).order_by(col(Event.seq))
        return await self._all(statement.limit(limit))

    # The sequencer

    async def take_sequencer_lock(self) -> bool:
        """Become the one integrating sequencer until the transaction ends; False when another
        holds it. SQLite: take its single write lock (a no-op write), waiting for it."""
        if self.dialect == "postgresql":
            taken = await self._execute(text(f"SELECT pg_try_advisory_xact_lock({SEQUENCER_LOCK})"))
            return bool(taken.scalar_one())
        await self._execute(
            update(Head)
            .where(col(Head.tree_size) < 0)
            .values(tree_size=col(Head.tree_size))
            .execution_options(synchronize_session=False)
        )
        return True

    async def pending_audit_events(self, limit: int) -> list[AuditEventRow]:
        """Entries not yet in the tree whose transactions have all ended, oldest first."""
        statement = (
            select(Event)
            .where(col(Event.leaf_index).is_(None), col(Event.txid) < horizon(self.dialect))
            .order_by(col(Event.seq))
            .limit(limit)
        )
        return await self._all(statement)

    async def count_pending_audit_events(self) -> int:
        """Entries written but not yet integrated (committed ones, as this snapshot sees)."""
        statement = select(func.count()).where(col(Event.leaf_index).is_(None))
        return int(await self._one(statement))

    async def place_audit_events(self, places: Mapping[int, int]) -> None:
        """Give entries (by sequence number) their leaf indexes."""
        if not places:
            return
        statement = (
            update(Event)
            .where(col(Event.seq) == bindparam("s"))
            .values(leaf_index=bindparam("leaf"))
            .execution_options(synchronize_session=False)
        )
        params = [{"s": seq, "leaf": leaf} for seq, leaf in places.items()]
        async with self._lock:
            # On the connection: the session would read a list of parameters as an ORM bulk
            # update by primary key.
            connection = await self.session.connection()
            await connection.execute(statement, params)

    async def audit_nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """Stored node hashes by (level, index); missing ones are left out."""
        wanted = sorted(set(ids))
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            statement = select(col(Node.level), col(Node.idx), col(Node.hash)).where(
                tuple_(col(Node.level), col(Node.idx)).in_(chunk)
            )
            rows: list[Any] = list((await self._execute(statement)).all())
            found.update({(level, index): bytes(digest) for level, index, digest in rows})
        return found

    async def audit_nodes_in(self, ranges: Iterable[tuple[int, int, int]]) -> dict[NodeId, bytes]:
        """Stored node hashes in (level, first index, last index) ranges, in one query."""
        wanted = [
            and_(col(Node.level) == level, col(Node.idx) >= first, col(Node.idx) <= last)
            for level, first, last in ranges
        ]
        if not wanted:
            return {}
        statement = select(col(Node.level), col(Node.idx), col(Node.hash)).where(or_(*wanted))
        rows: list[Any] = list((await self._execute(statement)).all())
        return {(level, index): bytes(digest) for level, index, digest in rows}

    async def add_audit_nodes(self, nodes: Mapping[NodeId, bytes]) -> None:
        """Store newly complete subtrees."""
        if not nodes:
            return
        values = [
            {"level": level, "idx": index, "hash": digest}
            for (level, index), digest in nodes.items()
        ]
        async with self._lock:
            await self.session.execute(insert(Node), values)

    async def add_tree_head(self, head: AuditTreeHeadRow) -> None:
        """Store a signed tree head."""
        async with self._lock:
            await self.session.execute(insert(Head).values(head.model_dump()))

    async def latest_tree_head(self) -> AuditTreeHeadRow | None:
        """The newest signed tree head (None before the first integration)."""
        statement = select(Head).order_by(col(Head.tree_size).desc()).limit(1)
        return await self._one_or_none(statement)

    async def tree_heads(
        self, *, after_size: int = -1, up_to: int | None = None, limit: int = 1000
    ) -> list[Head]:
        """Signed tree heads by size, from after a size (up to one, inclusive, if given)."""
        statement = select(Head).where(col(Head.tree_size) > after_size)
        if up_to is not None:
            statement = statement.where(col(Head.tree_size) <= up_to)
        return await self._all(statement.order_by(col(Head.tree_size)).limit(limit))

    async def tree_head_of_size(self, size: int) -> AuditTreeHeadRow | None:
        """The signed tree head of exactly this size, if one was issued."""
        return await self._one_or_none(select(Head).where(col(Head.tree_size) == size))

    async def audit_leaf_indexes(self, event_ids: Iterable[UUID]) -> dict[UUID, int]:
        """The leaf indexes of these entries (those integrated)."""
        wanted = list(set(event_ids))
        if not wanted:
            return {}
        statement = select(col(Event.id), col(Event.leaf_index)).where(
            col(Event.id).in_(wanted), col(Event.leaf_index).is_not(None)
        )
        rows: list[Any] = list((await self._execute(statement)).all())
        return {event_id: int(leaf) for event_id, leaf in rows}

    async def audit_leaves(self, *, after_index: int, limit: int) -> list[AuditEventRow]:
        """Integrated entries in leaf order, from after a leaf index."""
        statement = (
            select(Event)
            .where(col(Event.leaf_index) > after_index)
            .order_by(col(Event.leaf_index))
            .limit(limit)
        )
        return await self._all(statement)

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
        keys: KeyRange[int],
    ) -> list[tuple[AuditEventRow, str | None]]:
        """Events about the agency's objects or by its principals in a range of sequence
        numbers, each with its actor's principal name."""
        statement = (
            select(Event, col(PrincipalRow.name))
            .outerjoin(PrincipalRow, col(PrincipalRow.id) == col(Event.actor_principal_id))
            .where(*self._concerning(agency_id, action, object_type, since, until))
        )
        statement = keysets.apply(statement, col(Event.seq), keys)
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
