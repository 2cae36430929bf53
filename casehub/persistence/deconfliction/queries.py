"""Queries of deconfliction: identifier indexes, hit checks and hit notices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, func, or_, select, true, tuple_
from sqlmodel import col

from casehub.domain.paging import KeyRange
from casehub.persistence import keysets
from casehub.persistence.base import Position, StoreBase
from casehub.persistence.cases.sight import Sight, reads
from casehub.persistence.tables import (
    CaseRow,
    CaseShareRow,
    HitCheckRow,
    HitNoticeRow,
    IdentifierIndexRow,
    IdentifierRow,
    SubjectRow,
)


class DeconflictionQueries(StoreBase):
    """Blind-index lookups, match-token lookups, the hit-check allowance and hit notices."""

    async def index_matches(
        self, keys: Sequence[tuple[UUID, bytes]], sight: Sight
    ) -> list[IdentifierIndexRow]:
        """Index rows whose (owner agency, blind index) is one of `keys`, of the cases whose
        protected fields the sight's agency may read: an owner's other cases stay unread, so a
        value held only there is found as fast as one held nowhere."""
        if not keys:
            return []
        statement = (
            select(IdentifierIndexRow)
            .join(CaseRow, col(CaseRow.id) == col(IdentifierIndexRow.case_id))
            .where(
                or_(
                    *(
                        and_(
                            col(IdentifierIndexRow.agency_id) == agency_id,
                            col(IdentifierIndexRow.blind_index) == digest,
                        )
                        for agency_id, digest in keys
                    )
                ),
                reads(sight),
            )
        )
        return await self._all(statement)

    async def sharing_owners(self, agency_id: UUID, now: datetime, share_scope: str) -> list[UUID]:
        """Agencies holding an active share of this scope to this agency on some case."""
        statement = (
            select(col(CaseRow.owner_agency_id))
            .join(CaseShareRow, col(CaseShareRow.case_id) == col(CaseRow.id))
            .where(
                col(CaseShareRow.agency_id) == agency_id,
                col(CaseShareRow.scope) == share_scope,
                col(CaseShareRow.revoked_at).is_(None),
                or_(col(CaseShareRow.expires_at).is_(None), col(CaseShareRow.expires_at) > now),
            )
            .distinct()
        )
        return list((await self._execute(statement)).scalars())

    async def token_holders(
        self, tokens: Iterable[bytes], *, other_than: UUID
    ) -> list[tuple[bytes, UUID, UUID, str, bool | None]]:
        """(match token, owner agency, case, case TLP, subject's mark) of every identifier
        with one of the tokens in another agency's unshredded cases."""
        wanted = list(set(tokens))
        if not wanted:
            return []
        statement = (
            select(
                col(IdentifierIndexRow.match_token),
                col(IdentifierIndexRow.agency_id),
                col(IdentifierIndexRow.case_id),
                col(CaseRow.tlp),
                col(SubjectRow.matchable),
            )
            .join(CaseRow, col(CaseRow.id) == col(IdentifierIndexRow.case_id))
            .join(SubjectRow, col(SubjectRow.id) == col(IdentifierIndexRow.subject_id))
            .where(
                col(IdentifierIndexRow.match_token).in_(wanted),
                col(IdentifierIndexRow.agency_id) != other_than,
                col(CaseRow.shredded_at).is_(None),
            )
        )
        return [tuple(row) for row in await self._execute(statement)]

    async def delete_case_index(self, case_id: UUID) -> int:
        """Remove the index rows of a case's identifiers (crypto-shredding); how many."""
        statement = (
            delete(IdentifierIndexRow)
            .where(col(IdentifierIndexRow.case_id) == case_id)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self._execute(statement)
        return int(result.rowcount)

    async def unindexed_identifiers(self, *, after: UUID | None, limit: int) -> list[IdentifierRow]:
        """Identifiers of unshredded cases that have no index row yet, by id after `after`."""
        statement = (
            select(IdentifierRow)
            .join(CaseRow, col(CaseRow.id) == col(IdentifierRow.case_id))
            .outerjoin(
                IdentifierIndexRow,
                col(IdentifierIndexRow.identifier_id) == col(IdentifierRow.id),
            )
            .where(col(IdentifierIndexRow.identifier_id).is_(None))
            .where(col(CaseRow.shredded_at).is_(None))
            .where(col(IdentifierRow.id) > after if after else true())
            .order_by(col(IdentifierRow.id))
            .limit(limit)
        )
        return await self._all(statement)

    async def hit_checks_since(
        self, agency_id: UUID, since: datetime
    ) -> list[tuple[datetime, int]]:
        """(moment, identifiers) of the agency's hit checks after a moment."""
        statement = select(col(HitCheckRow.created_at), col(HitCheckRow.identifiers)).where(
            col(HitCheckRow.agency_id) == agency_id, col(HitCheckRow.created_at) > since
        )
        result: Any = await self._execute(statement)
        return [(at, count) for at, count in result]

    async def hit_notices_page(self, agency_id: UUID, keys: KeyRange[UUID]) -> list[HitNoticeRow]:
        """The agency's hit notices in a range of ids."""
        statement = select(HitNoticeRow).where(col(HitNoticeRow.agency_id) == agency_id)
        return await self._all(keysets.apply(statement, col(HitNoticeRow.id), keys))

    async def count_hit_notices(self, agency_id: UUID) -> int:
        """How many hit notices the agency received."""
        statement = select(func.count()).select_from(HitNoticeRow)
        return await self._one(statement.where(col(HitNoticeRow.agency_id) == agency_id))

    async def hit_notices_between(
        self, agency_id: UUID, after: Position, before: Position, limit: int
    ) -> list[tuple[Position, HitNoticeRow]]:
        """The agency's hit notices with feed positions after `after` and before `before`, in
        feed order, each with its position."""
        position = tuple_(col(HitNoticeRow.position_xid), col(HitNoticeRow.seq))
        statement = (
            select(HitNoticeRow)
            .where(
                col(HitNoticeRow.agency_id) == agency_id,
                position > tuple_(*after),
                position < tuple_(*before),
            )
            .order_by(col(HitNoticeRow.position_xid), col(HitNoticeRow.seq))
            .limit(limit)
        )
        return [((row.position_xid, row.seq or 0), row) for row in await self._all(statement)]
