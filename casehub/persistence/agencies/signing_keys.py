"""Agencies' public signing keys, with the hub's accreditation and revocation of each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, bindparam, func, select
from sqlmodel import col

from casehub.persistence.base import StoreBase, Templates
from casehub.persistence.tables import AgencySigningKeyRow, RequestSignatureRow

_HOT = Templates()


def _by_thumbprint_template() -> Select[AgencySigningKeyRow]:
    statement = select(AgencySigningKeyRow).where(
        col(AgencySigningKeyRow.thumbprint) == bindparam("thumbprint")
    )
    # Fresh even when the session read the key before (its revocation may have changed).
    return statement.execution_options(populate_existing=True)


class SigningKeyQueries(StoreBase):
    """Reads and locks of agencies' signing keys."""

    async def signing_keys_by_ids(self, ids: Iterable[UUID]) -> list[AgencySigningKeyRow]:
        """Signing keys with these ids."""
        return await self._by_ids(AgencySigningKeyRow, ids)

    async def signing_keys_of(
        self, agency_ids: Iterable[UUID], per_agency: int | None = None
    ) -> list[AgencySigningKeyRow]:
        """The signing keys of these agencies in id (registration) order, at most the first
        `per_agency` of each when given."""
        return await self._by_parent(
            AgencySigningKeyRow, col(AgencySigningKeyRow.agency_id), agency_ids, per_agency
        )

    async def count_signing_keys(self, agency_id: UUID) -> int:
        """How many keys the agency has registered, revoked ones included."""
        statement = select(func.count()).where(col(AgencySigningKeyRow.agency_id) == agency_id)
        return int(await self._one(statement))

    async def signing_key_by_thumbprint(self, thumbprint: str) -> AgencySigningKeyRow | None:
        """The key with this RFC 7638 thumbprint, of whichever agency (read on every signed
        step: the statement is built once)."""
        statement = _HOT.get(("by thumbprint",), _by_thumbprint_template)
        async with self._lock:
            result = await self.session.execute(statement, {"thumbprint": thumbprint})
            return result.scalars().one_or_none()

    async def latest_signature_issued(self, key_id: UUID) -> datetime | None:
        """The latest issuedAt of the step statements the hub accepted with this key."""
        statement = select(func.max(col(RequestSignatureRow.issued_at))).where(
            col(RequestSignatureRow.key_id) == key_id
        )
        latest: datetime | None = await self._one(statement)
        return latest

    async def lock_signing_key(self, key_id: UUID) -> None:
        """Hold the key's row until the transaction ends: accrediting and revoking it happen
        one after the other, and after every step signed with it that is being kept
        (RequestQueries.add_request_signature), so no step is accepted under a key whose
        revocation committed first, and a revocation sees every step accepted before it."""
        await self._lock_row(AgencySigningKeyRow, key_id, col(AgencySigningKeyRow.thumbprint))
