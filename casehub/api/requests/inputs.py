"""GraphQL inputs of the cooperation-request mutations and filter."""

from __future__ import annotations

import strawberry

from casehub.api import enums as _registered  # noqa: F401  (registers the GraphQL enums)
from casehub.api.cases.inputs import IdentifierInput
from casehub.domain.requests.content import Particulars
from casehub.domain.requests.transitions import (
    Direction,
    FulfilOutcome,
    Priority,
    RequestKind,
    RequestStatus,
)
from casehub.services.requests.signatures import StepSignature


@strawberry.input(description="Structured statements; which are required depends on the kind.")
class RequestParticularsInput:
    offence: str | None = strawberry.field(default=None, description="The offence investigated.")
    data_to_preserve: str | None = strawberry.field(
        default=None, description="What data to preserve (EVIDENCE_PRESERVATION)."
    )
    custodian_or_location: str | None = strawberry.field(
        default=None, description="Who holds the data or where it is (EVIDENCE_PRESERVATION)."
    )
    follow_up_mla: bool | None = strawberry.field(
        default=None, description="A mutual legal assistance request will follow (preservation)."
    )
    imminent_threat: str | None = strawberry.field(
        default=None, description="The imminent threat (EMERGENCY priority, EMERGENCY_DISCLOSURE)."
    )
    account_identifiers: list[IdentifierInput] = strawberry.field(
        default_factory=list, description="Accounts concerned (DATA_DISCLOSURE, ASSET_FREEZE …)."
    )
    content_locations: list[str] = strawberry.field(
        default_factory=list, description="Where the content is (CONTENT_REMOVAL)."
    )

    def to_domain(self) -> Particulars:
        """The particulars as the services take them."""
        return Particulars(
            offence=self.offence,
            data_to_preserve=self.data_to_preserve,
            custodian_or_location=self.custodian_or_location,
            follow_up_mla=self.follow_up_mla,
            imminent_threat=self.imminent_threat,
            account_identifiers=tuple(item.to_domain() for item in self.account_identifiers),
            content_locations=tuple(self.content_locations),
        )


@strawberry.input(description="A new request, created as a DRAFT only the requester sees.")
class CreateCooperationRequestInput:
    requested_agency_id: strawberry.ID = strawberry.field(description="The agency asked.")
    kind: RequestKind = strawberry.field(description="What is asked.")
    priority: Priority = strawberry.field(default=Priority.ROUTINE, description="How urgent.")
    legal_basis: str | None = strawberry.field(
        default=None, description="Treaty or law article relied on (≤ 500)."
    )
    title: str = strawberry.field(description="Short clear-text title (≤ 200).")
    body: str = strawberry.field(description="The request text, encrypted (≤ 50,000).")
    case_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A case your agency owns; the requested agency sees its clear "
        "fields while the request is being handled.",
    )
    evidence_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Evidence of the linked case the requested agency may read while it is open.",
    )
    particulars: RequestParticularsInput | None = strawberry.field(
        default=None, description="Structured statements required by the kind."
    )


@strawberry.input(
    description="Your agency's detached signature over the step's statement (docs/SIGNATURES.md)."
)
class StepSignatureInput:
    key_thumbprint: str = strawberry.field(
        description="The thumbprint of your agency's accredited key that signed."
    )
    statement: str = strawberry.field(
        description="The statement, RFC 8785 canonical JSON, exactly the bytes signed (≤ 8 KiB)."
    )
    signature: str = strawberry.field(
        description="The signature over the statement's bytes: base64url Ed25519, or for a "
        "hybrid key the Ed25519 and ML-DSA-65 signatures joined by a dot (≤ 6,000)."
    )

    def to_domain(self) -> StepSignature:
        """The signature as the services take it."""
        return StepSignature(self.key_thumbprint, self.statement, self.signature)


SIGNATURE_DESCRIPTION = (
    "Your agency's signature over the step's statement. Submit, accept, decline and fulfil "
    "take one (required where the hub's policy says: by default for EMERGENCY requests and "
    "requests to a SERVICE_PROVIDER); other steps refuse it."
)


@strawberry.input(description="A step that needs only the request.")
class RequestStepInput:
    id: strawberry.ID = strawberry.field(description="The request.")
    signature: StepSignatureInput | None = strawberry.field(
        default=None, description=SIGNATURE_DESCRIPTION
    )


@strawberry.input(description="Decline or withdraw: the reason is required.")
class RequestReasonInput:
    id: strawberry.ID = strawberry.field(description="The request.")
    reason: str = strawberry.field(description="Why (sent to the other party, encrypted).")
    signature: StepSignatureInput | None = strawberry.field(
        default=None, description=SIGNATURE_DESCRIPTION
    )


@strawberry.input(description="Approve (countersign) a request awaiting approval.")
class ApproveCooperationRequestInput:
    id: strawberry.ID = strawberry.field(description="The request.")
    signature: StepSignatureInput = strawberry.field(
        description="Your agency's signature over the APPROVE statement, which countersigns "
        "the submission's statement."
    )


@strawberry.input(description="Fulfil an accepted request.")
class FulfilCooperationRequestInput:
    id: strawberry.ID = strawberry.field(description="The request.")
    outcome: FulfilOutcome = strawberry.field(description="FULL or PARTIAL.")
    message: str = strawberry.field(description="The response (encrypted).")
    evidence_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Evidence of your cases supplied to the requester, who reads it in full.",
    )
    signature: StepSignatureInput | None = strawberry.field(
        default=None, description=SIGNATURE_DESCRIPTION
    )


@strawberry.input(description="A message to the other party.")
class AddCooperationMessageInput:
    id: strawberry.ID = strawberry.field(description="The request.")
    body: str = strawberry.field(description="The text (encrypted, ≤ 20,000).")


@strawberry.input(description="Narrowing of the `cooperationRequests` list.")
class CooperationRequestFilter:
    direction: Direction | None = strawberry.field(
        default=None, description="INCOMING (sent to you) or OUTGOING (sent by you)."
    )
    status: list[RequestStatus] | None = strawberry.field(
        default=None, description="Only these states."
    )
    overdue: bool | None = strawberry.field(
        default=None, description="true: only requests past the deadline of their current step."
    )
