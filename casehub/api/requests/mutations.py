"""Mutations on cooperation requests: each decodes its input and calls one service."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry

from casehub.api.context import Info
from casehub.api.ids import parse_id_of
from casehub.api.payloads import INPUT, payload, respond
from casehub.api.requests.inputs import (
    AddCooperationMessageInput,
    ApproveCooperationRequestInput,
    CreateCooperationRequestInput,
    FulfilCooperationRequestInput,
    RequestReasonInput,
    RequestStepInput,
    StepSignatureInput,
)
from casehub.api.requests.types import CooperationRequest, RequestMessage
from casehub.domain.requests.transitions import FulfilOutcome, RequestAction
from casehub.services.requests import lifecycle, messages, transitions


@payload("Result of a request mutation.")
class CooperationRequestPayload:
    request: CooperationRequest | None = strawberry.field(
        description="The request after the step, unless refused."
    )


@payload("Result of addCooperationMessage.")
class AddCooperationMessagePayload:
    message: RequestMessage | None = strawberry.field(description="The new message.")


def _evidence_ids(values: list[strawberry.ID]) -> list[UUID]:
    return [
        parse_id_of("Evidence", value, ["evidenceIds", str(index)])
        for index, value in enumerate(values)
    ]


async def _step(
    info: Info,
    raw_id: str,
    action: RequestAction,
    text: str | None = None,
    outcome: FulfilOutcome | None = None,
    evidence_ids: list[strawberry.ID] | None = None,
    signature: StepSignatureInput | None = None,
) -> CooperationRequestPayload:
    scope = info.context.scope
    return await respond(
        CooperationRequestPayload,
        lambda: transitions.transition(
            scope,
            request_id=parse_id_of("CooperationRequest", raw_id, ["id"]),
            action=action,
            text=text,
            outcome=outcome,
            evidence_ids=_evidence_ids(evidence_ids or []),
            signature=None if signature is None else signature.to_domain(),
        ),
        CooperationRequest.of,
    )


@strawberry.type(description="Changes to cooperation requests.")
class RequestMutation:
    @strawberry.mutation(description="Draft a request to another agency (LIAISON_OFFICER).")
    async def create_cooperation_request(
        self, info: Info, input: Annotated[CreateCooperationRequestInput, INPUT]
    ) -> CooperationRequestPayload:
        scope = info.context.scope
        return await respond(
            CooperationRequestPayload,
            lambda: lifecycle.create_request(
                scope,
                requested_agency_id=parse_id_of(
                    "Agency", input.requested_agency_id, ["requestedAgencyId"]
                ),
                kind=input.kind,
                priority=input.priority,
                title=input.title,
                body=input.body,
                legal_basis=input.legal_basis,
                case_id=None
                if input.case_id is None
                else parse_id_of("Case", input.case_id, ["caseId"]),
                evidence_ids=_evidence_ids(input.evidence_ids),
                particulars=None if input.particulars is None else input.particulars.to_domain(),
            ),
            CooperationRequest.of,
        )

    @strawberry.mutation(description="Submit a draft (requester); deadlines start now.")
    async def submit_cooperation_request(
        self, info: Info, input: Annotated[RequestStepInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.SUBMIT, signature=input.signature)

    @strawberry.mutation(description="Acknowledge receipt (requested agency).")
    async def acknowledge_cooperation_request(
        self, info: Info, input: Annotated[RequestStepInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.ACKNOWLEDGE, signature=input.signature)

    @strawberry.mutation(description="Accept to execute the request (requested agency).")
    async def accept_cooperation_request(
        self, info: Info, input: Annotated[RequestStepInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.ACCEPT, signature=input.signature)

    @strawberry.mutation(description="Decline, with the reason (requested agency).")
    async def decline_cooperation_request(
        self, info: Info, input: Annotated[RequestReasonInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(
            info, input.id, RequestAction.DECLINE, text=input.reason, signature=input.signature
        )

    @strawberry.mutation(
        description="Fulfil an accepted request in FULL or PARTIAL, with a message and evidence."
    )
    async def fulfil_cooperation_request(
        self, info: Info, input: Annotated[FulfilCooperationRequestInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(
            info,
            input.id,
            RequestAction.FULFIL,
            text=input.message,
            outcome=input.outcome,
            evidence_ids=input.evidence_ids,
            signature=input.signature,
        )

    @strawberry.mutation(description="Withdraw a request, with the reason (requester).")
    async def withdraw_cooperation_request(
        self, info: Info, input: Annotated[RequestReasonInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(
            info, input.id, RequestAction.WITHDRAW, text=input.reason, signature=input.signature
        )

    @strawberry.mutation(description="Close a fulfilled or declined request (requester).")
    async def close_cooperation_request(
        self, info: Info, input: Annotated[RequestStepInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.CLOSE, signature=input.signature)

    @strawberry.mutation(
        description="Approve a request awaiting approval (SUPERVISOR of the requesting agency, "
        "never the principal who submitted it): it reaches the requested agency now, and its "
        "deadlines start."
    )
    async def approve_cooperation_request(
        self, info: Info, input: Annotated[ApproveCooperationRequestInput, INPUT]
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.APPROVE, signature=input.signature)

    @strawberry.mutation(description="Post a message to the other party of a request.")
    async def add_cooperation_message(
        self, info: Info, input: Annotated[AddCooperationMessageInput, INPUT]
    ) -> AddCooperationMessagePayload:
        scope = info.context.scope
        return await respond(
            AddCooperationMessagePayload,
            lambda: messages.add_message(
                scope,
                request_id=parse_id_of("CooperationRequest", input.id, ["id"]),
                body=input.body,
            ),
            RequestMessage.of,
        )
