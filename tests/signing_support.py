"""Agency signatures in tests: accredited keys through the API, and step statements built from a
request as the GraphQL API returns it (plain dicts), the way an agency tool builds them.

Deliberately independent of casehub.client (which has its own tests): the hub is tested against
statements made here from the domain's statement rules and the crypto module's keys.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from starlette.applications import Starlette

from casehub.app import build_runtime, create_app
from casehub.config import Settings
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.policy import SignedSteps
from casehub.domain.signatures.statements import (
    StepContent,
    body_sha256,
    new_nonce,
    particulars_normal_form,
    particulars_sha256,
    statement_bytes,
    statement_of,
    statement_sha256,
)
from casehub.services.runtime import Runtime
from tests.conftest import GraphQL, World
from tests.request_support import Requests

GraphQLCall = Callable[..., Awaitable[dict[str, Any]]]

REGISTER = """mutation($i: RegisterAgencySigningKeyInput!) { registerAgencySigningKey(input: $i)
  { key { id thumbprint state } errors { code field message } } }"""
ACCREDIT = """mutation($i: AccreditAgencySigningKeyInput!) { accreditAgencySigningKey(input: $i)
  { key { id thumbprint state accreditation { statement signature hubKey notBefore notAfter } }
    errors { code field message } } }"""
REVOKE = """mutation($i: RevokeAgencySigningKeyInput!) { revokeAgencySigningKey(input: $i)
  { key { id state revocation { statement signature revokedAt reason } }
    errors { code field message } } }"""
VIEWER = "{ viewer { principalId agency { id } } }"
# What a statement is built from: the request as a party reads it.
CONTENT = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  id kind priority legalBasis body status
  requester { id } requested { id }
  particulars { offence dataToPreserve custodianOrLocation followUpMla imminentThreat
    accountIdentifiers { kind value platform chain } contentLocations }
  evidence { role sha256 } } } }"""


def uuid_of(global_id: str) -> UUID:
    """The UUID a global id names."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("ascii")
    return UUID(raw.partition(":")[2])


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def accredited_key(
    gql: GraphQLCall,
    admin_token: str,
    hub_token: str,
    algorithm: SigningAlgorithm = SigningAlgorithm.ED25519,
    *,
    days: int = 30,
) -> tuple[AgencyPrivateKey, str]:
    """A new key of the admin's agency, registered and accredited for `days`: the private key
    (as the agency holds it) and the key's global id."""
    key = AgencyPrivateKey.generate(algorithm)
    public = statement_bytes(key.public.to_jwk()).decode("ascii")
    registered = _data(await gql(admin_token, REGISTER, {"i": {"publicKey": public}}))
    payload = registered["registerAgencySigningKey"]
    assert payload["errors"] == [], payload
    key_id: str = payload["key"]["id"]
    until = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    accredited = _data(await gql(hub_token, ACCREDIT, {"i": {"id": key_id, "notAfter": until}}))
    assert accredited["accreditAgencySigningKey"]["errors"] == [], accredited
    return key, key_id


async def principal_of(gql: GraphQLCall, token: str) -> UUID:
    """The UUID of the token's principal."""
    viewer = _data(await gql(token, VIEWER))["viewer"]
    return UUID(viewer["principalId"])


async def read_content(gql: GraphQLCall, token: str, request_id: str) -> dict[str, Any]:
    """The request as the token's agency reads it."""
    node: dict[str, Any] = _data(await gql(token, CONTENT, {"id": request_id}))["node"]
    return node


def step_content(
    request: dict[str, Any],
    action: str,
    *,
    evidence_sha256: Iterable[str] | None = None,
    text: str | None = None,
    outcome: str | None = None,
    countersigns: str | None = None,
) -> StepContent:
    """What the step's statement says about the request as read (`request` from read_content);
    the evidence listed defaults to the attached items for SUBMIT and APPROVE."""
    if evidence_sha256 is None:
        attached = action in ("SUBMIT", "APPROVE")
        evidence_sha256 = [
            item["sha256"]
            for item in request["evidence"]
            if attached and item["role"] == "ATTACHED"
        ]
    particulars = request["particulars"]
    stored = None if particulars is None else json.dumps(particulars)
    return StepContent(
        action=action,
        request=uuid_of(request["id"]),
        kind=request["kind"],
        priority=request["priority"],
        requester=uuid_of(request["requester"]["id"]),
        requested=uuid_of(request["requested"]["id"]),
        legal_basis=request["legalBasis"],
        body_sha256=body_sha256(request["body"]),
        particulars_sha256=particulars_sha256(particulars_normal_form(stored)),
        evidence_sha256=tuple(evidence_sha256),
        text_sha256=None if text is None else body_sha256(text),
        outcome=outcome,
        countersigns=countersigns,
    )


def signature_input(
    key: AgencyPrivateKey,
    content: StepContent,
    *,
    agency: UUID,
    principal: UUID,
    issued_at: datetime | None = None,
    nonce: str | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, str]:
    """A StepSignatureInput: the statement (edited by `edit` before signing, if given) and the
    key's signature over its canonical bytes."""
    statement = statement_of(
        content,
        agency=agency,
        principal=principal,
        key=key.public.thumbprint,
        issued_at=issued_at or datetime.now(UTC),
        nonce=nonce or new_nonce(),
    )
    if edit is not None:
        edit(statement)
    message = statement_bytes(statement)
    return {
        "keyThumbprint": key.public.thumbprint,
        "statement": message.decode("utf-8"),
        "signature": key.sign(message),
    }


@dataclass
class SignedHub:
    """An app under the default signing policy (the shared `settings` fixture turns signing
    off), on the session's database and keyring, with a clock the test can move."""

    runtime: Runtime
    app: Starlette
    gql: GraphQL
    req: Requests
    world: World
    shift: list[timedelta] = field(default_factory=lambda: [timedelta()])

    def now(self) -> datetime:
        """The hub's clock."""
        return datetime.now(UTC) + self.shift[0]

    async def key(
        self, agency: Any, algorithm: SigningAlgorithm = SigningAlgorithm.ED25519
    ) -> tuple[AgencyPrivateKey, str]:
        """A new accredited key of `agency` (its AGENCY_ADMIN registers, a HUB_ADMIN accredits)."""
        return await accredited_key(
            self.gql, agency.tokens["AGENCY_ADMIN"], agency.tokens["HUB_ADMIN"], algorithm
        )

    async def sign(
        self,
        token: str,
        key: AgencyPrivateKey,
        agency: Any,
        request_id: str,
        action: str,
        *,
        text: str | None = None,
        outcome: str | None = None,
        countersigns: str | None = None,
        evidence_sha256: Iterable[str] | None = None,
        issued_at: datetime | None = None,
        nonce: str | None = None,
        edit: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, str]:
        """The StepSignatureInput the token's principal gives for `action` on the request as
        it reads it now."""
        content = step_content(
            await read_content(self.gql, token, request_id),
            action,
            evidence_sha256=evidence_sha256,
            text=text,
            outcome=outcome,
            countersigns=countersigns,
        )
        return signature_input(
            key,
            content,
            agency=agency.uuid,
            principal=await principal_of(self.gql, token),
            issued_at=issued_at or self.now(),
            nonce=nonce,
            edit=edit,
        )

    async def verification(self, token: str, request_id: str) -> list[dict[str, Any]] | None:
        """`verification` of the request as `token` sees it (None: no such request for it)."""
        node = _data(await self.gql(token, VERIFICATION, {"id": request_id}))["node"]
        return None if node is None else list(node["verification"])


VERIFICATION = """query($id: ID!) { node(id: $id) { ... on CooperationRequest { verification {
  eventNumber action status reason required
  signatures { role eventNumber statement signature status reason agency { id }
    key { id thumbprint state } } } } } }"""


@asynccontextmanager
async def signed_hub(settings: Settings) -> AsyncIterator[SignedHub]:
    """A SignedHub on `settings`' database and keyring, signing policy back to its default."""
    default = settings.model_copy(
        update={"signed_steps": SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER}
    )
    shift = [timedelta()]
    runtime = dataclasses.replace(
        build_runtime(default), clock=lambda: datetime.now(UTC) + shift[0]
    )
    app = create_app(default, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            gql = GraphQL(http)
            yield SignedHub(runtime, app, gql, Requests(gql), World(runtime), shift)
    finally:
        await runtime.database.dispose()


def statement_digest(signature: dict[str, str]) -> str:
    """What an approval countersigns: the SHA-256 of the submission's statement."""
    return statement_sha256(signature["statement"])


# An EMERGENCY_DISCLOSURE draft's fields (request_support.request_input): complete to submit.
EMERGENCY: dict[str, Any] = {
    "kind": "EMERGENCY_DISCLOSURE",
    "priority": "EMERGENCY",
    "particulars": {
        "imminentThreat": "Credible threat to a child's life tonight",
        "accountIdentifiers": [{"kind": "PHONE", "value": "+60123456789"}],
    },
}
