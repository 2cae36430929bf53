"""Use-cases on cases: open, update, list and look up what the caller may see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain import paging
from casehub.domain import validation as check
from casehub.domain.cases.policy import LINK_ACCESS_STATES, Action
from casehub.domain.cases.sharing import OWNER_ONLY, check_reclassification
from casehub.domain.enums import (
    Access,
    CaseCategory,
    CaseStatus,
    HandlingCode,
    ProtectedFieldsReason,
    Tlp,
)
from casehub.domain.errors import Conflict, ValidationFailed
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.ids import new_id
from casehub.domain.paging import KeyRange
from casehub.domain.roles import Operation
from casehub.persistence.tables import CaseRow
from casehub.services.audit import trail as audit
from casehub.services.cases import identifier_index
from casehub.services.cases.access import authorize, grants_for, may_read_protected, seen, sight
from casehub.services.keys import data_keys as keys
from casehub.services.paging import Listed, read_page
from casehub.services.protected import CASE_SUMMARY
from casehub.services.runtime import CaseGrant, Scope, detached
from casehub.services.views import CaseView

TITLE_MAX = 200
LINK_STATUSES = sorted(status.value for status in LINK_ACCESS_STATES)
OWNER_ONLY_MARKINGS = sorted(tlp.value for tlp in OWNER_ONLY)
REFERENCE_MAX = 100
SUMMARY_MAX = 20_000


SHREDDED_MESSAGE = (
    "The case was crypto-shredded: its data key is destroyed, so nothing encrypted can be "
    "added to it or changed in it."
)


def refuse_if_shredded(row: CaseRow, field: str) -> None:
    """Refuse a write that needs the case's data key once the case is shredded."""
    if row.shredded_at is not None:
        raise ValidationFailed(SHREDDED_MESSAGE, [field])


def protected_fields_reason(row: CaseRow, grant: CaseGrant) -> ProtectedFieldsReason | None:
    """Why the viewer reads the case's encrypted fields as null (None: it may read them)."""
    if row.shredded_at is not None:
        return ProtectedFieldsReason.SHREDDED
    if not grant.access.decrypts:
        return ProtectedFieldsReason.METADATA_ONLY
    return None


def case_view(row: CaseRow, grant: CaseGrant, key: DataKey | None) -> CaseView:
    """Render a case row for a viewer with this grant and key."""
    return CaseView(
        id=row.id,
        owner_agency_id=row.owner_agency_id,
        reference=row.reference,
        title=row.title,
        summary=CASE_SUMMARY.sealed(row.summary, key, row.id, row.owner_agency_id),
        category=CaseCategory(row.category),
        status=CaseStatus(row.status),
        tlp=Tlp(row.tlp),
        handling_code=HandlingCode(row.handling_code),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        viewer_access=grant.access,
        legal_hold=row.legal_hold,
        shredded_at=row.shredded_at,
        protected_fields_reason=protected_fields_reason(row, grant),
    )


async def readable_keys(
    scope: Scope, grants: dict[UUID, CaseGrant | None]
) -> dict[UUID, DataKey | None]:
    """Data keys of the cases whose protected fields the caller may read; None for the rest."""
    readable = [
        case_id for case_id, grant in grants.items() if grant and may_read_protected(scope, grant)
    ]
    found = await keys.viewer_keys(scope, readable)
    return {case_id: found.get(case_id) for case_id in grants}


async def render_cases(
    scope: Scope, rows: Sequence[CaseRow], *, sealed: bool = True
) -> list[CaseView]:
    """Views of the rows the caller may see, in the rows' order (three queries at most).
    `sealed=False` leaves their protected fields without a key, for a caller that reads none
    of them (a compiled plan that selects none): no wrap is read or opened."""
    scope.require(Operation.READ_CASES)
    grants = await grants_for(scope, rows)
    case_keys = await readable_keys(scope, grants) if sealed else dict.fromkeys(grants)
    return [
        case_view(row, grant, case_keys[row.id])
        for row in rows
        if (grant := grants[row.id]) is not None
    ]


async def cases_by_ids(scope: Scope, case_ids: Iterable[UUID]) -> dict[UUID, CaseView]:
    """The visible cases among these ids."""
    rows = await seen(scope, CaseRow, case_ids)
    return {view.id: view for view in await render_cases(scope, rows)}


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Narrowing of the cases list."""

    status: CaseStatus | None = None
    category: CaseCategory | None = None
    tlp: Tlp | None = None
    owned: bool | None = None
    identifier: IdentifierInput | None = None
    # The cases holding `identifier`, once looked up (see `narrowed`).
    among: frozenset[UUID] | None = None

    def columns(self) -> dict[str, Any]:
        """The equality filters on case columns."""
        wanted = {"status": self.status, "category": self.category, "tlp": self.tlp}
        return {name: value.value for name, value in wanted.items() if value is not None}


@dataclass(slots=True)
class CasePage(Listed[CaseView]):
    """One page of cases, with the filter it was read under (its identifier looked up)."""

    case_filter: CaseFilter


async def list_cases(
    scope: Scope,
    *,
    case_filter: CaseFilter,
    first: int | None,
    after: UUID | None,
    last: int | None = None,
    before: UUID | None = None,
    sealed: bool = True,
) -> CasePage:
    """Newest first, the cases the caller's agency owns or holds an active share of."""
    scope.require(Operation.READ_CASES)  # before the identifier search, which is audited
    given = paging.window(first=first, after=after, last=last, before=before)
    case_filter = await narrowed(scope, case_filter)

    async def read(keys: KeyRange[UUID]) -> list[CaseRow]:
        return await scope.store.visible_cases_page(
            viewer_agency_id=scope.caller().agency_id,
            now=scope.now,
            keys=keys,
            filters=case_filter.columns(),
            owned_only=case_filter.owned,
            link_statuses=LINK_STATUSES,
            owner_only=OWNER_ONLY_MARKINGS,
            among=case_filter.among,
        )

    render = partial(render_cases, scope, sealed=sealed)
    page = await read_page(given, read, render, descending=True)
    return CasePage(page.items, page.more, page.backward, page.beyond, case_filter)


async def count_cases(scope: Scope, *, case_filter: CaseFilter) -> int:
    """How many cases the filter matches for the caller."""
    scope.require(Operation.READ_CASES)
    case_filter = await narrowed(scope, case_filter)
    return await scope.store.count_visible_cases(
        viewer_agency_id=scope.caller().agency_id,
        now=scope.now,
        filters=case_filter.columns(),
        owned_only=case_filter.owned,
        link_statuses=LINK_STATUSES,
        owner_only=OWNER_ONLY_MARKINGS,
        among=case_filter.among,
    )


async def narrowed(scope: Scope, case_filter: CaseFilter) -> CaseFilter:
    """The filter with the cases holding its identifier looked up (once, and audited)."""
    if case_filter.identifier is None or case_filter.among is not None:
        return case_filter
    async with detached(scope) as own, audit.mutation(own, "case.identifier_search") as entry:
        entry.details = {"kind": case_filter.identifier.kind.value}
        among = await identifier_index.cases_holding(
            own, case_filter.identifier, ["filter", "identifier"]
        )
        entry.details["cases"] = len(among)
    return replace(case_filter, among=frozenset(among))


async def _check_reference_free(scope: Scope, agency_id: UUID, reference: str) -> None:
    if await scope.store.case_reference_taken(agency_id, reference):
        raise ValidationFailed("Your agency already has a case with this reference.", ["reference"])


async def open_case(
    scope: Scope,
    *,
    reference: str,
    title: str,
    summary: str,
    category: CaseCategory,
    tlp: Tlp,
    handling_code: HandlingCode,
) -> CaseView:
    """Open a case owned by the caller's agency, its summary encrypted under a new data key."""
    async with audit.mutation(scope, "case.open") as entry:
        principal = scope.require(Operation.OPEN_CASE)
        check.text(reference, field=["reference"], max_length=REFERENCE_MAX)
        check.text(title, field=["title"], max_length=TITLE_MAX)
        check.text(summary, field=["summary"], max_length=SUMMARY_MAX, multiline=True)
        await _check_reference_free(scope, principal.agency_id, reference)
        case_id = new_id()
        owner = principal.agency_id
        key = keys.create_key(scope, case_id, owner)
        now = scope.now
        row = CaseRow(
            id=case_id,
            owner_agency_id=owner,
            reference=reference,
            title=title,
            summary=CASE_SUMMARY.seal(key, case_id, owner, summary),
            category=category.value,
            status=CaseStatus.OPEN.value,
            tlp=tlp.value,
            handling_code=handling_code.value,
            version=1,
            created_by=principal.id,
            created_at=now,
            updated_at=now,
        )
        scope.store.add(row)
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = "Case", case_id, owner
        grant = CaseGrant(access=Access.OWNER, owner_agency_id=owner)
        scope.grants[case_id] = grant
    return case_view(row, grant, key)


async def update_case(
    scope: Scope,
    *,
    case_id: UUID,
    expected_version: int,
    title: str | None = None,
    summary: str | None = None,
    category: CaseCategory | None = None,
    status: CaseStatus | None = None,
    tlp: Tlp | None = None,
    handling_code: HandlingCode | None = None,
) -> CaseView:
    """Change a case if nobody changed it since `expected_version`; CONFLICT otherwise."""
    async with audit.mutation(scope, "case.update") as entry:
        await scope.store.lock_case(case_id, sight(scope))
        row, grant = await authorize(scope, case_id, Action.UPDATE_CASE, "id")
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "Case",
            case_id,
            row.owner_agency_id,
        )
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = check.text(title, field=["title"], max_length=TITLE_MAX)
        if summary is not None:
            check.text(summary, field=["summary"], max_length=SUMMARY_MAX, multiline=True)
            refuse_if_shredded(row, "summary")
            key = (await keys.viewer_keys(scope, [case_id]))[case_id]
            if key is None:
                raise Conflict("The case's key is not available to your agency.", ["id"])
            values["summary"] = CASE_SUMMARY.seal(key, case_id, row.owner_agency_id, summary)
        if category is not None:
            values["category"] = category.value
        if status is not None:
            values["status"] = status.value
        if tlp is not None:
            check_reclassification(
                new_tlp=tlp,
                active_shares=await scope.store.count_active_shares(case_id, scope.now),
                live_links=await scope.store.count_case_links(case_id, LINK_STATUSES),
            )
            values["tlp"] = tlp.value
        if handling_code is not None:
            values["handling_code"] = handling_code.value
        if not values:
            raise ValidationFailed("Give at least one field to change.", ["input"])
        values["updated_at"] = scope.now
        if not await scope.store.update_case_if_version(case_id, expected_version, values):
            raise Conflict(
                "The case was changed since you read it; read it again and retry.",
                ["expectedVersion"],
            )
        entry.details = {"fields": sorted(values)}
    fresh = await scope.store.case_for_update(case_id)
    assert fresh is not None
    case_key = (await readable_keys(scope, {case_id: grant}))[case_id]
    return case_view(fresh, grant, case_key)
