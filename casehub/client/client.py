"""CasehubClient: the typed client an agency tool holds its token (and DPoP key) in, over the
operations `make client` generates from schema.graphql (casehub.client.generated)."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncGenerator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, cast
from uuid import UUID

import httpx
from websockets.exceptions import ConnectionClosed

from casehub.client.errors import CasehubClientError, InboxClosed, NotFound, Refused
from casehub.client.generated import (
    AddEvidenceAddEvidenceEvidence,
    AddEvidenceInput,
    ApproveCooperationRequestInput,
    CreateCooperationRequestInput,
    EvidenceKind,
    EvidenceRole,
    FulfilCooperationRequestInput,
    FulfilOutcome,
    GeneratedClient,
    OpenCaseInput,
    OpenCaseOpenCaseCase,
    RequestContent,
    RequestEventFields,
    RequestNodeCooperationRequest,
    RequestPayloadFields,
    RequestReasonInput,
    RequestStepInput,
    StepSignatureInput,
    Upload,
    UserErrorFields,
    ViewerViewer,
)
from casehub.client.generated import (
    EvidenceDigestsNodesEvidence as EvidenceNode,
)
from casehub.client.generated import (
    RequestVerificationNodeCooperationRequest as VerificationRead,
)
from casehub.client.generated.async_base_client import HttpClient
from casehub.client.signing import sign_step, step_content, uuid_of
from casehub.client.transport import Credentials, TokenAuth, websocket_url
from casehub.client.verify import RequestVerification, submission_statement, verify_read
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.signatures.statements import statement_sha256

# What the hub requires of a multipart request (an upload): no other site can make a browser
# send it (casehub.api.http.gate refuses the upload without it, 400 PREFLIGHT_REQUIRED).
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
DEFAULT_TIMEOUT = 30.0


class CasehubClient:
    """A session with a casehub hub at `url` (its /graphql endpoint) for one agency tool.

    `token` is the tool's access token; `dpop_key`, the private JWK it is bound to
    (casehub.crypto.dpop.new_key makes one), when it is DPoP-bound. With `agency_key` (the
    agency's accredited signing key) the submit, accept, decline and fulfil steps are signed,
    and a supervisor can approve (an approval is always signed). `hub_keys` is the hub's
    accreditation JWKS the tool pinned, which `verify_request` checks signatures against.
    Use it as an async context manager (or call `aclose`)."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        dpop_key: Mapping[str, Any] | None = None,
        agency_key: AgencyPrivateKey | None = None,
        hub_keys: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = url
        self.agency_key = agency_key
        self.hub_keys = hub_keys
        self._signer: tuple[UUID, UUID] | None = None  # (agency, principal), once read
        self.websocket_url = websocket_url(url)
        self._credentials = Credentials(token, dpop_key)
        self._http = httpx.AsyncClient(auth=TokenAuth(self._credentials), timeout=timeout)
        self._api = GeneratedClient(url=url, http_client=_generated_http(self._http))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def viewer(self) -> ViewerViewer:
        """Who the token acts as: the principal's name, roles and agency."""
        return (await self._api.viewer()).viewer

    async def agency_id(self, code: str) -> str:
        """The id of the agency with this code in the hub's directory; NotFound when none."""
        after: str | None = None
        while True:
            page = (await self._api.agencies(after=after)).agencies
            for edge in page.edges:
                if edge.node.code == code:
                    return edge.node.id
            if not page.page_info.has_next_page:
                raise NotFound(f"No agency {code} in the directory.")
            after = page.page_info.end_cursor

    async def open_case(self, case: OpenCaseInput) -> OpenCaseOpenCaseCase:
        """Open a case of the agency (INVESTIGATOR); Refused with the hub's errors."""
        payload = (await self._api.open_case(case)).open_case
        if payload.errors or payload.case is None:
            raise _refused(payload.errors)
        return payload.case

    async def upload_evidence(
        self,
        case_id: str,
        content: bytes | io.IOBase,
        *,
        title: str,
        filename: str,
        media_type: str = "application/octet-stream",
        kind: EvidenceKind = EvidenceKind.DOCUMENT,
        description: str | None = None,
    ) -> AddEvidenceAddEvidenceEvidence:
        """Add an evidence item to a case of the agency (INVESTIGATOR), its content sent as a
        file in a multipart request; Refused with the hub's errors."""
        stream = io.BytesIO(content) if isinstance(content, bytes) else content
        evidence = AddEvidenceInput(
            case_id=case_id,
            kind=kind,
            title=title,
            description=description,
            content=Upload(filename=filename, content=stream, content_type=media_type),
            media_type=media_type,
        )
        payload = (await self._api.add_evidence(evidence, headers=PREFLIGHT)).add_evidence
        if payload.errors or payload.evidence is None:
            raise _refused(payload.errors)
        return payload.evidence

    async def request(self, request_id: str) -> RequestNodeCooperationRequest:
        """A cooperation request as the agency reads it, with its events; NotFound when it
        is not one the agency may see."""
        node = (await self._api.request(request_id)).node
        if not isinstance(node, RequestNodeCooperationRequest):
            raise NotFound(f"No cooperation request {request_id} is visible to this agency.")
        return node

    async def signed_request(self, request_id: str) -> VerificationRead:
        """A cooperation request with its messages and every agency signature, as the hub
        reports them (what verify_request checks); NotFound as `request`."""
        node = (await self._api.request_verification(request_id)).node
        if not isinstance(node, VerificationRead):
            raise NotFound(f"No cooperation request {request_id} is visible to this agency.")
        return node

    async def create_request(self, draft: CreateCooperationRequestInput) -> RequestContent:
        """Draft a request to another agency (LIAISON_OFFICER): a DRAFT only the requester
        sees, as stored (particulars in their canonical form)."""
        return _settled((await self._api.create_request(draft)).create_cooperation_request)

    async def submit_request(self, request_id: str) -> RequestContent:
        """Submit a draft (requester), signed with the agency key if the client holds one."""
        signature = await self._signature(request_id, "SUBMIT")
        step = RequestStepInput(id=request_id, signature=signature)
        return _settled((await self._api.submit_request(step)).submit_cooperation_request)

    async def approve_request(self, request_id: str) -> RequestContent:
        """Approve a submission awaiting approval (SUPERVISOR of the requester): a signature
        that countersigns the submission's statement, so the client must hold the agency key."""
        if self.agency_key is None:
            raise CasehubClientError("An approval is a countersignature: give agency_key.")
        read = await self.signed_request(request_id)
        submission = submission_statement(read)  # None where the policy let it go unsigned
        signature = await self._sign(
            self.agency_key,
            read,
            "APPROVE",
            evidence_sha256=_attached(read),
            countersigns=None if submission is None else statement_sha256(submission),
        )
        step = ApproveCooperationRequestInput(id=request_id, signature=signature)
        return _settled((await self._api.approve_request(step)).approve_cooperation_request)

    async def acknowledge_request(self, request_id: str) -> RequestContent:
        """Acknowledge receipt of a request (requested agency; never signed)."""
        step = RequestStepInput(id=request_id)
        payload = (await self._api.acknowledge_request(step)).acknowledge_cooperation_request
        return _settled(payload)

    async def accept_request(self, request_id: str) -> RequestContent:
        """Accept to execute a request (requested agency), signed if the client holds the
        agency key."""
        signature = await self._signature(request_id, "ACCEPT")
        step = RequestStepInput(id=request_id, signature=signature)
        return _settled((await self._api.accept_request(step)).accept_cooperation_request)

    async def decline_request(self, request_id: str, reason: str) -> RequestContent:
        """Decline a request, with the reason (requested agency), signed if the client holds
        the agency key."""
        signature = await self._signature(request_id, "DECLINE", text=reason)
        step = RequestReasonInput(id=request_id, reason=reason, signature=signature)
        return _settled((await self._api.decline_request(step)).decline_cooperation_request)

    async def fulfil_request(
        self,
        request_id: str,
        outcome: FulfilOutcome,
        message: str,
        evidence_ids: Sequence[str] = (),
    ) -> RequestContent:
        """Fulfil an accepted request in FULL or PARTIAL, with a message and evidence of the
        agency's cases supplied to the requester (requested agency), signed if the client
        holds the agency key."""
        signature = None
        if self.agency_key is not None:
            signature = await self._signature(
                request_id,
                "FULFIL",
                evidence_sha256=await self._evidence_digests(evidence_ids),
                text=message,
                outcome=outcome.value,
            )
        step = FulfilCooperationRequestInput(
            id=request_id,
            outcome=outcome,
            message=message,
            evidence_ids=list(evidence_ids),
            signature=signature,
        )
        return _settled((await self._api.fulfil_request(step)).fulfil_cooperation_request)

    async def verify_request(self, request_id: str) -> RequestVerification:
        """Re-verify every agency signature of a request locally: each against the pinned
        `hub_keys` and against the statement the client computes from the request as it
        reads it (casehub.client.verify)."""
        if self.hub_keys is None:
            raise CasehubClientError("Pin the hub's accreditation keys: give hub_keys.")
        return verify_read(await self.signed_request(request_id), self.hub_keys)

    async def inbox(self, since: int | None = None) -> AsyncGenerator[RequestEventFields, None]:
        """The events of the agency's requests as the hub commits them, over
        graphql-transport-ws: after `since` first (0: from the beginning; None: only new
        ones). InboxClosed when the hub closes the socket; follow again from the last `seq`."""
        # A client per socket: connection_init carries a proof made for this connection.
        socket = GeneratedClient(
            url=self.url,
            http_client=_generated_http(self._http),
            ws_url=self.websocket_url,
            ws_connection_init_payload=self._credentials.connection_init(self.websocket_url),
        )
        # The socket is read by a task of its own: leaving the loop early cancels it, which
        # unwinds the generated client's nested generators and closes the socket at once
        # (closing only the outer generator would leave the inner ones to garbage collection).
        # None: the hub completed the subscription.
        received: asyncio.Queue[RequestEventFields | BaseException | None] = asyncio.Queue(
            INBOX_BUFFER
        )

        async def read() -> None:
            try:
                async for event in socket.inbox(since=since):
                    await received.put(event.cooperation_request_events)
                await received.put(None)
            except ConnectionClosed as closed:
                frame = closed.rcvd
                await received.put(
                    InboxClosed(frame.code if frame else None, frame.reason if frame else "")
                )
            except Exception as error:
                await received.put(error)

        reader = asyncio.create_task(read())
        try:
            while True:
                item = await received.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _signature(
        self, request_id: str, action: str, **content: Any
    ) -> StepSignatureInput | None:
        """The step's signature over the request as read now (a submission lists the
        evidence attached to it), or None when the client holds no agency key."""
        if self.agency_key is None:
            return None
        read = await self.request(request_id)
        if action == "SUBMIT":
            content["evidence_sha256"] = _attached(read)
        return await self._sign(self.agency_key, read, action, **content)

    async def _sign(
        self, key: AgencyPrivateKey, request: RequestContent, action: str, **content: Any
    ) -> StepSignatureInput:
        """The step's statement over the request as read, by this agency and principal (read
        once from the viewer), signed with `key`."""
        if self._signer is None:
            viewer = await self.viewer()
            assert viewer.agency is not None, "a token that may take steps acts for an agency"
            self._signer = (uuid_of(viewer.agency.id), UUID(viewer.principal_id))
        agency, principal = self._signer
        return sign_step(
            key,
            step_content(request, action, **content),
            agency=agency,
            principal=principal,
        )

    async def _evidence_digests(self, evidence_ids: Sequence[str]) -> list[str]:
        """The SHA-256 of each evidence item, as the hub reports it; NotFound for one the
        agency cannot read."""
        if not evidence_ids:
            return []
        nodes = (await self._api.evidence_digests(list(evidence_ids))).nodes
        digests = {node.id: node.sha_256 for node in nodes if isinstance(node, EvidenceNode)}
        missing = [item for item in evidence_ids if item not in digests]
        if missing:
            raise NotFound(f"No evidence item {missing[0]} is visible to this agency.")
        return [digests[item] for item in evidence_ids]


# Events read ahead of the tool at most: past it the socket is not read (back-pressure).
INBOX_BUFFER = 100


def _attached(request: RequestContent) -> list[str]:
    """The digests of the evidence attached to a request (what submit and approve sign)."""
    return [item.sha_256 for item in request.evidence if item.role is EvidenceRole.ATTACHED]


def _generated_http(http: httpx.AsyncClient) -> HttpClient:
    # The generated client's protocol spells httpx's keyword-only parameters as positional
    # ones; httpx.AsyncClient is what the generated client itself would make.
    return cast(HttpClient, http)


def _settled(payload: RequestPayloadFields) -> RequestContent:
    """The request a step returns, or Refused with the hub's errors."""
    if payload.errors or payload.request is None:
        raise _refused(payload.errors)
    return payload.request


def _refused(errors: Sequence[UserErrorFields]) -> CasehubClientError:
    if not errors:
        return CasehubClientError("The hub returned neither a result nor errors.")
    return Refused(errors)
