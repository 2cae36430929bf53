"""Reads of cooperation requests for their parties: lists, look-ups, events, thread, evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain import paging
from casehub.domain.cases.policy import reads_attached
from casehub.domain.enums import EvidenceKind, Tlp
from casehub.domain.paging import KeyRange
from casehub.domain.requests import deadlines as due
from casehub.domain.requests.transitions import (
    FulfilOutcome,
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
    Side,
    reaches_requested,
)
from casehub.domain.roles import Operation
from casehub.persistence.tables import (
    CooperationRequestRow,
    RequestEventRow,
    RequestEvidenceRow,
    RequestMessageRow,
)
from casehub.services import caps
from casehub.services.keys import data_keys as keys
from casehub.services.paging import Listed, read_page
from casehub.services.protected import (
    MESSAGE_BODY,
    REQUEST_BODY,
    REQUEST_EVIDENCE_CONTENT,
    REQUEST_EVIDENCE_DESCRIPTION,
    REQUEST_PARTICULARS,
    owner_of,
)
from casehub.services.runtime import Scope
from casehub.services.views import (
    RequestEventView,
    RequestEvidenceView,
    RequestMessageView,
    RequestView,
)


def _side(scope: Scope, row: CooperationRequestRow) -> Side | None:
    agency = scope.caller().agency_id
    if row.requester_agency_id == agency:
        return Side.REQUESTER
    if row.requested_agency_id == agency and reaches_requested(row.submitted_at is not None):
        return Side.REQUESTED
    return None


def request_view(
    scope: Scope, row: CooperationRequestRow, side: Side, key: DataKey | None
) -> RequestView:
    """Render a request for one of its parties."""
    status = RequestStatus(row.status)
    owner = owner_of(row)
    deadlines = (
        due.Deadlines(row.acknowledge_by, row.decide_by, row.due_at, row.hold_until)
        if row.acknowledge_by and row.decide_by and row.due_at
        else None
    )
    return RequestView(
        id=row.id,
        requester_agency_id=row.requester_agency_id,
        requested_agency_id=row.requested_agency_id,
        kind=RequestKind(row.kind),
        priority=Priority(row.priority),
        legal_basis=row.legal_basis,
        title=row.title,
        body=REQUEST_BODY.sealed(row.body, key, row.id, owner),
        particulars=REQUEST_PARTICULARS.sealed(row.particulars, key, row.id, owner),
        case_id=row.case_id,
        status=status,
        outcome=FulfilOutcome(row.outcome) if row.outcome else None,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        acknowledge_by=row.acknowledge_by,
        decide_by=row.decide_by,
        due_at=row.due_at,
        hold_until=row.hold_until,
        is_overdue=due.is_overdue(status, deadlines, scope.now),
        viewer_side=side,
    )


async def render_requests(
    scope: Scope, rows: Sequence[CooperationRequestRow], *, sealed: bool = True
) -> list[RequestView]:
    """Views of the rows the caller is party to, in order (one key query). `sealed=False`
    leaves their protected fields without a key, for a caller that reads none of them (a
    compiled plan that selects none): no wrap is read or opened."""
    scope.require(Operation.READ_REQUESTS)
    sides = {row.id: _side(scope, row) for row in rows}
    party = [row.id for row in rows if sides[row.id]]
    party_keys = await keys.viewer_keys(scope, party) if sealed else dict.fromkeys(party)
    return [
        request_view(scope, row, side, party_keys[row.id])
        for row in rows
        if (side := sides[row.id]) is not None
    ]


async def requests_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, RequestView]:
    """The requests among these ids the caller is party to (others are never read: a hidden
    request and a missing one take the same path)."""
    rows = await scope.store.party_requests_by_ids(ids, scope.caller().agency_id)
    return {view.id: view for view in await render_requests(scope, rows)}


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Narrowing of the requests list."""

    direction: str | None = None
    statuses: tuple[RequestStatus, ...] = ()
    overdue: bool = False


async def list_requests(
    scope: Scope,
    *,
    request_filter: RequestFilter,
    first: int | None,
    after: UUID | None,
    last: int | None = None,
    before: UUID | None = None,
    sealed: bool = True,
) -> Listed[RequestView]:
    """Newest first, the requests the caller's agency sent or received."""
    scope.require(Operation.READ_REQUESTS)
    given = paging.window(first=first, after=after, last=last, before=before)

    async def read(keys: KeyRange[UUID]) -> list[CooperationRequestRow]:
        return await scope.store.requests_page(
            agency_id=scope.caller().agency_id,
            direction=request_filter.direction,
            statuses=[status.value for status in request_filter.statuses] or None,
            overdue_at=scope.now if request_filter.overdue else None,
            keys=keys,
        )

    render = partial(render_requests, scope, sealed=sealed)
    return await read_page(given, read, render, descending=True)


async def count_requests(scope: Scope, *, request_filter: RequestFilter) -> int:
    """How many requests the filter matches for the caller."""
    scope.require(Operation.READ_REQUESTS)
    return await scope.store.count_requests(
        agency_id=scope.caller().agency_id,
        direction=request_filter.direction,
        statuses=[status.value for status in request_filter.statuses] or None,
        overdue_at=scope.now if request_filter.overdue else None,
    )


def event_view(row: RequestEventRow) -> RequestEventView:
    """Render an event with its receipt."""
    return RequestEventView(
        id=row.id,
        seq=row.seq or 0,
        request_id=row.request_id,
        number=row.number,
        action=RequestAction(row.action),
        from_status=RequestStatus(row.from_status) if row.from_status else None,
        to_status=RequestStatus(row.to_status),
        actor_agency_id=row.actor_agency_id,
        occurred_at=row.occurred_at,
        message_id=row.message_id,
        digest=row.digest,
        prev_digest=row.prev_digest,
        signature=row.signature,
        key_id=row.key_id,
        payload=row.payload,
    )


def _sees(side: Side, row: RequestEventRow) -> bool:
    return side is Side.REQUESTER or row.visible_to_requested


async def events_of(
    scope: Scope, requests: Sequence[tuple[UUID, Side]]
) -> dict[UUID, list[RequestEventView]]:
    """Events of (request id, viewer side) pairs already shown to the caller, by request."""
    scope.require(Operation.READ_REQUESTS)
    sides = dict(requests)
    grouped: dict[UUID, list[RequestEventView]] = {request_id: [] for request_id in sides}
    per_request = caps.events_per_request(scope.runtime.settings)
    for row in await scope.store.events_by_request(sides, per_request):
        if _sees(sides[row.request_id], row):
            grouped[row.request_id].append(event_view(row))
    for events in grouped.values():
        events.sort(key=lambda event: event.number)
    return grouped


async def messages_of(
    scope: Scope, requests: Sequence[tuple[UUID, Side]]
) -> dict[UUID, list[RequestMessageView]]:
    """Thread messages of requests already shown to the caller, by request."""
    scope.require(Operation.READ_REQUESTS)
    sides = dict(requests)
    rows = await scope.store.requests_by_ids(sides)
    owners = {row.id: owner_of(row) for row in rows}
    party_keys = await keys.viewer_keys(scope, list(sides))
    grouped: dict[UUID, list[RequestMessageView]] = {request_id: [] for request_id in sides}
    per_request = caps.messages_per_request(scope.runtime.settings)
    for message in await scope.store.messages_by_request(sides, per_request):
        grouped[message.request_id].append(
            message_view(message, party_keys[message.request_id], owners[message.request_id])
        )
    return grouped


def message_view(
    message: RequestMessageRow, key: DataKey | None, owner: UUID
) -> RequestMessageView:
    """Render a message of a request whose ciphertexts are bound to `owner`."""
    return RequestMessageView(
        id=message.id,
        request_id=message.request_id,
        kind=message.kind,
        author_agency_id=message.author_agency_id,
        body=MESSAGE_BODY.sealed(message.body, key, message.id, owner),
        created_at=message.created_at,
    )


def _shows(
    side: Side, copy: RequestEvidenceRow, request: CooperationRequestRow, linked: dict[UUID, Tlp]
) -> bool:
    """Whether a party reads this copy: the policy decides what the requested agency reads of
    attached evidence (nothing of a case marked AMBER_STRICT, even linked before that rule)."""
    if side is Side.REQUESTER or copy.role != "ATTACHED":
        return True
    tlp = linked.get(request.case_id) if request.case_id else None
    return tlp is not None and reads_attached(tlp=tlp, status=RequestStatus(request.status))


async def evidence_of(
    scope: Scope, requests: Sequence[tuple[UUID, Side]]
) -> dict[UUID, list[RequestEvidenceView]]:
    """Evidence copies of requests already shown to the caller, by request."""
    scope.require(Operation.READ_REQUESTS)
    sides = dict(requests)
    rows = {row.id: row for row in await scope.store.requests_by_ids(sides)}
    copies = await scope.store.request_evidence(sides, caps.EVIDENCE_PER_REQUEST)
    wanted = {
        row.case_id for row in rows.values() if row.case_id and sides[row.id] is Side.REQUESTED
    }
    linked = {case.id: Tlp(case.tlp) for case in await scope.store.cases_by_ids(wanted)}
    copies = [
        copy
        for copy in copies
        if _shows(sides[copy.request_id], copy, rows[copy.request_id], linked)
    ]
    originals = {
        row.id: row for row in await scope.store.evidence_by_ids(c.evidence_id for c in copies)
    }
    party_keys = await keys.viewer_keys(scope, list(sides))
    grouped: dict[UUID, list[RequestEvidenceView]] = {request_id: [] for request_id in sides}
    for copy in copies:
        original = originals[copy.evidence_id]
        key, owner = party_keys[copy.request_id], owner_of(rows[copy.request_id])
        description = REQUEST_EVIDENCE_DESCRIPTION.sealed(copy.description, key, copy.id, owner)
        content = REQUEST_EVIDENCE_CONTENT.sealed(copy.content, key, copy.id, owner)
        grouped[copy.request_id].append(
            RequestEvidenceView(
                id=copy.id,
                evidence_id=copy.evidence_id,
                request_id=copy.request_id,
                role=copy.role,
                kind=EvidenceKind(original.kind),
                title=original.title,
                sha256=original.sha256,
                size_bytes=original.size_bytes,
                media_type=original.media_type,
                collected_at=original.collected_at,
                description=description,
                content=content,
            )
        )
    return grouped


async def events_between(
    scope: Scope, *, after: tuple[int, int], before: tuple[int, int], limit: int = 100
) -> list[tuple[tuple[int, int], RequestEventView]]:
    """Events between two feed positions that the caller's agency may see, in feed order, each
    with its position (for live inboxes)."""
    scope.require(Operation.READ_REQUESTS)
    rows = await scope.store.events_between(scope.caller().agency_id, after, before, limit)
    return [(position, event_view(row)) for position, row in rows]
