"""Queries and writes, one method each; every list method is one SQL statement for any batch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlmodel import col

from casehub.persistence.audit_queries import AuditQueries
from casehub.persistence.deconfliction import DeconflictionQueries
from casehub.persistence.requests import RequestQueries
from casehub.persistence.tables import (
    AgencyRow,
    ApiTokenRow,
    CaseRow,
    CaseShareRow,
    CooperationRequestRow,
    CustodyEventRow,
    DataKeyWrapRow,
    EvidenceRow,
    IdentifierRow,
    PrincipalRow,
    SubjectRow,
)


class Store(RequestQueries, DeconflictionQueries, AuditQueries):
    """The persistence operations of one session; services own the transactions."""

    # Agencies, principals, tokens

    async def agencies_by_ids(self, ids: Iterable[UUID]) -> list[AgencyRow]:
        """Agencies with these ids."""
        return await self._by_ids(AgencyRow, ids)

    async def agency_by_code(self, code: str) -> AgencyRow | None:
        """The agency with this code."""
        return await self._one_or_none(select(AgencyRow).where(col(AgencyRow.code) == code))

    async def agencies_page(self, *, first: int, after: UUID | None) -> list[AgencyRow]:
        """Agencies ordered by id, after a cursor."""
        statement = select(AgencyRow).order_by(col(AgencyRow.id)).limit(first)
        if after is not None:
            statement = statement.where(col(AgencyRow.id) > after)
        return await self._all(statement)

    async def principal_named(self, agency_id: UUID, name: str) -> PrincipalRow | None:
        """The principal of an agency with this name."""
        statement = select(PrincipalRow).where(
            col(PrincipalRow.agency_id) == agency_id, col(PrincipalRow.name) == name
        )
        return await self._one_or_none(statement)

    async def principals_by_ids(self, ids: Iterable[UUID]) -> list[PrincipalRow]:
        """Principals with these ids."""
        return await self._by_ids(PrincipalRow, ids)

    async def token_with_principal(
        self, token_hash: str
    ) -> tuple[ApiTokenRow, PrincipalRow, AgencyRow] | None:
        """A token by digest, with its principal and agency."""
        statement = (
            select(ApiTokenRow, PrincipalRow, AgencyRow)
            .join(PrincipalRow, col(PrincipalRow.id) == col(ApiTokenRow.principal_id))
            .join(AgencyRow, col(AgencyRow.id) == col(PrincipalRow.agency_id))
            .where(col(ApiTokenRow.token_hash) == token_hash)
        )
        async with self._lock:
            row = (await self.session.execute(statement)).first()
        return None if row is None else (row[0], row[1], row[2])

    async def token_by_id(self, token_id: UUID) -> ApiTokenRow | None:
        """A token by id."""
        async with self._lock:
            return await self.session.get(ApiTokenRow, token_id)

    async def token_by_hash(self, token_hash: str) -> ApiTokenRow | None:
        """A token by digest."""
        statement = select(ApiTokenRow).where(col(ApiTokenRow.token_hash) == token_hash)
        return await self._one_or_none(statement)

    # Cases

    @staticmethod
    def _visible(viewer_agency_id: UUID, now: datetime, link_statuses: list[str]) -> Any:
        share = select(col(CaseShareRow.id)).where(
            col(CaseShareRow.case_id) == col(CaseRow.id),
            col(CaseShareRow.agency_id) == viewer_agency_id,
            col(CaseShareRow.revoked_at).is_(None),
            or_(
                col(CaseShareRow.expires_at).is_(None),
                col(CaseShareRow.expires_at) > now,
            ),
        )
        link = select(col(CooperationRequestRow.id)).where(
            col(CooperationRequestRow.case_id) == col(CaseRow.id),
            col(CooperationRequestRow.requested_agency_id) == viewer_agency_id,
            col(CooperationRequestRow.status).in_(link_statuses),
        )
        return or_(col(CaseRow.owner_agency_id) == viewer_agency_id, exists(share), exists(link))

    async def visible_cases_page(
        self,
        *,
        viewer_agency_id: UUID,
        now: datetime,
        first: int,
        after: UUID | None,
        filters: dict[str, Any],
        owned_only: bool | None,
        link_statuses: list[str],
        among: Iterable[UUID] | None = None,
    ) -> list[CaseRow]:
        """Newest-first cases the agency owns, holds an active share of, or is asked about
        through a request in one of `link_statuses` (keyset on id); only those `among` ids
        when given."""
        statement = select(CaseRow).where(self._visible(viewer_agency_id, now, link_statuses))
        statement = statement.where(
            *self._case_filters(filters, viewer_agency_id, owned_only, among)
        )
        if after is not None:
            statement = statement.where(col(CaseRow.id) < after)
        statement = statement.order_by(col(CaseRow.id).desc()).limit(first)
        return await self._all(statement)

    async def count_visible_cases(
        self,
        *,
        viewer_agency_id: UUID,
        now: datetime,
        filters: dict[str, Any],
        owned_only: bool | None,
        link_statuses: list[str],
        among: Iterable[UUID] | None = None,
    ) -> int:
        """How many cases the same filter matches in all."""
        statement = select(func.count()).select_from(CaseRow)
        statement = statement.where(self._visible(viewer_agency_id, now, link_statuses))
        statement = statement.where(
            *self._case_filters(filters, viewer_agency_id, owned_only, among)
        )
        return await self._one(statement)

    @staticmethod
    def _case_filters(
        filters: dict[str, Any],
        viewer_agency_id: UUID,
        owned_only: bool | None,
        among: Iterable[UUID] | None,
    ) -> list[Any]:
        clauses = [getattr(CaseRow, name) == value for name, value in filters.items()]
        if owned_only is True:
            clauses.append(col(CaseRow.owner_agency_id) == viewer_agency_id)
        elif owned_only is False:
            clauses.append(col(CaseRow.owner_agency_id) != viewer_agency_id)
        if among is not None:
            clauses.append(col(CaseRow.id).in_(list(among)))
        return clauses

    async def case_reference_taken(self, owner_agency_id: UUID, reference: str) -> bool:
        """Whether the agency already uses this case reference."""
        statement = select(col(CaseRow.id)).where(
            col(CaseRow.owner_agency_id) == owner_agency_id, col(CaseRow.reference) == reference
        )
        return (await self._execute(statement.limit(1))).first() is not None

    async def cases_by_ids(self, ids: Iterable[UUID]) -> list[CaseRow]:
        """Cases with these ids (visibility is the caller's to decide)."""
        return await self._by_ids(CaseRow, ids)

    async def case_for_update(self, case_id: UUID) -> CaseRow | None:
        """A case read for a change; fresh from the database."""
        statement = (
            select(CaseRow)
            .where(col(CaseRow.id) == case_id)
            .execution_options(populate_existing=True)
        )
        return await self._one_or_none(statement)

    async def lock_case(self, case_id: UUID) -> None:
        """Hold the case's row until the transaction ends, so changes to one case serialise."""
        await self._lock_row(CaseRow, case_id, col(CaseRow.version))

    async def lock_agency(self, agency_id: UUID) -> None:
        """Hold the agency's row until the transaction ends (its hit-check allowance)."""
        await self._lock_row(AgencyRow, agency_id, col(AgencyRow.code))

    async def _lock_row(self, model: type[Any], row_id: UUID, column: Any) -> None:
        """Lock one row by id for the rest of the transaction.

        PostgreSQL locks the row; SQLite takes its single write lock with a no-op update of
        `column`, which also starts the transaction before anything is read.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            statement = select(model.id).where(model.id == row_id)
            await self._execute(statement.with_for_update())
        else:
            await self._execute(
                update(model)
                .where(model.id == row_id)
                .values({column.key: column})
                .execution_options(synchronize_session=False)
            )

    async def update_case_if_version(
        self, case_id: UUID, expected_version: int, values: dict[str, Any]
    ) -> bool:
        """Compare-and-set: apply the values and bump the version only if it is unchanged."""
        statement = (
            update(CaseRow)
            .where(and_(col(CaseRow.id) == case_id, col(CaseRow.version) == expected_version))
            .values(version=expected_version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self._execute(statement)
        return bool(result.rowcount == 1)

    async def shares_for_agency(
        self, case_ids: Iterable[UUID], agency_id: UUID
    ) -> list[CaseShareRow]:
        """Every share (active or not) of these cases to one agency."""
        wanted = list(set(case_ids))
        if not wanted:
            return []
        statement = select(CaseShareRow).where(
            col(CaseShareRow.case_id).in_(wanted),
            col(CaseShareRow.agency_id) == agency_id,
        )
        return await self._all(statement)

    async def shares_by_case(self, case_ids: Iterable[UUID]) -> list[CaseShareRow]:
        """Every share of these cases."""
        return await self._by_parent(CaseShareRow, col(CaseShareRow.case_id), case_ids)

    async def shares_by_ids(self, ids: Iterable[UUID]) -> list[CaseShareRow]:
        """Shares with these ids."""
        return await self._by_ids(CaseShareRow, ids)

    async def count_active_shares(self, case_id: UUID, now: datetime) -> int:
        """How many shares of a case are in force now."""
        statement = select(func.count()).where(
            col(CaseShareRow.case_id) == case_id,
            col(CaseShareRow.revoked_at).is_(None),
            or_(
                col(CaseShareRow.expires_at).is_(None),
                col(CaseShareRow.expires_at) > now,
            ),
        )
        return await self._one(statement)

    # Keys

    async def wraps_for_agency(
        self, scope_ids: Iterable[UUID], agency_id: UUID
    ) -> list[DataKeyWrapRow]:
        """One agency's wraps of these scopes' data keys."""
        wanted = list(set(scope_ids))
        if not wanted:
            return []
        statement = select(DataKeyWrapRow).where(
            col(DataKeyWrapRow.scope_id).in_(wanted),
            col(DataKeyWrapRow.agency_id) == agency_id,
        )
        return await self._all(statement)

    async def delete_wrap(self, scope_id: UUID, agency_id: UUID) -> None:
        """Remove one agency's wrap of a data key."""
        wraps = await self.wraps_for_agency([scope_id], agency_id)
        for wrap in wraps:
            await self.session.delete(wrap)

    async def delete_all_wraps(self, scope_id: UUID) -> int:
        """Remove every agency's wrap of a scope's data key (crypto-shredding); how many."""
        statement = (
            delete(DataKeyWrapRow)
            .where(col(DataKeyWrapRow.scope_id) == scope_id)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self._execute(statement)
        return int(result.rowcount)

    # Case contents

    async def subjects_by_case(self, case_ids: Iterable[UUID]) -> list[SubjectRow]:
        """Subjects of these cases, oldest first."""
        return await self._by_parent(SubjectRow, col(SubjectRow.case_id), case_ids)

    async def subjects_by_ids(self, ids: Iterable[UUID]) -> list[SubjectRow]:
        """Subjects with these ids."""
        return await self._by_ids(SubjectRow, ids)

    async def identifiers_by_subject(self, subject_ids: Iterable[UUID]) -> list[IdentifierRow]:
        """Identifiers of these subjects, oldest first."""
        return await self._by_parent(IdentifierRow, col(IdentifierRow.subject_id), subject_ids)

    async def identifiers_by_ids(self, ids: Iterable[UUID]) -> list[IdentifierRow]:
        """Identifiers with these ids."""
        return await self._by_ids(IdentifierRow, ids)

    async def evidence_by_case(self, case_ids: Iterable[UUID]) -> list[EvidenceRow]:
        """Evidence of these cases, oldest first."""
        return await self._by_parent(EvidenceRow, col(EvidenceRow.case_id), case_ids)

    async def evidence_by_ids(self, ids: Iterable[UUID]) -> list[EvidenceRow]:
        """Evidence items with these ids."""
        return await self._by_ids(EvidenceRow, ids)

    async def custody_by_evidence(self, evidence_ids: Iterable[UUID]) -> list[CustodyEventRow]:
        """Custody entries of these evidence items, in the order recorded."""
        return await self._by_parent(
            CustodyEventRow, col(CustodyEventRow.evidence_id), evidence_ids
        )

    async def custody_by_ids(self, ids: Iterable[UUID]) -> list[CustodyEventRow]:
        """Custody entries with these ids."""
        return await self._by_ids(CustodyEventRow, ids)
