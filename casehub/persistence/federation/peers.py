"""Pinned peer hubs: the one row per hub an operator pinned, active until removed."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import FederationPeerRow


class PeerQueries(StoreBase):
    """Reads and writes of pinned peers."""

    async def active_peer_document(self, hub_id: UUID) -> str | None:
        """The document text of the hub if it is pinned now (one primary-key read: every
        envelope received asks it)."""
        statement = select(col(FederationPeerRow.document)).where(
            col(FederationPeerRow.hub_id) == hub_id, col(FederationPeerRow.removed_at).is_(None)
        )
        return await self._one_or_none(statement)

    async def peer(self, hub_id: UUID) -> FederationPeerRow | None:
        """The hub's row, pinned or removed."""
        statement = select(FederationPeerRow).where(col(FederationPeerRow.hub_id) == hub_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def peers(self, *, removed: bool = False) -> list[FederationPeerRow]:
        """Pinned peers (and removed ones when asked) in name, then id, order."""
        statement = select(FederationPeerRow).order_by(
            col(FederationPeerRow.name), col(FederationPeerRow.hub_id)
        )
        if not removed:
            statement = statement.where(col(FederationPeerRow.removed_at).is_(None))
        return await self._all(statement)
