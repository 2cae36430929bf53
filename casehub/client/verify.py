"""A tool's own check of every agency signature on a request: each statement verified with
casehub.crypto.statements.verify_step against the hub accreditation keys the tool pinned, and
compared with what the tool computed itself from the request as it read it (body, particulars,
evidence digests, step texts), not with anything the hub says about the signature.

What the reader cannot see (the attached evidence once the request has ended, a step text it
may not read) cannot be recomputed: those statement members are taken as signed and listed in
`unchecked`, never silently trusted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from casehub.client.generated import (
    EvidenceRole,
    MessageKind,
    RequestAction,
    RequestVerificationNodeCooperationRequest,
    RequestVerificationNodeCooperationRequestVerification,
    RequestVerificationNodeCooperationRequestVerificationSignatures,
    SignerRole,
    StepStatus,
)
from casehub.client.signing import step_content
from casehub.crypto.statements import SignedStep, StepVerdict, verify_step
from casehub.domain.errors import ValidationFailed
from casehub.domain.signatures.statements import (
    StepContent,
    body_sha256,
    expected_statement,
    parse_statement,
    statement_sha256,
)

_Read = RequestVerificationNodeCooperationRequest
_Signature = RequestVerificationNodeCooperationRequestVerificationSignatures
_Step = RequestVerificationNodeCooperationRequestVerification

# The steps each party signs: the requester sends and approves, the requested agency answers.
_REQUESTER_STEPS = frozenset({RequestAction.SUBMIT, RequestAction.APPROVE})
# The evidence a step's statement lists, by the role of its copy on the request.
_EVIDENCE = {
    RequestAction.SUBMIT: EvidenceRole.ATTACHED,
    RequestAction.APPROVE: EvidenceRole.ATTACHED,
    RequestAction.FULFIL: EvidenceRole.SUPPLIED,
}
# The text a step's statement digests: the message the step posted.
_TEXT = {
    RequestAction.DECLINE: MessageKind.DECLINE_REASON,
    RequestAction.FULFIL: MessageKind.FULFILMENT,
}


@dataclass(frozen=True)
class SignatureCheck:
    """One agency signature: the hub's status for it and the tool's own verdict."""

    event_number: int
    action: RequestAction
    role: SignerRole
    agency: str | None  # the signing agency's code, as the hub names it
    key_thumbprint: str
    hub_status: StepStatus
    verdict: StepVerdict
    # Statement members the reader could not recompute, taken as signed.
    unchecked: tuple[str, ...]

    @property
    def verified(self) -> bool:
        """Whether the tool itself verified the signature."""
        return self.verdict.verified


@dataclass(frozen=True)
class StepCheck:
    """One signable step: whether the hub's policy required a signature, the hub's status,
    and each of its signatures checked by the tool."""

    event_number: int
    action: RequestAction
    required: bool
    hub_status: StepStatus
    signatures: tuple[SignatureCheck, ...]

    @property
    def status(self) -> StepStatus:
        """The tool's own status of the step: UNSIGNED, VERIFIED when every signature is,
        else INVALID."""
        if not self.signatures:
            return StepStatus.UNSIGNED
        good = all(signature.verified for signature in self.signatures)
        return StepStatus.VERIFIED if good else StepStatus.INVALID


@dataclass(frozen=True)
class RequestVerification:
    """Every signable step of a request, checked by the tool."""

    request_id: str
    steps: tuple[StepCheck, ...]

    @property
    def verified(self) -> bool:
        """No signature failed, and every step that had to be signed is."""
        return all(
            step.status is StepStatus.VERIFIED
            or (step.status is StepStatus.UNSIGNED and not step.required)
            for step in self.steps
        )

    @property
    def disagreements(self) -> tuple[StepCheck, ...]:
        """The steps whose status the tool found otherwise than the hub reported."""
        return tuple(step for step in self.steps if step.status is not step.hub_status)


def verify_read(request: _Read, hub_keys: Mapping[str, Any]) -> RequestVerification:
    """Check every signature of a request read by the RequestVerification operation against
    the pinned accreditation JWKS `hub_keys`."""
    submission = submission_statement(request)
    steps = tuple(
        StepCheck(
            event_number=step.event_number,
            action=step.action,
            required=step.required,
            hub_status=step.status,
            signatures=tuple(
                _check(request, signature, _action_of(step, signature), submission, hub_keys)
                for signature in step.signatures
            ),
        )
        for step in request.verification
    )
    return RequestVerification(request.id, steps)


def _action_of(step: _Step, signature: _Signature) -> RequestAction:
    """The step a signature is on: its own, except for the submission's signature an
    approval lists beside its countersignature."""
    return step.action if signature.event_number == step.event_number else RequestAction.SUBMIT


def submission_statement(request: _Read) -> str | None:
    """The submission's signed statement, which an approval countersigns (None when the
    submission is unsigned)."""
    for step in request.verification:
        for signature in step.signatures:
            if _action_of(step, signature) is RequestAction.SUBMIT:
                return signature.statement
    return None


def _check(
    request: _Read,
    signature: _Signature,
    action: RequestAction,
    submission: str | None,
    hub_keys: Mapping[str, Any],
) -> SignatureCheck:
    signed = _signed_members(signature.statement)
    content, unchecked = _expected_content(request, action, submission, signed)
    agency = content.requester if action in _REQUESTER_STEPS else content.requested
    expected = expected_statement(content, agency=agency)
    key = signature.key
    accreditation, revocation = key.accreditation, key.revocation
    step = SignedStep(
        statement=signature.statement,
        signature=signature.signature,
        public_jwk=_jwk(key.public_key),
        accreditation=accreditation.statement if accreditation else None,
        accreditation_signature=accreditation.signature if accreditation else None,
        accreditation_key=accreditation.hub_key if accreditation else None,
        revocation=revocation.statement if revocation else None,
        revocation_signature=revocation.signature if revocation else None,
    )
    return SignatureCheck(
        event_number=signature.event_number,
        action=action,
        role=signature.role,
        agency=signature.agency.code if signature.agency else None,
        key_thumbprint=key.thumbprint,
        hub_status=signature.status,
        verdict=verify_step(step, expected=expected, hub_keys=hub_keys),
        unchecked=unchecked,
    )


def _expected_content(
    request: _Read, action: RequestAction, submission: str | None, signed: Mapping[str, Any]
) -> tuple[StepContent, tuple[str, ...]]:
    """What the step's statement must say, from the request as read; the members the read
    could not supply are taken as signed, and named in the second item."""
    unchecked: list[str] = []

    def readable(member: str, value: Any) -> Any:
        # Nothing read where the statement says something: take it as signed, and say so.
        if value is None and signed.get(member):
            unchecked.append(member)
            return signed[member]
        return value

    outcome = None
    if action is RequestAction.FULFIL and request.outcome is not None:
        outcome = request.outcome.value
    content = step_content(request, action.value, outcome=outcome)
    changes: dict[str, Any] = {}
    if action in _EVIDENCE:
        read = [item.sha_256 for item in request.evidence if item.role is _EVIDENCE[action]]
        listed = readable("evidenceSha256", read or None)
        changes["evidence_sha256"] = tuple(listed) if isinstance(listed, list) else ()
    if action in _TEXT:
        texts = [item.body for item in request.messages if item.kind is _TEXT[action]]
        read_text = next((body_sha256(text) for text in texts if text is not None), None)
        changes["text_sha256"] = readable("textSha256", read_text)
    if action is RequestAction.APPROVE:
        read_submission = None if submission is None else statement_sha256(submission)
        changes["countersigns"] = readable("countersigns", read_submission)
    return replace(content, **changes), tuple(unchecked)


def _signed_members(statement: str) -> dict[str, Any]:
    """The members of a signed statement, or none when it cannot be read (verify_step then
    says why)."""
    try:
        return parse_statement(statement)
    except ValidationFailed:
        return {}


def _jwk(text: str) -> Mapping[str, Any]:
    """The key's JWK, or an empty one (which verify_step refuses) when it is not JSON."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
