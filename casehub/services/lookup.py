"""Look-ups by id for `node`/`nodes`: every object the caller cannot see is simply absent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from casehub.crypto import DataKey
from casehub.persistence.tables import CustodyEventRow, IdentifierRow, SubjectRow
from casehub.services import agencies, cases, evidence, request_reads, sharing
from casehub.services.access import visible_cases
from casehub.services.cases import readable_keys
from casehub.services.evidence import custody_view
from casehub.services.runtime import Scope
from casehub.services.subjects import identifier_view, subject_view

CaseChild = SubjectRow | IdentifierRow | CustodyEventRow


async def _in_visible_cases(
    scope: Scope,
    rows: Sequence[CaseChild],
    render: Callable[[Any, UUID, DataKey | None], object],
) -> dict[UUID, object]:
    """Render the rows whose case the caller sees, with that case's owner and readable key."""
    found = await visible_cases(scope, {row.case_id for row in rows})
    grants = {case_id: grant for case_id, (_row, grant) in found.items()}
    case_keys = await readable_keys(scope, dict(grants))
    return {
        row.id: render(row, grants[row.case_id].owner_agency_id, case_keys[row.case_id])
        for row in rows
        if row.case_id in grants
    }


async def subjects_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible subjects among these ids."""
    return await _in_visible_cases(scope, await scope.store.subjects_by_ids(ids), subject_view)


async def identifiers_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible identifiers among these ids."""
    rows = await scope.store.identifiers_by_ids(ids)
    return await _in_visible_cases(scope, rows, identifier_view)


async def custody_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible custody entries among these ids."""
    return await _in_visible_cases(scope, await scope.store.custody_by_ids(ids), custody_view)


async def cases_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible cases among these ids."""
    return dict(await cases.cases_by_ids(scope, ids))


async def agencies_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Agencies among these ids."""
    return dict(await agencies.agencies_by_ids(scope, ids))


async def evidence_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible evidence among these ids."""
    return dict(await evidence.evidence_by_ids(scope, ids))


async def shares_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Shares among these ids that the caller's agency may list."""
    return dict(await sharing.shares_by_ids(scope, ids))


async def requests_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Requests among these ids that the caller is party to."""
    return dict(await request_reads.requests_by_ids(scope, ids))


BY_TYPE = {
    "Agency": agencies_by_ids,
    "Case": cases_by_ids,
    "Subject": subjects_by_ids,
    "Identifier": identifiers_by_ids,
    "Evidence": evidence_by_ids,
    "CustodyEvent": custody_by_ids,
    "CaseShare": shares_by_ids,
    "CooperationRequest": requests_by_ids,
}


async def objects_by_ids(scope: Scope, wanted: Sequence[tuple[str, UUID]]) -> list[object | None]:
    """Each (type name, id) resolved to its view, or None when it does not exist for the caller."""
    scope.caller()
    by_type: dict[str, list[UUID]] = {}
    for type_name, object_id in wanted:
        by_type.setdefault(type_name, []).append(object_id)
    found: dict[tuple[str, UUID], object] = {}
    for type_name, ids in by_type.items():
        for object_id, view in (await BY_TYPE[type_name](scope, ids)).items():
            found[(type_name, object_id)] = view
    return [found.get(key) for key in wanted]
