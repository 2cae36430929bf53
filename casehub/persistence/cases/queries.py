"""Queries on cases, their shares and their contents (subjects, identifiers, evidence,
custody); every list method is one SQL statement for any batch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlmodel import SQLModel, col

from casehub.domain.paging import KeyRange
from casehub.persistence import keysets
from casehub.persistence.base import Row, StoreBase, Templates, among, bound
from casehub.persistence.cases.sight import (
    BOUND,
    Keyset,
    Sight,
    bound_values,
    seen_page,
    sees,
    sees_shares,
)
from casehub.persistence.tables import (
    CaseRow,
    CaseShareRow,
    CustodyEventRow,
    EvidenceRow,
    IdentifierRow,
    SubjectRow,
)

_PAGES = Templates()
_AGENCY_SHARES = Templates()


def _agency_shares_template(dialect: str) -> Select[CaseShareRow]:
    return select(CaseShareRow).where(
        among(col(CaseShareRow.case_id), "cases", dialect),
        col(CaseShareRow.agency_id) == bindparam("agency"),
    )


def _page_template(
    owned_only: bool | None, keyed: keysets.Shape, among: bool, filters: tuple[str, ...]
) -> Select[CaseRow]:
    """The visible-cases page of one shape, its values bound at execution (`visible_cases_page`
    names them)."""
    keys = keysets.bound_range(keyed)
    keyset = Keyset(keys, bound("among", expanding=True) if among else None)
    # The rule of `sees`, read source by source (sight.seen_page): a page's cost does not
    # grow with the shares the agency holds.
    page = seen_page(
        BOUND,
        keyset=keyset,
        where=CaseQueries._case_filters(
            {name: bound(f"filter_{name}") for name in filters}, BOUND.agency_id, owned_only, None
        ),
        owned=owned_only,
    )
    return (
        select(CaseRow)
        .join(page, page.c.id == col(CaseRow.id))
        .order_by(keysets.order(col(CaseRow.id), keys))
    )


_SEEN = Templates()


def _seen_template(dialect: str, model: type[SQLModel]) -> Any:
    column: Any = model.id  # type: ignore[attr-defined]  # every table has an id
    statement = select(model).where(among(column, "ids", dialect))
    if model is not CaseRow:
        parent: Any = model.case_id  # type: ignore[attr-defined]  # a case's contents
        statement = statement.join(CaseRow, col(CaseRow.id) == parent)
    statement = statement.where(sees_shares(BOUND) if model is CaseShareRow else sees(BOUND))
    return statement.execution_options(populate_existing=True)


def _lock_template(dialect: str) -> Any:
    # As StoreBase._lock_row: PostgreSQL locks the row, SQLite takes its one write lock.
    case_id = col(CaseRow.id) == bindparam("case_id")
    if dialect == "postgresql":
        return select(col(CaseRow.id)).where(case_id, sees(BOUND)).with_for_update(of=CaseRow)
    return (
        update(CaseRow)
        .where(case_id, sees(BOUND))
        .values(version=col(CaseRow.version))
        .execution_options(synchronize_session=False)
    )


class CaseQueries(StoreBase):
    """Reads and writes of cases and what they hold; each look-up carries the sight rule."""

    @staticmethod
    def _visible(
        viewer_agency_id: UUID, now: datetime, link_statuses: list[str], owner_only: list[str]
    ) -> Any:
        # One rule for lists and look-ups by id (persistence.sight): cases marked with one of
        # `owner_only` reach no other agency, whatever grant is stored.
        return sees(Sight(viewer_agency_id, now, tuple(link_statuses), tuple(owner_only)))

    async def visible_cases_page(
        self,
        *,
        viewer_agency_id: UUID,
        now: datetime,
        keys: KeyRange[UUID],
        filters: dict[str, Any],
        owned_only: bool | None,
        link_statuses: list[str],
        owner_only: list[str],
        among: Iterable[UUID] | None = None,
    ) -> list[CaseRow]:
        """The cases in a range of ids, in its order, that the agency owns, holds an active
        share of, or is asked about through a request in one of `link_statuses`, those marked
        one of `owner_only` to their owner alone; only those `among` ids when given."""
        shape = (owned_only, keysets.shape(keys), among is not None, tuple(sorted(filters)))
        statement = _PAGES.get(shape, lambda: _page_template(*shape))
        sight = Sight(viewer_agency_id, now, tuple(link_statuses), tuple(owner_only))
        params = {
            **bound_values(sight),
            **keysets.values(keys),
            "among": None if among is None else list(set(among)),
            **{f"filter_{name}": value for name, value in filters.items()},
        }
        return await self._all(statement, params)

    async def count_visible_cases(
        self,
        *,
        viewer_agency_id: UUID,
        now: datetime,
        filters: dict[str, Any],
        owned_only: bool | None,
        link_statuses: list[str],
        owner_only: list[str],
        among: Iterable[UUID] | None = None,
    ) -> int:
        """How many cases the same filter matches in all."""
        statement = select(func.count()).select_from(CaseRow)
        statement = statement.where(self._visible(viewer_agency_id, now, link_statuses, owner_only))
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

    async def seen_by_ids(self, model: type[Row], ids: Iterable[UUID], sight: Sight) -> list[Row]:
        """Rows with these ids of cases, or of a case's contents (subjects, identifiers,
        evidence, custody; shares: the owner's alone), that the sight's agency sees; a row it
        may not see is never read, so it takes the very path of an id that names nothing."""
        wanted = list(set(ids))
        if not wanted:
            return []
        dialect = self.dialect
        statement = _SEEN.get((dialect, model), lambda: _seen_template(dialect, model))
        return await self._all(statement, {"ids": wanted, **bound_values(sight)})

    async def case_for_update(self, case_id: UUID) -> CaseRow | None:
        """A case read for a change; fresh from the database."""
        statement = (
            select(CaseRow)
            .where(col(CaseRow.id) == case_id)
            .execution_options(populate_existing=True)
        )
        return await self._one_or_none(statement)

    async def lock_case(self, case_id: UUID, sight: Sight | None = None) -> None:
        """Hold the case's row until the transaction ends, so changes to one case serialise;
        through a sight, only a case its agency sees (another's is left alone, as a missing
        one is)."""
        if sight is None:
            await self._lock_row(CaseRow, case_id, col(CaseRow.version))
            return
        dialect = self.dialect
        statement = _SEEN.get((dialect, "lock"), lambda: _lock_template(dialect))
        await self._execute(statement, {"case_id": case_id, **bound_values(sight)})

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

    # Shares

    async def shares_for_agency(
        self, case_ids: Iterable[UUID], agency_id: UUID
    ) -> list[CaseShareRow]:
        """Every share (active or not) of these cases to one agency."""
        wanted = list(set(case_ids))
        if not wanted:
            return []
        dialect = self.dialect
        statement = _AGENCY_SHARES.get(dialect, lambda: _agency_shares_template(dialect))
        return await self._all(statement, {"cases": wanted, "agency": agency_id})

    async def shares_by_case(
        self, case_ids: Iterable[UUID], per_case: int | None = None
    ) -> list[CaseShareRow]:
        """Every share of these cases (the first `per_case` of each when given)."""
        return await self._by_parent(CaseShareRow, col(CaseShareRow.case_id), case_ids, per_case)

    async def count_shares(self, case_id: UUID) -> int:
        """How many shares a case holds, revoked and replaced ones included."""
        return await self._count(col(CaseShareRow.case_id), case_id)

    async def _count(self, column: Any, parent_id: UUID) -> int:
        return await self._one(select(func.count()).where(column == parent_id))

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

    # Case contents

    async def subjects_by_case(
        self, case_ids: Iterable[UUID], per_case: int | None = None
    ) -> list[SubjectRow]:
        """Subjects of these cases, oldest first (the first `per_case` of each when given)."""
        return await self._columns_by_parent(
            SubjectRow, col(SubjectRow.case_id), case_ids, per_case
        )

    async def count_subjects(self, case_id: UUID) -> int:
        """How many subjects a case holds."""
        return await self._count(col(SubjectRow.case_id), case_id)

    async def subjects_by_ids(self, ids: Iterable[UUID]) -> list[SubjectRow]:
        """Subjects with these ids."""
        return await self._by_ids(SubjectRow, ids)

    async def identifiers_by_subject(
        self, subject_ids: Iterable[UUID], per_subject: int | None = None
    ) -> list[IdentifierRow]:
        """Identifiers of these subjects, oldest first (the first `per_subject` of each when
        given)."""
        return await self._columns_by_parent(
            IdentifierRow, col(IdentifierRow.subject_id), subject_ids, per_subject
        )

    async def identifiers_by_ids(self, ids: Iterable[UUID]) -> list[IdentifierRow]:
        """Identifiers with these ids."""
        return await self._by_ids(IdentifierRow, ids)

    async def evidence_by_case(
        self, case_ids: Iterable[UUID], per_case: int | None = None
    ) -> list[EvidenceRow]:
        """Evidence of these cases, oldest first (the first `per_case` of each when given)."""
        return await self._by_parent(EvidenceRow, col(EvidenceRow.case_id), case_ids, per_case)

    async def count_evidence(self, case_id: UUID) -> int:
        """How many evidence items a case holds."""
        return await self._count(col(EvidenceRow.case_id), case_id)

    async def evidence_by_ids(self, ids: Iterable[UUID]) -> list[EvidenceRow]:
        """Evidence items with these ids."""
        return await self._by_ids(EvidenceRow, ids)

    async def custody_by_evidence(
        self, evidence_ids: Iterable[UUID], per_item: int | None = None
    ) -> list[CustodyEventRow]:
        """Custody entries of these evidence items, in the order recorded (the first
        `per_item` of each when given)."""
        return await self._by_parent(
            CustodyEventRow, col(CustodyEventRow.evidence_id), evidence_ids, per_item
        )

    async def count_custody(self, evidence_id: UUID) -> int:
        """How many custody entries an evidence item holds."""
        return await self._count(col(CustodyEventRow.evidence_id), evidence_id)

    async def custody_by_ids(self, ids: Iterable[UUID]) -> list[CustodyEventRow]:
        """Custody entries with these ids."""
        return await self._by_ids(CustodyEventRow, ids)
