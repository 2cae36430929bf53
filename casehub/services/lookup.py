"""Look-ups by id for `node`/`nodes`: every object the caller cannot see is simply absent.

Absent from the first statement on: each look-up carries the visibility rule in its SQL
(`access.seen`), so an object of a case the caller cannot see and an id naming nothing take
the same path and the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain.roles import Operation
from casehub.persistence.tables import CustodyEventRow, IdentifierRow, SubjectRow
from casehub.services.agencies import agencies
from casehub.services.cases import cases, evidence, sharing
from casehub.services.cases.access import seen, visible_cases
from casehub.services.cases.cases import readable_keys
from casehub.services.cases.evidence import custody_view
from casehub.services.cases.subjects import identifier_view, subject_view
from casehub.services.requests import reads as request_reads
from casehub.services.runtime import Scope

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
    return await _in_visible_cases(scope, await seen(scope, SubjectRow, ids), subject_view)


async def identifiers_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible identifiers among these ids."""
    rows = await seen(scope, IdentifierRow, ids)
    return await _in_visible_cases(scope, rows, identifier_view)


async def custody_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, object]:
    """Visible custody entries among these ids."""
    return await _in_visible_cases(scope, await seen(scope, CustodyEventRow, ids), custody_view)


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


# What reading an object of each type is, in the role table.
OPERATIONS = {
    "Agency": Operation.READ_DIRECTORY,
    "Case": Operation.READ_CASES,
    "Subject": Operation.READ_CASES,
    "Identifier": Operation.READ_CASES,
    "Evidence": Operation.READ_CASES,
    "CustodyEvent": Operation.READ_CASES,
    # Listing shares is narrower (owner's AGENCY_ADMIN or INVESTIGATOR), decided per case.
    "CaseShare": Operation.READ_CASES,
    "CooperationRequest": Operation.READ_REQUESTS,
}

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
    """Each (type name, id) resolved to its view, or None when it does not exist for the caller.

    FORBIDDEN when the caller's roles may not read one of the types asked for (a HUB_ADMIN
    token and a case): decided from the ids' types alone, before any look-up, so the refusal
    is the same for an object that exists, one hidden from the caller and one that never was.
    """
    by_type: dict[str, list[UUID]] = {}
    for type_name, object_id in wanted:
        by_type.setdefault(type_name, []).append(object_id)
    for type_name in by_type:
        scope.require(OPERATIONS[type_name])
    found: dict[tuple[str, UUID], object] = {}
    for type_name, ids in by_type.items():
        for object_id, view in (await BY_TYPE[type_name](scope, ids)).items():
            found[(type_name, object_id)] = view
    return [found.get(key) for key in wanted]
