"""Look-ups by id for `node`/`nodes`: every object the caller cannot see is simply absent.

Absent from the first statement on: each look-up carries the visibility rule in its SQL
(`access.seen`), so an object of a case the caller cannot see and an id naming nothing take
the same path and the same time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain.roles import Operation
from casehub.persistence.tables import CustodyEventRow, IdentifierRow, SubjectRow
from casehub.services.agencies import agencies, signing_keys
from casehub.services.cases import cases, evidence, sharing
from casehub.services.cases.access import seen, visible_cases
from casehub.services.cases.cases import readable_keys
from casehub.services.cases.custody import custody_view
from casehub.services.cases.subjects import identifier_view, subject_view
from casehub.services.requests import reads as request_reads
from casehub.services.runtime import Scope
from casehub.services.views import CustodyEventView, IdentifierView, SubjectView

Child = TypeVar("Child", SubjectRow, IdentifierRow, CustodyEventRow)
V = TypeVar("V")


@dataclass(frozen=True)
class Reader(Generic[V]):
    """How objects of one type are read by id: what reading one is in the role table, and the
    look-up that finds those among some ids that exist for the caller."""

    operation: Operation
    by_ids: Callable[[Scope, Sequence[UUID]], Awaitable[Mapping[UUID, V]]]


async def _in_visible_cases(
    scope: Scope,
    rows: Sequence[Child],
    render: Callable[[Child, UUID, DataKey | None], V],
) -> dict[UUID, V]:
    """Render the rows whose case the caller sees, with that case's owner and readable key."""
    found = await visible_cases(scope, {row.case_id for row in rows})
    grants = {case_id: grant for case_id, (_row, grant) in found.items()}
    case_keys = await readable_keys(scope, dict(grants))
    return {
        row.id: render(row, grants[row.case_id].owner_agency_id, case_keys[row.case_id])
        for row in rows
        if row.case_id in grants
    }


async def _subjects(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, SubjectView]:
    return await _in_visible_cases(scope, await seen(scope, SubjectRow, ids), subject_view)


async def _identifiers(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, IdentifierView]:
    rows = await seen(scope, IdentifierRow, ids)
    return await _in_visible_cases(scope, rows, identifier_view)


async def _custody(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, CustodyEventView]:
    return await _in_visible_cases(scope, await seen(scope, CustodyEventRow, ids), custody_view)


AGENCIES = Reader(Operation.READ_DIRECTORY, agencies.agencies_by_ids)
CASES = Reader(Operation.READ_CASES, cases.cases_by_ids)
SUBJECTS = Reader(Operation.READ_CASES, _subjects)
IDENTIFIERS = Reader(Operation.READ_CASES, _identifiers)
EVIDENCE = Reader(Operation.READ_CASES, evidence.evidence_by_ids)
CUSTODY = Reader(Operation.READ_CASES, _custody)
# Listing shares is narrower (owner's AGENCY_ADMIN or INVESTIGATOR), decided per case.
SHARES = Reader(Operation.READ_CASES, sharing.shares_by_ids)
# Only the requests the caller is party to.
REQUESTS = Reader(Operation.READ_REQUESTS, request_reads.requests_by_ids)
# Public keys, public like the directory they belong to.
SIGNING_KEYS = Reader(Operation.READ_DIRECTORY, signing_keys.signing_keys_by_ids)


async def objects_by_ids(
    scope: Scope, wanted: Sequence[tuple[Reader[Any], UUID]]
) -> list[object | None]:
    """Each (reader, id) resolved to its view, or None when it does not exist for the caller.

    FORBIDDEN when the caller's roles may not read one of the types asked for (a HUB_ADMIN
    token and a case): decided from the ids' types alone, before any look-up, so the refusal
    is the same for an object that exists, one hidden from the caller and one that never was.
    """
    by_reader: dict[Reader[Any], list[UUID]] = {}
    for reader, object_id in wanted:
        by_reader.setdefault(reader, []).append(object_id)
    for reader in by_reader:
        scope.require(reader.operation)
    found: dict[tuple[Reader[Any], UUID], object] = {}
    for reader, ids in by_reader.items():
        for object_id, view in (await reader.by_ids(scope, ids)).items():
            found[(reader, object_id)] = view
    return [found.get(key) for key in wanted]
