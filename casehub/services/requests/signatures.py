"""Agency signatures on request steps, as the hub takes them: the statement a step must carry is
computed from the request as the hub holds it, the signature checked against the acting agency's
accredited key, and the signature kept beside the step's event, whose receipt commits to it.

What a statement says, member by member, is docs/SIGNATURES.md; the checks themselves are
casehub.crypto.statements.verify_step, the same the receiver and the offline verifier run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from casehub.crypto.statements import SignedStep, verify_step
from casehub.domain.errors import (
    KeyNotAccredited,
    KeyRevoked,
    SignatureInvalid,
    ValidationFailed,
)
from casehub.domain.ids import new_id
from casehub.domain.requests.transitions import FulfilOutcome, RequestAction
from casehub.domain.signatures.instants import parse_instant
from casehub.domain.signatures.policy import must_sign
from casehub.domain.signatures.statements import (
    StepContent,
    body_sha256,
    expected_statement,
    particulars_normal_form,
    particulars_sha256,
    signature_digest,
    statement_sha256,
)
from casehub.domain.signatures.states import KeyState, key_state
from casehub.persistence import DuplicateError
from casehub.persistence.tables import (
    AgencySigningKeyRow,
    CooperationRequestRow,
    EvidenceRow,
    RequestEventRow,
)
from casehub.services.protected import REQUEST_BODY, REQUEST_PARTICULARS, owner_of
from casehub.services.requests.sealing import request_key
from casehub.services.runtime import Scope

THUMBPRINT_MAX = 64
SIGNATURE_MAX = 6_000  # a hybrid signature is about 4,500 characters
_FIELD = "signature"


@dataclass(frozen=True, slots=True)
class StepSignature:
    """A signature as the client sends it with a step."""

    key_thumbprint: str
    statement: str
    signature: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """A signature that verified, waiting for the event of its step."""

    key: AgencySigningKeyRow
    statement: str
    signature: str
    nonce: str
    issued_at: datetime

    @property
    def digest(self) -> str:
        """What the step's receipt commits to."""
        return signature_digest(self.statement, self.signature)


def signed_step(key: AgencySigningKeyRow, statement: str, signature: str) -> SignedStep:
    """A stored signature with what verifying it needs: the key and the hub's statements."""
    return SignedStep(
        statement=statement,
        signature=signature,
        public_jwk=key.public_jwk,
        accreditation=key.accreditation,
        accreditation_signature=key.accreditation_signature,
        accreditation_key=key.accreditation_key,
        revocation=key.revocation,
        revocation_signature=key.revocation_signature,
    )


async def step_content(
    scope: Scope,
    row: CooperationRequestRow,
    action: RequestAction,
    *,
    evidence: Sequence[EvidenceRow],
    text: str | None,
    outcome: FulfilOutcome | None,
    countersigns: str | None,
) -> StepContent:
    """What the statement of this step must say, from the request as the hub holds it (the
    body and particulars decrypted for the check only: nothing of them leaves the service)."""
    key = await request_key(scope, row.id)
    owner = owner_of(row)
    body = REQUEST_BODY.open(key, row.id, owner, row.body).decode("utf-8")
    particulars = REQUEST_PARTICULARS.open(key, row.id, owner, row.particulars).decode("utf-8")
    return StepContent(
        action=action.value,
        request=row.id,
        kind=row.kind,
        priority=row.priority,
        requester=row.requester_agency_id,
        requested=row.requested_agency_id,
        legal_basis=row.legal_basis,
        body_sha256=body_sha256(body),
        particulars_sha256=particulars_sha256(particulars_normal_form(particulars)),
        evidence_sha256=tuple(item.sha256 for item in evidence),
        text_sha256=None if text is None else body_sha256(text),
        outcome=None if outcome is None else outcome.value,
        countersigns=countersigns,
    )


async def signed_evidence(
    scope: Scope, row: CooperationRequestRow, action: RequestAction, supplied: Sequence[EvidenceRow]
) -> list[EvidenceRow]:
    """The evidence a step's statement lists: attached to the request when it is sent,
    supplied with its fulfilment."""
    if action is RequestAction.FULFIL:
        return list(supplied)
    if action not in (RequestAction.SUBMIT, RequestAction.APPROVE) or row.case_id is None:
        return []  # evidence is attached only with a linked case
    copies = await scope.store.request_evidence([row.id])
    ids = [copy.evidence_id for copy in copies if copy.role == "ATTACHED"]
    return await scope.store.evidence_by_ids(ids)


def signature_required(
    scope: Scope, row: CooperationRequestRow, action: RequestAction, requested_kind: str
) -> bool:
    """Whether the hub's policy (CASEHUB_SIGNED_STEPS) requires this step to be signed."""
    policy = scope.runtime.settings.signed_steps
    return must_sign(policy, action.value, row.priority, requested_kind)


def check_unsigned(required: bool) -> None:
    """Refuse a step that came without a signature the policy requires."""
    if required:
        raise ValidationFailed(
            "This step must carry your agency's signature: give `signature`.", [_FIELD]
        )


async def check_signature(scope: Scope, given: StepSignature, content: StepContent) -> Accepted:
    """The step's signature, verified; the step is refused (typed error, nothing written) when
    it does not verify."""
    principal = scope.caller()
    if len(given.key_thumbprint) > THUMBPRINT_MAX:
        raise ValidationFailed("Not a key thumbprint.", [_FIELD, "keyThumbprint"])
    if len(given.signature) > SIGNATURE_MAX:
        raise ValidationFailed(
            f"A signature is at most {SIGNATURE_MAX} characters.", [_FIELD, "signature"]
        )
    # Read without a lock: keep_signature writes the signature only if the key's revocation
    # is still what this read saw.
    key = await scope.store.signing_key_by_thumbprint(given.key_thumbprint)
    if key is None or key.agency_id != principal.agency_id:
        raise KeyNotAccredited(
            "Your agency has no signing key with this thumbprint.", [_FIELD, "keyThumbprint"]
        )
    expected = expected_statement(
        content, agency=principal.agency_id, principal=principal.id, key=key.thumbprint
    )
    verdict = verify_step(
        signed_step(key, given.statement, given.signature),
        expected=expected,
        hub_keys=scope.runtime.keys.accreditation_public_keys(),
        at_most_skew=scope.runtime.settings.statement_skew_seconds,
        at=scope.now,
    )
    refusal = verdict.refusal()
    if refusal is not None:
        raise refusal
    assert verdict.statement is not None, "a verified statement was read"
    # Good at its issuedAt is not enough: the key must still be good when the hub takes it.
    state = key_state(
        not_before=key.not_before, not_after=key.not_after, revoked_at=key.revoked_at, now=scope.now
    )
    if state is KeyState.REVOKED:
        raise KeyRevoked("The signing key is revoked.", [_FIELD, "keyThumbprint"])
    if state is not KeyState.ACCREDITED:
        raise KeyNotAccredited("The signing key is not accredited now.", [_FIELD, "keyThumbprint"])
    issued = parse_instant(verdict.statement["issuedAt"])
    assert issued is not None, "a verified statement's issuedAt was read"
    return Accepted(key, given.statement, given.signature, verdict.statement["nonce"], issued)


async def keep_signature(
    scope: Scope, accepted: Accepted, request: CooperationRequestRow, event: RequestEventRow
) -> None:
    """Store the signature beside its step's event, which must be flushed. The step is refused
    with it when the nonce was used with this key already (SIGNATURE_INVALID), or when the
    key was revoked since check_signature read it (KEY_REVOKED)."""
    try:
        kept = await scope.store.add_request_signature(
            {
                "id": new_id(),
                "request_id": request.id,
                "event_id": event.id,
                "action": event.action,
                "key_id": accepted.key.id,
                "statement": accepted.statement,
                "signature": accepted.signature,
                "nonce": accepted.nonce,
                "issued_at": accepted.issued_at,
                "created_at": scope.now,
            },
            revoked_at=accepted.key.revoked_at,
        )
    except DuplicateError:
        raise SignatureInvalid(
            "This statement's nonce was used with this key already: sign a new statement.",
            [_FIELD, "statement"],
        ) from None
    if not kept:
        raise KeyRevoked(
            "The signing key was revoked while this step was taken.", [_FIELD, "keyThumbprint"]
        )


async def submission_statement(scope: Scope, request: CooperationRequestRow) -> str | None:
    """The signed statement of the request's submission, which an approval countersigns."""
    for row in reversed(await scope.store.signatures_by_request([request.id])):
        if row.action == RequestAction.SUBMIT.value:
            return row.statement
    return None


def countersigned(statement: str | None) -> str | None:
    """What an approval's statement says it countersigns."""
    return None if statement is None else statement_sha256(statement)
