"""Mutations on cooperation requests: each decodes its input and calls one service."""

from __future__ import annotations

import strawberry

from casehub.api.context import Info
from casehub.api.errors import UserError, attempt
from casehub.api.ids import parse_id_of
from casehub.api.requests.inputs import (
    AddCooperationMessageInput,
    CreateCooperationRequestInput,
    FulfilCooperationRequestInput,
    RequestReasonInput,
    RequestStepInput,
)
from casehub.api.requests.types import CooperationRequest, RequestMessage
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import Particulars
from casehub.domain.requests.transitions import FulfilOutcome, RequestAction
from casehub.services.requests import lifecycle as requests
from casehub.services.requests import reads as request_reads
from casehub.services.views import RequestView


@strawberry.type(description="Result of a request mutation.")
class CooperationRequestPayload:
    request: CooperationRequest | None = strawberry.field(
        description="The request after the step, unless refused."
    )
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of addCooperationMessage.")
class AddCooperationMessagePayload:
    message: RequestMessage | None = strawberry.field(description="The new message.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


async def _step(
    info: Info,
    raw_id: str,
    action: RequestAction,
    text: str | None = None,
    outcome: FulfilOutcome | None = None,
    evidence_ids: list[strawberry.ID] | None = None,
) -> CooperationRequestPayload:
    scope = info.context.scope

    async def work() -> RequestView:
        row = await requests.transition(
            scope,
            request_id=parse_id_of("CooperationRequest", raw_id, ["id"]),
            action=action,
            text=text,
            outcome=outcome,
            evidence_ids=[
                parse_id_of("Evidence", value, ["evidenceIds", str(index)])
                for index, value in enumerate(evidence_ids or [])
            ],
        )
        return (await request_reads.render_requests(scope, [row]))[0]

    view, errors = await attempt(work)
    return CooperationRequestPayload(
        request=None if view is None else CooperationRequest.of(view), errors=errors
    )


@strawberry.type(description="Changes to cooperation requests.")
class RequestMutation:
    @strawberry.mutation(description="Draft a request to another agency (LIAISON_OFFICER).")
    async def create_cooperation_request(
        self, info: Info, input: CreateCooperationRequestInput
    ) -> CooperationRequestPayload:
        scope = info.context.scope
        given = input.particulars

        async def work() -> RequestView:
            row = await requests.create_request(
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
                evidence_ids=[
                    parse_id_of("Evidence", value, ["evidenceIds", str(index)])
                    for index, value in enumerate(input.evidence_ids)
                ],
                particulars=None
                if given is None
                else Particulars(
                    offence=given.offence,
                    data_to_preserve=given.data_to_preserve,
                    custodian_or_location=given.custodian_or_location,
                    follow_up_mla=given.follow_up_mla,
                    imminent_threat=given.imminent_threat,
                    account_identifiers=tuple(
                        IdentifierInput(item.kind, item.value, item.platform, item.chain)
                        for item in given.account_identifiers
                    ),
                    content_locations=tuple(given.content_locations),
                ),
            )
            return (await request_reads.render_requests(scope, [row]))[0]

        view, errors = await attempt(work)
        return CooperationRequestPayload(
            request=None if view is None else CooperationRequest.of(view), errors=errors
        )

    @strawberry.mutation(description="Submit a draft (requester); deadlines start now.")
    async def submit_cooperation_request(
        self, info: Info, input: RequestStepInput
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.SUBMIT)

    @strawberry.mutation(description="Acknowledge receipt (requested agency).")
    async def acknowledge_cooperation_request(
        self, info: Info, input: RequestStepInput
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.ACKNOWLEDGE)

    @strawberry.mutation(description="Accept to execute the request (requested agency).")
    async def accept_cooperation_request(
        self, info: Info, input: RequestStepInput
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.ACCEPT)

    @strawberry.mutation(description="Decline, with the reason (requested agency).")
    async def decline_cooperation_request(
        self, info: Info, input: RequestReasonInput
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.DECLINE, text=input.reason)

    @strawberry.mutation(
        description="Fulfil an accepted request in FULL or PARTIAL, with a message and evidence."
    )
    async def fulfil_cooperation_request(
        self, info: Info, input: FulfilCooperationRequestInput
    ) -> CooperationRequestPayload:
        return await _step(
            info,
            input.id,
            RequestAction.FULFIL,
            text=input.message,
            outcome=input.outcome,
            evidence_ids=input.evidence_ids,
        )

    @strawberry.mutation(description="Withdraw a request, with the reason (requester).")
    async def withdraw_cooperation_request(
        self, info: Info, input: RequestReasonInput
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.WITHDRAW, text=input.reason)

    @strawberry.mutation(description="Close a fulfilled or declined request (requester).")
    async def close_cooperation_request(
        self, info: Info, input: RequestStepInput
    ) -> CooperationRequestPayload:
        return await _step(info, input.id, RequestAction.CLOSE)

    @strawberry.mutation(description="Post a message to the other party of a request.")
    async def add_cooperation_message(
        self, info: Info, input: AddCooperationMessageInput
    ) -> AddCooperationMessagePayload:
        scope = info.context.scope

        async def work() -> RequestMessage:
            request_id = parse_id_of("CooperationRequest", input.id, ["id"])
            await requests.add_message(scope, request_id=request_id, body=input.body)
            side = (await request_reads.requests_by_ids(scope, [request_id]))[
                request_id
            ].viewer_side
            messages = (await request_reads.messages_of(scope, [(request_id, side)]))[request_id]
            return RequestMessage.of(messages[-1])

        message, errors = await attempt(work)
        return AddCooperationMessagePayload(message=message, errors=errors)
