"""An agency administrator's view of the audit trail: who did what to its agency's objects
(whoever the actor), and what its own principals did."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from casehub.domain import paging
from casehub.domain import validation as check
from casehub.domain.audit.access import actor_name_shown, shown_details
from casehub.domain.errors import ValidationFailed
from casehub.domain.paging import KeyRange
from casehub.domain.roles import Operation
from casehub.persistence.tables import AuditEventRow
from casehub.services import caps
from casehub.services.paging import Listed, read_page
from casehub.services.runtime import Scope


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Narrowing of the events listed; `since` inclusive, `until` exclusive."""

    action: str | None = None
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class FieldRead:
    """Protected fields of one object decrypted for the actor (names only)."""

    object_type: str
    object_id: UUID
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuditEventView:
    """One event as an administrator of the agency may see it."""

    id: UUID
    seq: int
    occurred_at: datetime
    action: str
    outcome: str
    actor_agency_id: UUID | None
    actor_name: str | None
    object_type: str | None
    object_id: UUID | None
    reads: tuple[FieldRead, ...]
    details: tuple[tuple[str, str], ...]


def _checked(scope: Scope, given: AuditFilter) -> tuple[UUID, dict[str, Any]]:
    """The caller's agency (AGENCY_ADMIN only) and the filter as query arguments."""
    agency_id = scope.require(Operation.READ_AUDIT).agency_id
    since = check.utc(given.since, field=["filter", "since"])
    until = check.utc(given.until, field=["filter", "until"])
    if since is not None and until is not None and since >= until:
        raise ValidationFailed("Must be later than since.", ["filter", "until"])
    for value, name in ((given.action, "action"), (given.object_type, "objectType")):
        if value is not None and not 0 < len(value) <= 64:
            raise ValidationFailed("Must be 1 to 64 characters.", ["filter", name])
    return agency_id, {
        "action": given.action,
        "object_type": given.object_type,
        "since": since,
        "until": until,
    }


def _view(agency_id: UUID, row: AuditEventRow, principal_name: str | None) -> AuditEventView:
    details: dict[str, Any] = json.loads(row.details)
    reads = tuple(
        FieldRead(item["type"], UUID(item["id"]), tuple(item["fields"]))
        # Events recorded before reads were split keep their first objects here (the log
        # keeps them all).
        for item in details.get("objects", [])[: caps.FIELD_READS_PER_EVENT]
    )
    return AuditEventView(
        id=row.id,
        seq=row.seq or 0,
        occurred_at=row.occurred_at,
        action=row.action,
        outcome=row.outcome,
        actor_agency_id=row.actor_agency_id,
        actor_name=principal_name if actor_name_shown(agency_id, row.actor_agency_id) else None,
        object_type=row.object_type,
        object_id=row.object_id,
        reads=reads,
        details=tuple(
            (key, json.dumps(value, sort_keys=True))
            for key, value in sorted(shown_details(details).items())
        ),
    )


async def list_audit_events(
    scope: Scope,
    *,
    audit_filter: AuditFilter,
    first: int | None,
    after: int | None,
    last: int | None = None,
    before: int | None = None,
) -> Listed[AuditEventView]:
    """Newest first, the events about the caller's agency's objects or by its principals."""
    agency_id, arguments = _checked(scope, audit_filter)
    given = paging.window(first=first, after=after, last=last, before=before)

    async def read(keys: KeyRange[int]) -> list[tuple[AuditEventRow, str | None]]:
        return await scope.store.audit_events_page(agency_id=agency_id, keys=keys, **arguments)

    async def render(rows: list[tuple[AuditEventRow, str | None]]) -> list[AuditEventView]:
        return [_view(agency_id, row, name) for row, name in rows]

    return await read_page(given, read, render, descending=True)


async def count_audit_events(scope: Scope, *, audit_filter: AuditFilter) -> int:
    """How many events the filter matches for the caller's agency."""
    agency_id, arguments = _checked(scope, audit_filter)
    return await scope.store.count_audit_events(agency_id=agency_id, **arguments)
