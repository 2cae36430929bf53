"""The verification of a request's signed steps for its parties: each signature re-checked with
the agency's key and the hub's accreditation (casehub.crypto.statements.verify_step), its
statement compared with the request as stored now, and the step's receipt checked to commit to
it. A row written into the database by someone without the agency's key shows as UNSIGNED or
INVALID here, and fails the offline bundle verification the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from casehub.crypto.statements import verify_step
from casehub.domain.requests.transitions import RequestAction, Side
from casehub.domain.roles import Operation
from casehub.domain.signatures import verdicts
from casehub.domain.signatures.policy import SIGNABLE, must_sign
from casehub.domain.signatures.statements import (
    StepContent,
    StepStatus,
    body_sha256,
    expected_statement,
    first_mismatch,
    particulars_normal_form,
    particulars_sha256,
    signature_digest,
    statement_sha256,
)
from casehub.domain.signatures.states import SignerRole
from casehub.persistence.tables import (
    AgencySigningKeyRow,
    CooperationRequestRow,
    RequestEventRow,
    RequestSignatureRow,
)
from casehub.services import caps
from casehub.services.agencies.signing_keys import signing_key_view
from casehub.services.protected import MESSAGE_BODY, REQUEST_BODY, REQUEST_PARTICULARS, owner_of
from casehub.services.requests.sealing import request_key
from casehub.services.requests.signatures import signed_step
from casehub.services.runtime import Scope
from casehub.services.views import SignatureCheckView, StepVerificationView

# The statement members the request as stored still tells, whatever happened since: the
# evidence a step listed is checked when the step is taken (attached copies are dropped when
# the request closes), and issuedAt, nonce and key only by the signature and accreditation.
_STABLE_ONLY = frozenset({"evidenceSha256", "issuedAt", "nonce", "key"})
RECEIPT = "receipt"  # the step's receipt does not commit to this signature
MISSING = "signature missing"  # the receipt commits to a signature that is not there
EXTRA = "signature extra"  # the step has more signatures than the hub ever keeps


async def verification_of(
    scope: Scope, requests: Sequence[tuple[UUID, Side]]
) -> dict[UUID, list[StepVerificationView]]:
    """Each signable step of requests already shown to the caller, verified, by request."""
    scope.require(Operation.READ_REQUESTS)
    sides = dict(requests)
    rows = {row.id: row for row in await scope.store.requests_by_ids(sides)}
    per_request = caps.events_per_request(scope.runtime.settings)
    events: dict[UUID, list[RequestEventRow]] = {request_id: [] for request_id in sides}
    for event in await scope.store.events_by_request(sides, per_request):
        events[event.request_id].append(event)
    signatures: dict[UUID, list[RequestSignatureRow]] = {}
    for signature in await scope.store.signatures_by_request(sides):
        signatures.setdefault(signature.event_id, []).append(signature)
    keys = {
        key.id: key
        for key in await scope.store.signing_keys_by_ids(
            {row.key_id for found in signatures.values() for row in found}
        )
    }
    hub_keys = scope.runtime.keys.accreditation_public_keys()
    kinds = {
        agency.id: agency.kind
        for agency in await scope.store.agencies_by_ids(
            {row.requested_agency_id for row in rows.values()}
        )
    }
    policy = scope.runtime.settings.signed_steps
    found: dict[UUID, list[StepVerificationView]] = {}
    for request_id, side in sides.items():
        request = rows[request_id]
        ordered = sorted(events[request_id], key=lambda event: event.number)
        checker = _Checker(
            ordered,
            signatures,
            keys,
            await _content(scope, request, ordered),
            hub_keys,
            scope.now,
            scope.runtime.settings.statement_skew_seconds,
        )
        kind = kinds[request.requested_agency_id]
        found[request_id] = [
            replace(
                checker.step(event),
                required=must_sign(policy, event.action, request.priority, kind),
            )
            for event in ordered
            if event.action in SIGNABLE and (side is Side.REQUESTER or event.visible_to_requested)
        ]
    return found


async def _content(
    scope: Scope, request: CooperationRequestRow, events: Sequence[RequestEventRow]
) -> dict[str, Any]:
    """The digests of what the request holds now, and of each event's message, by name."""
    key = await request_key(scope, request.id)
    owner = owner_of(request)
    body = REQUEST_BODY.open(key, request.id, owner, request.body).decode("utf-8")
    particulars = REQUEST_PARTICULARS.open(key, request.id, owner, request.particulars)
    messages = {
        message.id: message
        for message in await scope.store.messages_by_request([request.id])
        if any(event.message_id == message.id for event in events)
    }
    texts = {
        message_id: body_sha256(MESSAGE_BODY.open(key, message_id, owner, message.body).decode())
        for message_id, message in messages.items()
    }
    return {
        "request": request,
        "body": body_sha256(body),
        "particulars": particulars_sha256(particulars_normal_form(particulars.decode("utf-8"))),
        "texts": texts,
    }


def _expected(
    event: RequestEventRow, content: Mapping[str, Any], countersigns: str | None
) -> dict[str, Any]:
    request: CooperationRequestRow = content["request"]
    action = RequestAction(event.action)
    text = None if event.message_id is None else content["texts"].get(event.message_id)
    expected = expected_statement(
        StepContent(
            action=action.value,
            request=request.id,
            kind=request.kind,
            priority=request.priority,
            requester=request.requester_agency_id,
            requested=request.requested_agency_id,
            legal_basis=request.legal_basis,
            body_sha256=content["body"],
            particulars_sha256=content["particulars"],
            text_sha256=text if action in (RequestAction.DECLINE, RequestAction.FULFIL) else None,
            outcome=request.outcome if action is RequestAction.FULFIL else None,
            countersigns=countersigns,
        ),
        agency=event.actor_agency_id,
        principal=event.actor_principal_id,
    )
    return {name: value for name, value in expected.items() if name not in _STABLE_ONLY}


@dataclass(frozen=True, slots=True)
class _Checker:
    """Checks the signed steps of one request against what it holds now."""

    events: Sequence[RequestEventRow]
    signatures: Mapping[UUID, list[RequestSignatureRow]]
    keys: Mapping[UUID, AgencySigningKeyRow]
    content: Mapping[str, Any]
    hub_keys: Mapping[str, Any]
    now: datetime
    skew: int

    def step(self, event: RequestEventRow) -> StepVerificationView:
        """The event's signatures, checked; its status."""
        stored = self.signatures.get(event.id, [])
        # One signature a step (the hub keeps one); more were written around it.
        own = stored[:1]
        checks: list[SignatureCheckView] = []
        submission = self._submission(event)
        if submission is not None:
            # An approval countersigns the submission: the receiver sees both signatures
            # here, even where the submission's own event was before the request reached it.
            submitted = next(prior for prior in self.events if prior.id == submission.event_id)
            checks.append(self._check(SignerRole.SIGNER, submission, submitted, None))
        countersigns = None if submission is None else statement_sha256(submission.statement)
        role = SignerRole.COUNTERSIGNER if submission is not None else SignerRole.SIGNER
        checks += [self._check(role, row, event, countersigns) for row in own]
        committed = _committed(event)
        missing = committed - {signature_digest(row.statement, row.signature) for row in own}
        if missing:
            return _step(event, StepStatus.INVALID, MISSING, checks)
        if len(stored) > 1:
            return _step(event, StepStatus.INVALID, EXTRA, checks)
        if not own:
            return _step(event, StepStatus.UNSIGNED, None, checks)
        bad = next((check for check in checks if check.status is not StepStatus.VERIFIED), None)
        if bad is not None:
            return _step(event, StepStatus.INVALID, bad.reason, checks)
        return _step(event, StepStatus.VERIFIED, None, checks)

    def _submission(self, event: RequestEventRow) -> RequestSignatureRow | None:
        """For an approval, the signature of the submission it countersigns."""
        if event.action != RequestAction.APPROVE.value:
            return None
        submissions = [
            row
            for prior in self.events
            if prior.number < event.number and prior.action == RequestAction.SUBMIT.value
            for row in self.signatures.get(prior.id, [])
        ]
        return submissions[-1] if submissions else None

    def _check(
        self,
        role: SignerRole,
        row: RequestSignatureRow,
        event: RequestEventRow,
        countersigns: str | None,
    ) -> SignatureCheckView:
        key = self.keys[row.key_id]
        # issuedAt against the step's own time: a statement backdated before a revocation,
        # with a stolen key and a row written into the database, does not pass as in time.
        verdict = verify_step(
            signed_step(key, row.statement, row.signature),
            expected=None,
            hub_keys=self.hub_keys,
            at=event.occurred_at,
            at_most_skew=self.skew,
        )
        reason = verdict.reason
        if verdict.verified and verdict.statement is not None:
            expected = _expected(event, self.content, countersigns)
            mismatch = first_mismatch(
                expected, {name: verdict.statement.get(name) for name in expected}
            )
            if mismatch is not None:
                reason = verdicts.member_reason(mismatch)
            elif signature_digest(row.statement, row.signature) not in _committed(event):
                reason = RECEIPT
        return SignatureCheckView(
            role=role,
            event_number=event.number,
            agency_id=event.actor_agency_id,
            statement=row.statement,
            signature=row.signature,
            status=StepStatus.VERIFIED if reason is None else StepStatus.INVALID,
            reason=reason,
            key=signing_key_view(key, self.now),
        )


def _committed(event: RequestEventRow) -> set[str]:
    """The signature digests the event's receipt commits to."""
    listed = json.loads(event.payload).get("signatures", [])
    return {item for item in listed if isinstance(item, str)}


def _step(
    event: RequestEventRow,
    status: StepStatus,
    reason: str | None,
    checks: list[SignatureCheckView],
) -> StepVerificationView:
    return StepVerificationView(
        event_number=event.number,
        action=RequestAction(event.action),
        status=status,
        reason=reason,
        required=False,
        signatures=checks,
    )
