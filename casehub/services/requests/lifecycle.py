"""Use-cases on cooperation requests: create, every transition, messages; each step is an
event with the hub's signed receipt, chained per request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from casehub.crypto import FieldContext, open_field
from casehub.domain import validation as check
from casehub.domain.bounds import check_room
from casehub.domain.cases.sharing import Disclosure, check_disclosure
from casehub.domain.enums import Access, Tlp
from casehub.domain.errors import Conflict, Forbidden, NotFound, ValidationErrors, ValidationFailed
from casehub.domain.identifiers import checked_identifier
from casehub.domain.ids import new_id
from casehub.domain.requests import deadlines as due
from casehub.domain.requests.content import Particulars, missing_content
from casehub.domain.requests.transitions import (
    OPEN,
    FulfilOutcome,
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
    Side,
    next_status,
    reaches_requested,
)
from casehub.domain.roles import Operation
from casehub.persistence.tables import (
    CooperationRequestRow,
    RequestMessageRow,
)
from casehub.services.audit import trail as audit
from casehub.services.cases.access import visible_cases
from casehub.services.keys import data_keys as keys
from casehub.services.requests.events import announce, post_message, record_event
from casehub.services.requests.evidence import EVIDENCE_MAX, copy_evidence, own_evidence
from casehub.services.requests.sealing import (
    owner_of,
    particulars_from_json,
    particulars_json,
    request_key,
    seal_request_field,
)
from casehub.services.runtime import Scope

TITLE_MAX = 200
BODY_MAX = 50_000
LEGAL_BASIS_MAX = 500
MESSAGE_MAX = 20_000
FIELD_MAX = 5_000


@dataclass(frozen=True, slots=True)
class Party:
    """A request as loaded for one of its parties."""

    row: CooperationRequestRow
    side: Side


async def load_party(scope: Scope, request_id: UUID, field: str = "id") -> Party:
    """The request if the caller's agency is party to it; NOT_FOUND for everyone else."""
    agency = scope.caller().agency_id
    # Another agency's request is never read: it and a missing id take the same path.
    rows = await scope.store.party_requests_by_ids([request_id], agency)
    if rows:
        row = rows[0]
        if row.requester_agency_id == agency:
            return Party(row, Side.REQUESTER)
        if row.requested_agency_id == agency and reaches_requested(row.submitted_at is not None):
            return Party(row, Side.REQUESTED)
    raise NotFound("No such cooperation request.", [field])


def _checked_particulars(particulars: Particulars, region: str | None) -> Particulars:
    path = "particulars"
    for name in ("offence", "data_to_preserve", "custodian_or_location", "imminent_threat"):
        camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
        check.optional_text(
            getattr(particulars, name), field=[path, camel], max_length=FIELD_MAX, multiline=True
        )
    if len(particulars.account_identifiers) > EVIDENCE_MAX:
        raise ValidationFailed(f"At most {EVIDENCE_MAX}.", [path, "accountIdentifiers"])
    if len(particulars.content_locations) > EVIDENCE_MAX:
        raise ValidationFailed(f"At most {EVIDENCE_MAX}.", [path, "contentLocations"])
    for index, location in enumerate(particulars.content_locations):
        check.text(location, field=[path, "contentLocations", str(index)], max_length=2_000)
    identifiers = tuple(
        checked_identifier(
            item, field=[path, "accountIdentifiers", str(index)], default_region=region
        )
        for index, item in enumerate(particulars.account_identifiers)
    )
    return Particulars(
        offence=particulars.offence,
        data_to_preserve=particulars.data_to_preserve,
        custodian_or_location=particulars.custodian_or_location,
        follow_up_mla=particulars.follow_up_mla,
        imminent_threat=particulars.imminent_threat,
        account_identifiers=identifiers,
        content_locations=particulars.content_locations,
    )


async def create_request(
    scope: Scope,
    *,
    requested_agency_id: UUID,
    kind: RequestKind,
    priority: Priority,
    title: str,
    body: str,
    legal_basis: str | None = None,
    particulars: Particulars | None = None,
    case_id: UUID | None = None,
    evidence_ids: Sequence[UUID] = (),
) -> CooperationRequestRow:
    """Draft a request to another agency; only the requester sees it until it is submitted."""
    async with audit.mutation(scope, "request.create") as entry:
        principal = scope.require(Operation.ACT_ON_REQUESTS)
        check.text(title, field=["title"], max_length=TITLE_MAX)
        check.text(body, field=["body"], max_length=BODY_MAX, multiline=True)
        check.optional_text(legal_basis, field=["legalBasis"], max_length=LEGAL_BASIS_MAX)
        own = await scope.store.agencies_by_ids([principal.agency_id])
        region = own[0].jurisdiction if own else None
        checked = _checked_particulars(particulars or Particulars(), region)
        if requested_agency_id == principal.agency_id:
            raise ValidationFailed("A request goes to another agency.", ["requestedAgencyId"])
        if not await scope.store.agencies_by_ids([requested_agency_id]):
            raise NotFound("No such agency.", ["requestedAgencyId"])
        if case_id is not None:
            found = (await visible_cases(scope, [case_id])).get(case_id)
            if found is None:
                raise NotFound("No such case.", ["caseId"])
            if found[1].access is not Access.OWNER:
                raise Forbidden("Only a case your agency owns can be linked.", ["caseId"])
            check_disclosure(tlp=Tlp(found[0].tlp), way=Disclosure.REQUEST_LINK, field=["caseId"])
        elif evidence_ids:
            raise ValidationFailed(
                "Attach evidence of a linked case: give caseId.", ["evidenceIds"]
            )
        evidence = await own_evidence(scope, evidence_ids, case_id, "evidenceIds")
        request_id = new_id()
        owner = principal.agency_id
        key = keys.create_key(scope, request_id, owner)
        await keys.grant_key(scope, request_id, requested_agency_id)
        now = scope.now
        row = CooperationRequestRow(
            id=request_id,
            requester_agency_id=owner,
            requested_agency_id=requested_agency_id,
            kind=kind.value,
            priority=priority.value,
            legal_basis=legal_basis,
            title=title,
            body=seal_request_field(key, request_id, owner, "body", body),
            particulars=seal_request_field(
                key, request_id, owner, "particulars", particulars_json(checked)
            ),
            case_id=case_id,
            status=RequestStatus.DRAFT.value,
            version=1,
            created_by=principal.id,
            created_at=now,
            updated_at=now,
        )
        scope.store.add(row)
        await scope.store.flush()
        await copy_evidence(scope, row, evidence, "ATTACHED")
        event = await record_event(scope, row, RequestAction.CREATE, None, RequestStatus.DRAFT)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CooperationRequest",
            request_id,
            owner,
        )
    await announce(scope, event)
    return row


def _deadlines_of(row: CooperationRequestRow) -> due.Deadlines | None:
    if row.acknowledge_by is None or row.decide_by is None or row.due_at is None:
        return None
    return due.Deadlines(row.acknowledge_by, row.decide_by, row.due_at, row.hold_until)


async def _zone_of(scope: Scope, agency_id: UUID) -> ZoneInfo:
    agency = (await scope.store.agencies_by_ids([agency_id]))[0]
    return ZoneInfo(agency.timezone)


async def _new_deadlines(
    scope: Scope, row: CooperationRequestRow, action: RequestAction
) -> due.Deadlines | None:
    current = _deadlines_of(row)
    kind, priority = RequestKind(row.kind), Priority(row.priority)
    if action is RequestAction.SUBMIT:
        zone = await _zone_of(scope, row.requested_agency_id)
        return due.at_submission(kind, priority, scope.now, zone)
    if action is RequestAction.ACCEPT and current is not None:
        zone = await _zone_of(scope, row.requested_agency_id)
        return due.at_acceptance(current, kind, priority, scope.now, zone)
    return current


async def _check_submission(scope: Scope, row: CooperationRequestRow) -> None:
    key = await request_key(scope, row.id)
    text = open_field(
        key,
        FieldContext("cooperation_request", "particulars", row.id, owner_of(row)),
        row.particulars,
    ).decode("utf-8")
    problems = missing_content(
        RequestKind(row.kind), Priority(row.priority), row.legal_basis, particulars_from_json(text)
    )
    if problems:
        raise ValidationErrors(problems)


async def _check_link_marking(scope: Scope, row: CooperationRequestRow) -> None:
    """Refuse submitting a request whose linked case was marked AMBER_STRICT after the draft.

    The case's row stays locked until the submission commits, so a reclassification either
    comes first (and is seen here) or waits and then counts this request as a live link.
    """
    if row.case_id is None:
        return
    await scope.store.lock_case(row.case_id)
    case = await scope.store.case_for_update(row.case_id)
    assert case is not None, "a linked case is never deleted"
    check_disclosure(tlp=Tlp(case.tlp), way=Disclosure.REQUEST_LINK, field=["id"])


_MESSAGE_KIND = {
    RequestAction.DECLINE: "DECLINE_REASON",
    RequestAction.WITHDRAW: "WITHDRAW_REASON",
    RequestAction.FULFIL: "FULFILMENT",
}


async def transition(
    scope: Scope,
    *,
    request_id: UUID,
    action: RequestAction,
    text: str | None = None,
    outcome: FulfilOutcome | None = None,
    evidence_ids: Sequence[UUID] = (),
) -> CooperationRequestRow:
    """Move a request along the state machine; exactly one of two racing moves wins."""
    async with audit.mutation(scope, f"request.{action.value.lower()}") as entry:
        party = await load_party(scope, request_id)
        row = party.row
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CooperationRequest",
            row.id,
            row.requester_agency_id,
        )
        scope.require(Operation.ACT_ON_REQUESTS)
        status = RequestStatus(row.status)
        target = next_status(status, action, party.side, outcome)
        if action in (RequestAction.DECLINE, RequestAction.WITHDRAW):
            check.text(text or "", field=["reason"], max_length=MESSAGE_MAX, multiline=True)
        if action is RequestAction.FULFIL:
            if outcome is None:
                raise ValidationFailed(
                    "Say whether the request was fulfilled in FULL or PARTIAL.", ["outcome"]
                )
            check.text(text or "", field=["message"], max_length=MESSAGE_MAX, multiline=True)
        supplied = (
            await own_evidence(scope, evidence_ids, None, "evidenceIds")
            if action is RequestAction.FULFIL
            else []
        )
        if action is RequestAction.SUBMIT:
            await _check_link_marking(scope, row)
            await _check_submission(scope, row)
        deadlines = await _new_deadlines(scope, row, action)
        values: dict[str, Any] = {
            "status": target.value,
            "updated_at": scope.now,
            "pending_until": due.pending_deadline(target, deadlines),
        }
        if action is RequestAction.SUBMIT:
            values["submitted_at"] = scope.now
        if deadlines is not None:
            values.update(
                acknowledge_by=deadlines.acknowledge_by,
                decide_by=deadlines.decide_by,
                due_at=deadlines.due_at,
                hold_until=deadlines.hold_until,
            )
        if outcome is not None:
            values["outcome"] = outcome.value
        if not await scope.store.update_request_if_version(row.id, row.version, values):
            raise Conflict("The request changed at the same time; read it again.", ["id"])
        message = (
            await post_message(scope, row, _MESSAGE_KIND[action], text)
            if action in _MESSAGE_KIND
            else None
        )
        if supplied:
            await copy_evidence(scope, row, supplied, "SUPPLIED")
        if status in OPEN and target not in OPEN:
            # The requested agency's reading of attached evidence ends with the open request.
            await scope.store.drop_request_evidence(row.id, "ATTACHED")
        event = await record_event(scope, row, action, status, target, message)
        entry.details = {"from": status.value, "to": target.value}
    await announce(scope, event)
    return (await scope.store.requests_by_ids([request_id]))[0]


async def add_message(scope: Scope, *, request_id: UUID, body: str) -> RequestMessageRow:
    """Post to a request's thread; both parties read it (a closed request takes no more)."""
    async with audit.mutation(scope, "request.message") as entry:
        party = await load_party(scope, request_id)
        row = party.row
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CooperationRequest",
            row.id,
            row.requester_agency_id,
        )
        scope.require(Operation.ACT_ON_REQUESTS)
        check.text(body, field=["body"], max_length=MESSAGE_MAX, multiline=True)
        status = RequestStatus(row.status)
        if status in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN):
            raise ValidationFailed(f"A {status.value} request takes no more messages.", ["id"])
        # Counted under the request's lock: concurrent posts cannot both take the last place.
        await scope.store.lock_request(row.id)
        check_room(
            await scope.store.count_messages(row.id, "MESSAGE"),
            maximum=scope.runtime.settings.max_messages_per_request,
            holder="A request's thread",
            items="messages",
            field=["id"],
        )
        message = await post_message(scope, row, "MESSAGE", body)
        event = await record_event(scope, row, RequestAction.MESSAGE, status, status, message)
    await announce(scope, event)
    return message
