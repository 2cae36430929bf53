"""The operator's list of cooperation requests past the deadline of the step they wait on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from casehub.domain.requests.transitions import Priority, RequestKind, RequestStatus
from casehub.persistence.tables import CooperationRequestRow
from casehub.services.runtime import Scope

PAGE = 500


class Step(StrEnum):
    """The step of the requested agency that is late."""

    ACKNOWLEDGE = "ACKNOWLEDGE"
    DECIDE = "DECIDE"
    EXECUTE = "EXECUTE"


@dataclass(frozen=True, slots=True)
class OverdueRequest:
    """A request, its two parties' codes, the missed deadline and how long ago it passed."""

    id: UUID
    kind: RequestKind
    priority: Priority
    status: RequestStatus
    requester_code: str
    requested_code: str
    step: Step
    deadline: datetime
    overdue_by: timedelta


def step_of(row: CooperationRequestRow) -> Step:
    """Which deadline the request's pending deadline is, from its state."""
    status = RequestStatus(row.status)
    if status is RequestStatus.SUBMITTED:
        return Step.ACKNOWLEDGE if row.pending_until == row.acknowledge_by else Step.DECIDE
    if status is RequestStatus.ACKNOWLEDGED:
        return Step.DECIDE
    return Step.EXECUTE


async def _rows(scope: Scope, now: datetime) -> AsyncIterator[CooperationRequestRow]:
    after: tuple[datetime, UUID] | None = None
    while True:
        page = await scope.store.overdue_page(now, after, PAGE)
        for row in page:
            yield row
        if len(page) < PAGE:
            return
        last = page[-1]
        assert last.pending_until is not None
        after = (last.pending_until, last.id)


async def overdue_requests(scope: Scope) -> list[OverdueRequest]:
    """Every request past its pending deadline, the longest overdue first (operator read)."""
    now = scope.now
    rows = [row async for row in _rows(scope, now)]
    agency_ids = {row.requester_agency_id for row in rows} | {
        row.requested_agency_id for row in rows
    }
    codes = {row.id: row.code for row in await scope.store.agencies_by_ids(agency_ids)}
    found = []
    for row in rows:
        deadline = row.pending_until
        assert deadline is not None, "the query selects rows with a pending deadline"
        found.append(
            OverdueRequest(
                id=row.id,
                kind=RequestKind(row.kind),
                priority=Priority(row.priority),
                status=RequestStatus(row.status),
                requester_code=codes[row.requester_agency_id],
                requested_code=codes[row.requested_agency_id],
                step=step_of(row),
                deadline=deadline,
                overdue_by=now - deadline,
            )
        )
    return found


def humanize(span: timedelta) -> str:
    """'35d 4h', '3h 12m' or '7m': the two largest units of a span."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
