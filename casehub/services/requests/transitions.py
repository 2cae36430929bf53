"""Use-case moving a cooperation request along its state machine: each step an event with the
hub's signed receipt, chained per request; the step's deadlines set from the domain's rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from casehub.domain import validation as check
from casehub.domain.cases.sharing import Disclosure, check_disclosure
from casehub.domain.enums import Tlp
from casehub.domain.errors import (
    Conflict,
    Forbidden,
    ValidationErrors,
    ValidationFailed,
)
from casehub.domain.requests import deadlines as due
from casehub.domain.requests.content import missing_content, particulars_from_json
from casehub.domain.requests.transitions import (
    OPEN,
    FulfilOutcome,
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
    next_status,
)
from casehub.domain.roles import Operation
from casehub.domain.signatures.policy import SIGNABLE, needs_approval
from casehub.persistence.tables import CooperationRequestRow
from casehub.services.audit import trail as audit
from casehub.services.protected import REQUEST_PARTICULARS, owner_of
from casehub.services.requests import signatures
from casehub.services.requests.events import announce, post_message, record_event
from casehub.services.requests.evidence import copy_evidence, own_evidence
from casehub.services.requests.lifecycle import load_party
from casehub.services.requests.messages import MESSAGE_MAX
from casehub.services.requests.reads import render_requests
from casehub.services.requests.sealing import request_key
from casehub.services.runtime import Scope
from casehub.services.views import RequestView


def _deadlines_of(row: CooperationRequestRow) -> due.Deadlines | None:
    if row.acknowledge_by is None or row.decide_by is None or row.due_at is None:
        return None
    return due.Deadlines(row.acknowledge_by, row.decide_by, row.due_at, row.hold_until)


async def _zone_of(scope: Scope, agency_id: UUID) -> ZoneInfo:
    agency = (await scope.store.agencies_by_ids([agency_id]))[0]
    return ZoneInfo(agency.timezone)


async def _new_deadlines(
    scope: Scope, row: CooperationRequestRow, action: RequestAction, target: RequestStatus
) -> due.Deadlines | None:
    current = _deadlines_of(row)
    kind, priority = RequestKind(row.kind), Priority(row.priority)
    if _sends(action, target):
        # The clock starts when the request reaches the requested agency: at its approval
        # when it needed one.
        zone = await _zone_of(scope, row.requested_agency_id)
        return due.at_submission(kind, priority, scope.now, zone)
    if action is RequestAction.ACCEPT and current is not None:
        zone = await _zone_of(scope, row.requested_agency_id)
        return due.at_acceptance(current, kind, priority, scope.now, zone)
    return current


async def _check_submission(scope: Scope, row: CooperationRequestRow) -> None:
    key = await request_key(scope, row.id)
    text = REQUEST_PARTICULARS.open(key, row.id, owner_of(row), row.particulars).decode("utf-8")
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


def _sends(action: RequestAction, target: RequestStatus) -> bool:
    """Whether the step sends the request to the requested agency."""
    return action in (RequestAction.SUBMIT, RequestAction.APPROVE) and target is (
        RequestStatus.SUBMITTED
    )


async def _check_four_eyes(scope: Scope, row: CooperationRequestRow) -> str | None:
    """Refuse an approval by the principal who submitted; the statement it countersigns."""
    principal = scope.caller()
    submitted = [
        event
        for event in await scope.store.events_by_request([row.id])
        if event.action == RequestAction.SUBMIT.value
    ]
    if any(event.actor_principal_id == principal.id for event in submitted):
        raise Forbidden(
            "The principal who submitted a request cannot also approve it: four eyes.", ["id"]
        )
    return await signatures.submission_statement(scope, row)


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
    signature: signatures.StepSignature | None = None,
) -> RequestView:
    """Move a request along the state machine; exactly one of two racing moves wins.
    `signature`: the acting agency's signature over the step's statement (docs/SIGNATURES.md),
    verified before anything is written; required where the hub's policy says so."""
    async with audit.mutation(scope, f"request.{action.value.lower()}") as entry:
        party = await load_party(scope, request_id)
        row = party.row
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CooperationRequest",
            row.id,
            row.requester_agency_id,
        )
        # The role first, as for every step: a state or four-eyes answer is for those who may act.
        scope.require(
            Operation.APPROVE_REQUESTS
            if action is RequestAction.APPROVE
            else Operation.ACT_ON_REQUESTS
        )
        status = RequestStatus(row.status)
        requested = (await scope.store.agencies_by_ids([row.requested_agency_id]))[0]
        approval = needs_approval(row.priority, requested.kind)
        target = next_status(status, action, party.side, outcome, approval=approval)
        submission = await _check_four_eyes(scope, row) if action is RequestAction.APPROVE else None
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
        if action in (RequestAction.SUBMIT, RequestAction.APPROVE):
            await _check_link_marking(scope, row)
            await _check_submission(scope, row)
        accepted = None
        if action.value not in SIGNABLE:
            if signature is not None:
                raise ValidationFailed(
                    f"A {action.value.lower()} step is not signed.", ["signature"]
                )
        elif signature is None:
            signatures.check_unsigned(
                signatures.signature_required(scope, row, action, requested.kind)
            )
        else:
            content = await signatures.step_content(
                scope,
                row,
                action,
                evidence=await signatures.signed_evidence(scope, row, action, supplied),
                text=text if action in (RequestAction.DECLINE, RequestAction.FULFIL) else None,
                outcome=outcome,
                countersigns=signatures.countersigned(submission),
            )
            accepted = await signatures.check_signature(scope, signature, content)
        deadlines = await _new_deadlines(scope, row, action, target)
        values: dict[str, Any] = {
            "status": target.value,
            "updated_at": scope.now,
            "pending_until": due.pending_deadline(target, deadlines),
        }
        if _sends(action, target):
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
        event = await record_event(
            scope,
            row,
            action,
            status,
            target,
            message,
            signatures=() if accepted is None else (accepted.digest,),
        )
        if accepted is not None:
            await signatures.keep_signature(scope, accepted, row, event)
        entry.details = {"from": status.value, "to": target.value}
    await announce(scope, event)
    fresh = (await scope.store.requests_by_ids([request_id]))[0]
    return (await render_requests(scope, [fresh]))[0]
