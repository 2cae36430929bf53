"""Queries on agencies, their principals and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import bindparam, func, select
from sqlmodel import col

from casehub.domain.paging import KeyRange
from casehub.persistence import keysets
from casehub.persistence.base import StoreBase
from casehub.persistence.tables import AgencyRow, ApiTokenRow, PrincipalRow

# Every request's first statement, built once (persistence.base.Templates says why).
_TOKEN = (
    select(ApiTokenRow, PrincipalRow, AgencyRow)
    .join(PrincipalRow, col(PrincipalRow.id) == col(ApiTokenRow.principal_id))
    .join(AgencyRow, col(AgencyRow.id) == col(PrincipalRow.agency_id))
    .where(col(ApiTokenRow.token_hash) == bindparam("token_hash"))
)


class AgencyQueries(StoreBase):
    """Reads of agencies and of the principals and tokens that act for them."""

    async def agencies_by_ids(self, ids: Iterable[UUID]) -> list[AgencyRow]:
        """Agencies with these ids."""
        return await self._by_ids(AgencyRow, ids)

    async def agency_by_code(self, code: str) -> AgencyRow | None:
        """This hub's own agency with this code (a peer's agency may have the same code:
        codes are unique per hub)."""
        statement = select(AgencyRow).where(
            col(AgencyRow.code) == code, col(AgencyRow.home_hub_id).is_(None)
        )
        return await self._one_or_none(statement)

    async def agencies_page(self, keys: KeyRange[UUID]) -> list[AgencyRow]:
        """Agencies in a range of ids."""
        return await self._all(keysets.apply(select(AgencyRow), col(AgencyRow.id), keys))

    async def count_agencies(self) -> int:
        """How many agencies the directory holds."""
        return await self._one(select(func.count()).select_from(AgencyRow))

    async def lock_agency(self, agency_id: UUID) -> None:
        """Hold the agency's row until the transaction ends (its hit-check allowance)."""
        await self._lock_row(AgencyRow, agency_id, col(AgencyRow.code))

    async def principal_named(self, agency_id: UUID, name: str) -> PrincipalRow | None:
        """The principal of an agency with this name."""
        statement = select(PrincipalRow).where(
            col(PrincipalRow.agency_id) == agency_id, col(PrincipalRow.name) == name
        )
        return await self._one_or_none(statement)

    async def token_with_principal(
        self, token_hash: str
    ) -> tuple[ApiTokenRow, PrincipalRow, AgencyRow] | None:
        """A token by digest, with its principal and agency."""
        async with self._lock:
            row = (await self.session.execute(_TOKEN, {"token_hash": token_hash})).first()
        return None if row is None else (row[0], row[1], row[2])

    async def token_by_id(self, token_id: UUID) -> ApiTokenRow | None:
        """A token by id."""
        async with self._lock:
            return await self.session.get(ApiTokenRow, token_id)

    async def token_by_hash(self, token_hash: str) -> ApiTokenRow | None:
        """A token by digest."""
        statement = select(ApiTokenRow).where(col(ApiTokenRow.token_hash) == token_hash)
        return await self._one_or_none(statement)

    async def tokens_with_principals(
        self, agency_id: UUID | None
    ) -> list[tuple[ApiTokenRow, PrincipalRow, AgencyRow]]:
        """Every token (of one agency, or of all) with its principal and agency, oldest first."""
        statement = (
            select(ApiTokenRow, PrincipalRow, AgencyRow)
            .join(PrincipalRow, col(PrincipalRow.id) == col(ApiTokenRow.principal_id))
            .join(AgencyRow, col(AgencyRow.id) == col(PrincipalRow.agency_id))
            .order_by(col(ApiTokenRow.created_at), col(ApiTokenRow.id))
        )
        if agency_id is not None:
            statement = statement.where(col(AgencyRow.id) == agency_id)
        async with self._lock:
            rows = (await self.session.execute(statement)).all()
        return [(row[0], row[1], row[2]) for row in rows]
