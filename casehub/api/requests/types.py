"""GraphQL types of cooperation requests, their events (with receipts), thread and evidence."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from casehub.api.agencies.types import Agency, AgencySigningKey, agency_of
from casehub.api.cases.types import Case
from casehub.api.context import Info

# Importing the enums registers the domain's as GraphQL enums too.
from casehub.api.enums import EvidenceRole, MessageKind
from casehub.api.ids import to_global_id
from casehub.api.relay import Node
from casehub.api.revealed import revealed
from casehub.domain.enums import EvidenceKind, IdentifierKind
from casehub.domain.requests.content import particulars_from_json
from casehub.domain.requests.transitions import (
    FulfilOutcome,
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
    Side,
)
from casehub.domain.signatures.statements import StepStatus
from casehub.domain.signatures.states import SignerRole
from casehub.services import views
from casehub.services.views import Sealed


@strawberry.type(description="An account identifier named in a request.")
class AccountIdentifier:
    kind: IdentifierKind = strawberry.field(description="Kind of identifier.")
    value: str = strawberry.field(description="The identifier.")
    platform: str | None = strawberry.field(description="Platform of a messenger handle.")
    chain: str | None = strawberry.field(description="Chain of a crypto wallet.")


@strawberry.type(description="Structured statements of a request (encrypted at rest).")
class RequestParticulars:
    offence: str | None = strawberry.field(description="The offence investigated.")
    data_to_preserve: str | None = strawberry.field(description="What data is to be preserved.")
    custodian_or_location: str | None = strawberry.field(
        description="Who holds the data, or where it is."
    )
    follow_up_mla: bool | None = strawberry.field(
        description="Whether a mutual legal assistance request will follow (preservation)."
    )
    imminent_threat: str | None = strawberry.field(
        description="The imminent threat to life or limb (emergencies)."
    )
    account_identifiers: list[AccountIdentifier] = strawberry.field(
        description="Accounts, handles or wallets concerned."
    )
    content_locations: list[str] = strawberry.field(
        description="Where content to remove is (URLs, message links)."
    )


@strawberry.type(description="The hub's signed receipt of an event (Ed25519, chained).")
class Receipt:
    digest: str = strawberry.field(description="SHA-256 over the event and the previous digest.")
    prev_digest: str = strawberry.field(description="Digest of the previous receipt (or zeros).")
    signature: str = strawberry.field(description="Ed25519 signature of the digest, base64url.")
    key_id: str = strawberry.field(
        description="Hub key that signed; see /.well-known/casehub-receipts.json."
    )
    event_json: str = strawberry.field(description="The signed event in canonical JSON.")


@strawberry.type(description="One step of a request: who moved it from which state to which.")
class RequestEvent:
    id: strawberry.ID = strawberry.field(description="Opaque id of the event.")
    seq: int = strawberry.field(
        description="Hub-wide position; pass the last one seen as `since` to resume."
    )
    number: int = strawberry.field(description="Position in the request's own chain (from 1).")
    action: RequestAction = strawberry.field(description="The step.")
    from_status: RequestStatus | None = strawberry.field(description="State before.")
    to_status: RequestStatus = strawberry.field(description="State after.")
    occurred_at: datetime = strawberry.field(description="When (UTC).")
    receipt: Receipt = strawberry.field(description="The hub's signed receipt.")
    _request_id: strawberry.Private[UUID]
    _actor_agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The request's id.")
    def request_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("CooperationRequest", self._request_id))

    @strawberry.field(description="The agency whose principal took the step.")
    async def actor_agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._actor_agency_id)

    @classmethod
    def of(cls, view: views.RequestEventView) -> RequestEvent:
        """Render an event view."""
        return cls(
            id=strawberry.ID(str(view.id)),
            seq=view.seq,
            number=view.number,
            action=view.action,
            from_status=view.from_status,
            to_status=view.to_status,
            occurred_at=view.occurred_at,
            receipt=Receipt(
                digest=view.digest,
                prev_digest=view.prev_digest,
                signature=view.signature,
                key_id=view.key_id,
                event_json=view.payload,
            ),
            _request_id=view.request_id,
            _actor_agency_id=view.actor_agency_id,
        )


@strawberry.type(description="A message of a request's thread (decline and withdraw reasons too).")
class RequestMessage:
    id: strawberry.ID = strawberry.field(description="Opaque id of the message.")
    kind: MessageKind = strawberry.field(
        description="What the message is: a post, a reason or the fulfilment's message."
    )
    created_at: datetime = strawberry.field(description="When (UTC).")
    _body: strawberry.Private[Sealed]
    _author_agency_id: strawberry.Private[UUID]

    body = revealed("_body", "The text (decrypted for the two parties).")

    @strawberry.field(description="The author's agency.")
    async def author_agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._author_agency_id)

    @classmethod
    def of(cls, view: views.RequestMessageView) -> RequestMessage:
        """Render a message view."""
        return cls(
            id=strawberry.ID(str(view.id)),
            kind=MessageKind(view.kind),
            created_at=view.created_at,
            _body=view.body,
            _author_agency_id=view.author_agency_id,
        )


@strawberry.type(
    description=(
        "Evidence attached by the requester (readable by the requested agency while the request "
        "is open) or supplied with the fulfilment (readable by the requester)."
    )
)
class RequestEvidence:
    role: EvidenceRole = strawberry.field(
        description="Attached by the requester or supplied with the fulfilment."
    )
    evidence_id: strawberry.ID = strawberry.field(description="Global id of the evidence item.")
    kind: EvidenceKind = strawberry.field(description="Form of the item.")
    title: str = strawberry.field(description="Title.")
    sha256: str = strawberry.field(description="SHA-256 of the content.")
    size_bytes: int = strawberry.field(description="Size in bytes.")
    media_type: str | None = strawberry.field(description="Media type.")
    collected_at: datetime | None = strawberry.field(description="When collected (UTC).")
    _description: strawberry.Private[Sealed]
    _content: strawberry.Private[Sealed]

    description = revealed("_description", "Description (decrypted for both parties).")

    @strawberry.field(description="Content as base64 (decrypted for both parties).")
    def content_base64(self, info: Info) -> str | None:
        content = self._content.reveal_bytes(info.context.scope)
        return None if content is None else base64.b64encode(content).decode("ascii")

    @classmethod
    def of(cls, view: views.RequestEvidenceView) -> RequestEvidence:
        """Render an evidence copy."""
        return cls(
            role=EvidenceRole(view.role),
            evidence_id=strawberry.ID(to_global_id("Evidence", view.evidence_id)),
            kind=view.kind,
            title=view.title,
            sha256=view.sha256,
            size_bytes=view.size_bytes,
            media_type=view.media_type,
            collected_at=view.collected_at,
            _description=view.description,
            _content=view.content,
        )


@strawberry.type(description="An agency signature on a request step, verified.")
class StepSignature:
    role: SignerRole = strawberry.field(
        description="SIGNER: the agency taking the step; COUNTERSIGNER: the supervisor "
        "approving the submission."
    )
    event_number: int = strawberry.field(description="The event the signature is on.")
    statement: str = strawberry.field(
        description="The signed statement, RFC 8785 canonical JSON (docs/SIGNATURES.md)."
    )
    signature: str = strawberry.field(description="The signature over the statement's bytes.")
    status: StepStatus = strawberry.field(description="VERIFIED or INVALID.")
    reason: str | None = strawberry.field(description="What does not check out, if anything.")
    key: AgencySigningKey = strawberry.field(
        description="The key that signed, with the hub's accreditation and any revocation."
    )
    _agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The signing agency.")
    async def agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._agency_id)

    @classmethod
    def of(cls, view: views.SignatureCheckView) -> StepSignature:
        """Render a checked signature."""
        return cls(
            role=view.role,
            event_number=view.event_number,
            statement=view.statement,
            signature=view.signature,
            status=view.status,
            reason=view.reason,
            key=AgencySigningKey.of(view.key),
            _agency_id=view.agency_id,
        )


@strawberry.type(description="A signable step of a request and how its signatures verify.")
class StepVerification:
    event_number: int = strawberry.field(description="The step's event.")
    action: RequestAction = strawberry.field(description="The step.")
    status: StepStatus = strawberry.field(
        description="VERIFIED (every signature good), UNSIGNED, or INVALID."
    )
    reason: str | None = strawberry.field(description="What does not check out, if anything.")
    required: bool = strawberry.field(
        description="The hub's signing policy requires this step to be signed."
    )
    signatures: list[StepSignature] = strawberry.field(
        description="The signatures; an approval lists the submission's too."
    )

    @classmethod
    def of(cls, view: views.StepVerificationView) -> StepVerification:
        """Render a step's verification."""
        return cls(
            event_number=view.event_number,
            action=view.action,
            status=view.status,
            reason=view.reason,
            required=view.required,
            signatures=[StepSignature.of(item) for item in view.signatures],
        )


@strawberry.type(description="A cooperation request between two agencies.")
class CooperationRequest(Node):
    kind: RequestKind = strawberry.field(description="What is asked.")
    priority: Priority = strawberry.field(description="How urgent.")
    legal_basis: str | None = strawberry.field(description="Treaty or law article relied on.")
    title: str = strawberry.field(description="Short clear-text title.")
    status: RequestStatus = strawberry.field(description="Where the request stands.")
    outcome: FulfilOutcome | None = strawberry.field(description="FULL or PARTIAL once fulfilled.")
    version: int = strawberry.field(description="Increases with every step.")
    created_at: datetime = strawberry.field(description="When drafted (UTC).")
    updated_at: datetime = strawberry.field(description="Last step (UTC).")
    submitted_at: datetime | None = strawberry.field(description="When submitted (UTC).")
    acknowledge_by: datetime | None = strawberry.field(description="Acknowledgement deadline.")
    decide_by: datetime | None = strawberry.field(description="Decision deadline.")
    due_at: datetime | None = strawberry.field(description="Execution deadline.")
    hold_until: datetime | None = strawberry.field(
        description="Preserved data must be kept at least until then (preservation)."
    )
    is_overdue: bool = strawberry.field(description="The step it waits on is past its deadline.")
    viewer_side: Side = strawberry.field(description="REQUESTER or REQUESTED.")
    _view: strawberry.Private[views.RequestView]

    @strawberry.field(description="The requesting agency.")
    async def requester(self, info: Info) -> Agency | None:
        return await agency_of(info, self._view.requester_agency_id)

    @strawberry.field(description="The requested agency.")
    async def requested(self, info: Info) -> Agency | None:
        return await agency_of(info, self._view.requested_agency_id)

    @strawberry.field(description="The request text (decrypted for the two parties).")
    def body(self, info: Info) -> str | None:
        return self._view.body.reveal(info.context.scope)

    @strawberry.field(description="Structured statements (decrypted for the two parties).")
    def particulars(self, info: Info) -> RequestParticulars | None:
        text = self._view.particulars.reveal(info.context.scope)
        if text is None:
            return None
        given = particulars_from_json(text)
        return RequestParticulars(
            offence=given.offence,
            data_to_preserve=given.data_to_preserve,
            custodian_or_location=given.custodian_or_location,
            follow_up_mla=given.follow_up_mla,
            imminent_threat=given.imminent_threat,
            account_identifiers=[
                AccountIdentifier(
                    kind=item.kind, value=item.value, platform=item.platform, chain=item.chain
                )
                for item in given.account_identifiers
            ],
            content_locations=list(given.content_locations),
        )

    @strawberry.field(description="The linked case, if any and if the viewer may see it.")
    async def case(
        self, info: Info
    ) -> Annotated[Case, strawberry.lazy("casehub.api.cases.types")] | None:
        if self._view.case_id is None:
            return None
        view = await info.context.loaders.case.load(self._view.case_id)
        return None if view is None else Case.of(view)

    @strawberry.field(description="Every step so far, with signed receipts, in order.")
    async def events(self, info: Info) -> list[RequestEvent]:
        key = (self._view.id, self._view.viewer_side)
        return [
            RequestEvent.of(view) for view in await info.context.loaders.request_events.load(key)
        ]

    @strawberry.field(
        description="Each step that can be signed (submit, approve, accept, decline, fulfil) "
        "and how its agency signatures verify: with the agency's key and the hub's "
        "accreditation, against the request as stored, and committed to by the step's receipt. "
        "A tool can re-check every signature itself (docs/SIGNATURES.md)."
    )
    async def verification(self, info: Info) -> list[StepVerification]:
        key = (self._view.id, self._view.viewer_side)
        loaded = await info.context.loaders.request_verification.load(key)
        return [StepVerification.of(view) for view in loaded]

    @strawberry.field(description="The thread, oldest first.")
    async def messages(self, info: Info) -> list[RequestMessage]:
        key = (self._view.id, self._view.viewer_side)
        return [RequestMessage.of(v) for v in await info.context.loaders.request_messages.load(key)]

    @strawberry.field(description="Evidence attached or supplied.")
    async def evidence(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description=(
                    "Only these items (evidence ids), e.g. to read their contentBase64, which "
                    "an operation may ask for only a few times; every item when null."
                )
            ),
        ] = None,
    ) -> list[RequestEvidence]:
        key = (self._view.id, self._view.viewer_side)
        found = [
            RequestEvidence.of(v) for v in await info.context.loaders.request_evidence.load(key)
        ]
        return found if ids is None else [item for item in found if item.evidence_id in ids]

    @classmethod
    def of(cls, view: views.RequestView) -> CooperationRequest:
        """Render a request view."""
        return cls(
            id=strawberry.ID(to_global_id("CooperationRequest", view.id)),
            kind=view.kind,
            priority=view.priority,
            legal_basis=view.legal_basis,
            title=view.title,
            status=view.status,
            outcome=view.outcome,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
            submitted_at=view.submitted_at,
            acknowledge_by=view.acknowledge_by,
            decide_by=view.decide_by,
            due_at=view.due_at,
            hold_until=view.hold_until,
            is_overdue=view.is_overdue,
            viewer_side=view.viewer_side,
            _view=view,
        )
