"""Peer hubs' agency directories: the agencies each peer listed and their signing keys, this
hub's own agencies as it publishes them, when each peer's last directory was issued and the
peer's accreditation keys it carried."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import (
    AgencyRow,
    AgencySigningKeyRow,
    FederationPeerRow,
    RemoteSigningKeyRow,
)


class DirectoryQueries(StoreBase):
    """Reads and writes of remote agencies and of the directories that listed them."""

    async def agencies_of_hub(self, hub_id: UUID) -> list[AgencyRow]:
        """Every agency a peer's directories listed, delisted ones too (at most the directory
        bound each time, so a bounded read)."""
        statement = select(AgencyRow).where(col(AgencyRow.home_hub_id) == hub_id)
        return await self._all(statement.execution_options(populate_existing=True))

    async def local_agencies(self, limit: int) -> list[AgencyRow]:
        """This hub's own agencies in id order, at most `limit`."""
        statement = (
            select(AgencyRow)
            .where(col(AgencyRow.home_hub_id).is_(None))
            .order_by(col(AgencyRow.id))
            .limit(limit)
        )
        return await self._all(statement)

    async def count_local_agencies(self) -> int:
        """How many agencies are this hub's own."""
        statement = select(func.count()).where(col(AgencyRow.home_hub_id).is_(None))
        return await self._one(statement)

    async def remote_agency_coded(self, code: str) -> bool:
        """Whether some peer's agency has this code (and no agency of this hub does, for the
        caller that looked its own up first)."""
        statement = select(col(AgencyRow.id)).where(
            col(AgencyRow.code) == code, col(AgencyRow.home_hub_id).is_not(None)
        )
        return (await self._execute(statement.limit(1))).first() is not None

    async def lock_peer_directory(self, hub_id: UUID) -> datetime | None:
        """The issuedAt of the peer's last directory applied, its row held until the
        transaction ends, so that two directories of one peer are applied one after the other
        (PostgreSQL locks the row; SQLite takes its single write lock with a no-op update)."""
        column = col(FederationPeerRow.directory_issued_at)
        where = col(FederationPeerRow.hub_id) == hub_id
        if self.dialect == "postgresql":
            return await self._one_or_none(select(column).where(where).with_for_update())
        await self._execute(
            update(FederationPeerRow)
            .where(where)
            .values(directory_issued_at=column)
            .execution_options(synchronize_session=False)
        )
        return await self._one_or_none(select(column).where(where))

    async def set_directory_issued_at(self, hub_id: UUID, issued_at: datetime) -> None:
        """Record the issuedAt of the peer's directory just applied."""
        await self._execute(
            update(FederationPeerRow)
            .where(col(FederationPeerRow.hub_id) == hub_id)
            .values(directory_issued_at=issued_at)
            .execution_options(synchronize_session=False)
        )

    async def peers_by_ids(self, hub_ids: Iterable[UUID]) -> list[tuple[UUID, str]]:
        """The id and name of these peer hubs, pinned or removed (an agency's home hub stays
        named after its peer is unpinned): one statement."""
        wanted = list(set(hub_ids))
        if not wanted:
            return []
        statement = select(col(FederationPeerRow.hub_id), col(FederationPeerRow.name)).where(
            col(FederationPeerRow.hub_id).in_(wanted)
        )
        return [(row.hub_id, row.name) for row in (await self._execute(statement)).all()]

    async def remote_keys_by_ids(self, ids: Iterable[UUID]) -> list[RemoteSigningKeyRow]:
        """Peers' agency keys with these ids."""
        return await self._by_ids(RemoteSigningKeyRow, ids)

    async def remote_keys_of_hub(self, hub_id: UUID) -> list[RemoteSigningKeyRow]:
        """Every key of a peer's agencies, withdrawn ones too (at most the directory's bound
        of agencies times keys per agency)."""
        statement = select(RemoteSigningKeyRow).where(
            col(RemoteSigningKeyRow.home_hub_id) == hub_id
        )
        return await self._all(statement.execution_options(populate_existing=True))

    async def remote_keys_of(
        self, agency_ids: Iterable[UUID], per_agency: int | None = None
    ) -> list[RemoteSigningKeyRow]:
        """The keys of these peer agencies in id order, at most the first `per_agency` of
        each when given (one statement)."""
        return await self._by_parent(
            RemoteSigningKeyRow, col(RemoteSigningKeyRow.agency_id), agency_ids, per_agency
        )

    async def local_key_ids(self, ids: Iterable[UUID]) -> set[UUID]:
        """Which of these ids are keys of this hub's own agencies."""
        wanted = list(set(ids))
        if not wanted:
            return set()
        statement = select(col(AgencySigningKeyRow.id)).where(
            col(AgencySigningKeyRow.id).in_(wanted)
        )
        return set((await self._execute(statement)).scalars())

    async def accredited_local_keys(self, agency_ids: Iterable[UUID]) -> list[AgencySigningKeyRow]:
        """The accredited keys (revoked ones too) of these agencies, in id order: what this
        hub's directory lists of them."""
        wanted = list(set(agency_ids))
        if not wanted:
            return []
        statement = (
            select(AgencySigningKeyRow)
            .where(
                col(AgencySigningKeyRow.agency_id).in_(wanted),
                col(AgencySigningKeyRow.accreditation).is_not(None),
            )
            .order_by(col(AgencySigningKeyRow.id))
        )
        return await self._all(statement)

    async def set_peer_accreditation_keys(self, hub_id: UUID, jwks: str) -> None:
        """Record the peer's accreditation JWKS (RFC 8785 text)."""
        await self._execute(
            update(FederationPeerRow)
            .where(col(FederationPeerRow.hub_id) == hub_id)
            .values(accreditation_keys=jwks)
            .execution_options(synchronize_session=False)
        )

    async def peer_accreditation_keys(self, hub_id: UUID) -> str | None:
        """The peer's accreditation JWKS (RFC 8785 text) as last recorded, pinned or removed."""
        statement = select(col(FederationPeerRow.accreditation_keys)).where(
            col(FederationPeerRow.hub_id) == hub_id
        )
        return await self._one_or_none(statement)
