"""casehub.client against a live `casehub serve` on each engine: a DPoP-bound tool (a fresh proof
on every HTTP request and in connection_init) and a bearer one open a case, upload evidence
through a multipart request, take a request through its steps, and follow the inbox over
graphql-transport-ws; every refusal arrives as the typed error the client names."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from casehub.api.ids import to_global_id
from casehub.client import (
    CasehubClient,
    CasehubClientError,
    GraphQLClientHttpError,
    InboxClosed,
    NotFound,
    Refused,
    RequestVerification,
)
from casehub.client.client import _settled as settled
from casehub.client.generated import (
    CaseCategory,
    CreateCooperationRequestInput,
    EvidenceRole,
    FulfilOutcome,
    IdentifierInput,
    IdentifierKind,
    OpenCaseInput,
    Priority,
    RequestAction,
    RequestContent,
    RequestEventFields,
    RequestKind,
    RequestParticularsInput,
    RequestPayloadFields,
    RequestStatus,
    SignerRole,
    StepStatus,
)
from casehub.client.signing import particulars_digest, sign_step, step_content, uuid_of
from casehub.client.transport import proof_url, websocket_url
from casehub.client.verify import verify_read
from casehub.crypto import dpop
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.enums import IdentifierKind as DomainIdentifierKind
from casehub.domain.identifiers import IdentifierInput as DomainIdentifier
from casehub.domain.requests.content import Particulars, particulars_json
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import (
    StepContent,
    expected_statement,
    first_mismatch,
    parse_statement,
    particulars_normal_form,
    particulars_sha256,
    statement_problem,
)
from casehub.services.agencies import agencies, auth
from casehub.services.runtime import Runtime, open_scope
from tests.integration.servers import Hub

CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 4
EVENT_SECONDS = 20


REGISTER_KEY = """mutation($i: RegisterAgencySigningKeyInput!) {
  registerAgencySigningKey(input: $i) { key { id } errors { message } } }"""
ACCREDIT_KEY = """mutation($i: AccreditAgencySigningKeyInput!) {
  accreditAgencySigningKey(input: $i) { key { state } errors { message } } }"""


@dataclass(frozen=True)
class Tool:
    """An agency tool's credentials: its token, the DPoP key of a bound one, the agency's
    signing key if it signs, and the hub's accreditation keys it pinned."""

    url: str
    token: str
    dpop_key: dict[str, Any] | None = None
    agency_key: AgencyPrivateKey | None = None
    hub_keys: dict[str, Any] | None = None

    def client(self, **changes: Any) -> CasehubClient:
        options = {
            "dpop_key": self.dpop_key,
            "agency_key": self.agency_key,
            "hub_keys": self.hub_keys,
            **changes,
        }
        return CasehubClient(self.url, self.token, **options)


@dataclass(frozen=True)
class Parties:
    """The requesting police (DPoP-bound, signing) and its supervisor; the requested platform
    (a SERVICE_PROVIDER: its requests' steps must be signed; bearer, signing); and another
    police force (bearer, holding no signing key)."""

    police: Tool
    supervisor: Tool
    platform: Tool
    peer: Tool
    ids: dict[str, str]
    codes: dict[str, str]


@pytest.fixture(scope="module")
def server(
    database_url: str, keyring_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A live server on the engine under test; its /graphql URL."""
    hub = Hub(tmp_path_factory.mktemp("python-client"), database_url)
    hub.env["CASEHUB_KEYRING"] = str(keyring_path)
    del hub.env["CASEHUB_SIGNED_STEPS"]  # the client signs: the hub's default policy
    try:
        base = hub.serve()
        hub.wait_ready(base)
        yield f"{base}/graphql"
    finally:
        hub.stop()


async def register(runtime: Runtime, prefix: str, kind: AgencyKind) -> tuple[str, str]:
    """A new agency: its code and global id."""
    code = f"{prefix}-{secrets.token_hex(3).upper()}"
    async with open_scope(runtime) as scope:
        view = await agencies.register_agency(
            scope, code=code, name=f"Agency {code}", jurisdiction="MY", kind=kind, as_operator=True
        )
    return code, to_global_id("Agency", view.id)


async def issue(
    runtime: Runtime,
    code: str,
    roles: Sequence[Role] = (Role.INVESTIGATOR, Role.LIAISON_OFFICER),
    *,
    dpop_key: dict[str, Any] | None = None,
    name: str = "tool",
) -> str:
    """A token of the agency, bound to `dpop_key` if given."""
    async with open_scope(runtime) as scope:
        _id, token = await auth.issue_token(
            scope,
            agency_code=code,
            roles=list(roles),
            principal_name=name,
            dpop_key=dpop.public_jwk(dpop_key) if dpop_key else None,
        )
    return token


async def mutate(url: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        response = await http.post(url, json={"query": query, "variables": {"i": variables}})
    data: dict[str, dict[str, Any]] = response.json()["data"]
    (payload,) = data.values()
    assert payload["errors"] == [], payload
    return payload


async def accredited(
    runtime: Runtime, url: str, code: str, algorithm: SigningAlgorithm
) -> AgencyPrivateKey:
    """A new signing key of the agency, registered by its admin and accredited by the hub."""
    key = AgencyPrivateKey.generate(algorithm)
    admin = await issue(runtime, code, [Role.AGENCY_ADMIN], name="admin")
    public = json.dumps(key.public.to_jwk())
    registered = await mutate(url, admin, REGISTER_KEY, {"publicKey": public})
    hub_admin = await issue(runtime, code, [Role.HUB_ADMIN], name="hub-admin")
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    accredit = {"id": registered["key"]["id"], "notAfter": until}
    assert (await mutate(url, hub_admin, ACCREDIT_KEY, accredit))["key"]["state"] == "ACCREDITED"
    return key


@pytest.fixture(scope="module")
async def parties(server: str, runtime: Runtime) -> Parties:
    police, police_id = await register(runtime, "POL", AgencyKind.LAW_ENFORCEMENT)
    platform, platform_id = await register(runtime, "APP", AgencyKind.SERVICE_PROVIDER)
    peer, peer_id = await register(runtime, "PEER", AgencyKind.LAW_ENFORCEMENT)
    # What a tool pins: the hub's accreditation JWKS, fetched once and kept.
    async with httpx.AsyncClient() as http:
        well_known = server.replace("/graphql", "/.well-known/casehub-accreditation.json")
        hub_keys = (await http.get(well_known)).raise_for_status().json()
    police_key = await accredited(runtime, server, police, SigningAlgorithm.ED25519_ML_DSA_65)
    platform_key = await accredited(runtime, server, platform, SigningAlgorithm.ED25519)
    dpop_key = dpop.new_key()
    return Parties(
        police=Tool(
            server, await issue(runtime, police, dpop_key=dpop_key), dpop_key, police_key, hub_keys
        ),
        supervisor=Tool(
            server,
            await issue(runtime, police, [Role.SUPERVISOR], name="supervisor"),
            agency_key=police_key,
            hub_keys=hub_keys,
        ),
        platform=Tool(server, await issue(runtime, platform), None, platform_key, hub_keys),
        peer=Tool(server, await issue(runtime, peer)),
        ids={"police": police_id, "platform": platform_id, "peer": peer_id},
        codes={"police": police, "platform": platform, "peer": peer},
    )


def case_input() -> OpenCaseInput:
    reference = f"PY-{uuid.uuid4().hex[:8]}"
    return OpenCaseInput(
        reference=reference,
        title=f"Operation {reference}",
        summary="Investment scam run through a messenger channel",
        category=CaseCategory.INVESTMENT_SCAM,
    )


def draft(parties: Parties, to: str = "peer", **changes: Any) -> CreateCooperationRequestInput:
    fields: dict[str, Any] = {
        "requested_agency_id": parties.ids[to],
        "kind": RequestKind.DATA_DISCLOSURE,
        "priority": Priority.URGENT,
        "title": "Channel admin",
        "body": "Who registered the channel's admin account?",
        "particulars": RequestParticularsInput(
            offence="Fraud",
            account_identifiers=[
                IdentifierInput(
                    kind=IdentifierKind.MESSENGER_HANDLE, value="@Quick_Profit", platform="tg"
                )
            ],
        ),
    }
    return CreateCooperationRequestInput(**{**fields, **changes})


async def sent(parties: Parties, to: str = "peer") -> str:
    """A request the police created and submitted (signed); its id."""
    async with parties.police.client() as police:
        created = await police.create_request(draft(parties, to))
        await police.submit_request(created.id)
    return created.id


async def test_the_viewer_over_http_with_a_proof_on_every_request(parties: Parties) -> None:
    async with parties.police.client() as police:
        for _ in range(2):  # each request needs a proof of its own (its jti is used once)
            viewer = await police.viewer()
            assert viewer.agency is not None
            assert viewer.agency.code == parties.codes["police"]
            assert {role.value for role in viewer.roles} == {"INVESTIGATOR", "LIAISON_OFFICER"}
    async with parties.peer.client() as peer:  # a bearer token needs no key
        viewer = await peer.viewer()
        assert viewer.agency is not None
        assert viewer.agency.code == parties.codes["peer"]
        assert uuid.UUID(viewer.principal_id)  # what the statements it signs name


@pytest.mark.parametrize("key", ["another key", "no key"])
async def test_a_bound_token_without_its_key_is_refused_401(parties: Parties, key: str) -> None:
    wrong = dpop.new_key() if key == "another key" else None
    async with parties.police.client(dpop_key=wrong) as thief:
        with pytest.raises(GraphQLClientHttpError) as refused:
            await thief.viewer()
    assert refused.value.status_code == 401
    challenge = refused.value.response.headers["www-authenticate"]  # type: ignore[attr-defined]
    assert challenge.startswith("DPoP" if wrong else "Bearer")


async def test_upload_evidence_as_a_multipart_request(parties: Parties) -> None:
    async with parties.police.client() as police:
        case = await police.open_case(case_input())
        evidence = await police.upload_evidence(
            case.id,
            CONTENT,
            title="Statement",
            filename="statement.pdf",
            media_type="application/pdf",
        )
    assert evidence.sha_256 == hashlib.sha256(CONTENT).hexdigest()
    assert evidence.size_bytes == len(CONTENT)
    assert (evidence.title, evidence.media_type) == ("Statement", "application/pdf")


async def test_an_upload_the_hub_refuses_raises_its_errors(parties: Parties) -> None:
    async with parties.peer.client() as peer:
        case = await peer.open_case(case_input())
    async with parties.police.client() as police:
        # Another agency's case: refused like one that does not exist.
        with pytest.raises(Refused) as refused:
            await police.upload_evidence(case.id, CONTENT, title="Statement", filename="s.pdf")
    assert refused.value.code == "NOT_FOUND"
    assert refused.value.errors[0].message in str(refused.value)


async def test_an_unsigned_request_through_its_steps_to_fulfilment(parties: Parties) -> None:
    """Tools holding no signing key, where the hub's policy asks for no signature (an URGENT
    request to another police force)."""
    police_tool = parties.police.client(agency_key=None)
    async with police_tool as police, parties.peer.client() as peer:
        case = await police.open_case(case_input())
        attached = await police.upload_evidence(case.id, CONTENT, title="Chat", filename="c.pdf")
        created = await police.create_request(
            draft(parties, case_id=case.id, evidence_ids=[attached.id])
        )
        assert created.status is RequestStatus.DRAFT
        # Read back as stored: the particulars in their normal form, every member present.
        assert created.particulars is not None
        assert created.particulars.offence == "Fraud"
        assert created.particulars.data_to_preserve is None
        [identifier] = created.particulars.account_identifiers
        assert (identifier.kind, identifier.value) == (
            IdentifierKind.MESSENGER_HANDLE,
            "@Quick_Profit",
        )
        assert [item.sha_256 for item in created.evidence] == [attached.sha_256]

        assert (await police.submit_request(created.id)).status is RequestStatus.SUBMITTED
        acknowledged = await peer.acknowledge_request(created.id)
        assert acknowledged.status is RequestStatus.ACKNOWLEDGED
        assert (await peer.accept_request(created.id)).status is RequestStatus.ACCEPTED
        supplied_case = await peer.open_case(case_input())
        supplied = await peer.upload_evidence(
            supplied_case.id, b"subscriber record", title="Record", filename="r.txt"
        )
        fulfilled = await peer.fulfil_request(
            created.id, FulfilOutcome.FULL, "Registered on 2026-01-02.", [supplied.id]
        )
        assert (fulfilled.status, fulfilled.outcome) == (
            RequestStatus.FULFILLED,
            FulfilOutcome.FULL,
        )

        read = await police.request(created.id)
        actions = [event.action for event in read.events]
        assert actions == [
            RequestAction.CREATE,
            RequestAction.SUBMIT,
            RequestAction.ACKNOWLEDGE,
            RequestAction.ACCEPT,
            RequestAction.FULFIL,
        ]
        # The attached evidence's copy ends with the open request; the supplied one stays.
        supplied_read = [(item.role, item.sha_256) for item in read.evidence]
        assert supplied_read == [(EvidenceRole.SUPPLIED, supplied.sha_256)]
        # Nothing signed, nothing required: verified as the hub's policy stands.
        verification = await police.verify_request(created.id)
    steps = [(step.action, step.status, step.required) for step in verification.steps]
    assert steps == [
        (RequestAction.SUBMIT, StepStatus.UNSIGNED, False),
        (RequestAction.ACCEPT, StepStatus.UNSIGNED, False),
        (RequestAction.FULFIL, StepStatus.UNSIGNED, False),
    ]
    assert verification.verified
    assert verification.disagreements == ()


async def test_a_declined_request_and_a_step_out_of_turn(parties: Parties) -> None:
    request_id = await sent(parties)
    async with parties.peer.client() as peer:
        declined = await peer.decline_request(request_id, "Outside our jurisdiction.")
        assert declined.status is RequestStatus.DECLINED
        with pytest.raises(Refused) as refused:
            await peer.accept_request(request_id)
    assert refused.value.code == "INVALID_TRANSITION"


async def test_a_request_the_agency_may_not_see_is_not_found(parties: Parties) -> None:
    async with parties.police.client() as police:
        created = await police.create_request(draft(parties))
    async with parties.peer.client() as peer:
        with pytest.raises(NotFound):
            await peer.request(created.id)  # a draft is the requester's alone
        with pytest.raises(Refused) as refused:
            await peer.accept_request(created.id)
    assert refused.value.code == "NOT_FOUND"


async def next_event_of(events: AsyncGenerator[RequestEventFields, None], request_id: str) -> Any:
    async for event in events:
        if event.request_id == request_id:
            return event
    raise AssertionError(f"the inbox ended before an event of {request_id}")


@pytest.mark.parametrize("follower", ["peer", "police"])
async def test_the_inbox_follows_the_requests_live(parties: Parties, follower: str) -> None:
    """The requested peer (bearer) and the police (DPoP-bound: a proof in connection_init)."""
    tool: Tool = getattr(parties, follower)
    async with tool.client() as client, aclosing(client.inbox(since=0)) as events:
        async with asyncio.timeout(EVENT_SECONDS):
            # The first request's event may come from the history (since 0); the second's is
            # pushed as it commits.
            for _ in range(2):
                request_id = await sent(parties)
                event = await next_event_of(events, request_id)
                # The peer's first event of a request is its SUBMIT (the draft's CREATE
                # went to the police alone).
                expected = RequestAction.SUBMIT if follower == "peer" else RequestAction.CREATE
                assert event.action is expected
                assert event.actor_agency.code == parties.codes["police"]
                assert event.seq > 0


@pytest.mark.parametrize("key", ["another key", "no key"])
async def test_an_inbox_the_hub_does_not_authenticate_is_closed_4401(
    parties: Parties, key: str
) -> None:
    wrong = dpop.new_key() if key == "another key" else None
    async with parties.police.client(dpop_key=wrong) as thief:
        with pytest.raises(InboxClosed) as closed:
            async with aclosing(thief.inbox()) as events:
                await anext(events)
    assert closed.value.code == 4401


# Signed steps: the client signs what it read back, the hub verifies, and each party re-verifies
# every signature itself against the hub keys it pinned.


async def emergency(parties: Parties, police: CasehubClient) -> tuple[str, str]:
    """An EMERGENCY request of the police to the platform with evidence attached, drafted;
    its id and the attached evidence's digest."""
    case = await police.open_case(case_input())
    attached = await police.upload_evidence(case.id, CONTENT, title="Chat", filename="c.pdf")
    created = await police.create_request(
        draft(
            parties,
            "platform",
            priority=Priority.EMERGENCY,
            kind=RequestKind.EMERGENCY_DISCLOSURE,
            body="Who holds the account? ✓ — a life is at risk.",
            case_id=case.id,
            evidence_ids=[attached.id],
            particulars=RequestParticularsInput(
                imminent_threat="A threat to a child's life",
                account_identifiers=[
                    IdentifierInput(kind=IdentifierKind.PHONE, value="+60 12-345 6789")
                ],
            ),
        )
    )
    return created.id, attached.sha_256


def statuses(verification: RequestVerification) -> list[tuple[RequestAction, StepStatus]]:
    return [(step.action, step.status) for step in verification.steps]


async def test_an_emergency_request_signed_countersigned_and_verified_by_both_parties(
    parties: Parties,
) -> None:
    async with (
        parties.police.client() as police,
        parties.supervisor.client() as supervisor,
        parties.platform.client() as platform,
    ):
        request_id, attached = await emergency(parties, police)
        submitted = await police.submit_request(request_id)
        # Four eyes: an emergency disclosure asked of a service provider waits for approval.
        assert submitted.status is RequestStatus.AWAITING_APPROVAL
        approved = await supervisor.approve_request(request_id)
        assert approved.status is RequestStatus.SUBMITTED
        await platform.acknowledge_request(request_id)
        await platform.accept_request(request_id)
        supplied_case = await platform.open_case(case_input())
        supplied = await platform.upload_evidence(
            supplied_case.id, b"subscriber record", title="Record", filename="r.txt"
        )
        await platform.fulfil_request(
            request_id, FulfilOutcome.PARTIAL, "Subscriber record attached.", [supplied.id]
        )
        by_platform = await platform.verify_request(request_id)
        by_police = await police.verify_request(request_id)

    answered = [
        (RequestAction.APPROVE, StepStatus.VERIFIED),
        (RequestAction.ACCEPT, StepStatus.VERIFIED),
        (RequestAction.FULFIL, StepStatus.VERIFIED),
    ]
    assert statuses(by_police) == [(RequestAction.SUBMIT, StepStatus.VERIFIED), *answered]
    # The platform never saw the submission awaiting approval as a step of its own: the
    # approval it received carries the submission's signature beside the countersignature.
    assert statuses(by_platform) == answered
    for verification in (by_platform, by_police):
        assert verification.verified
        assert verification.disagreements == ()  # the hub said the same
        assert all(step.required for step in verification.steps)
    approval = by_police.steps[1]
    roles = [(check.role, check.action) for check in approval.signatures]
    assert roles == [
        (SignerRole.SIGNER, RequestAction.SUBMIT),
        (SignerRole.COUNTERSIGNER, RequestAction.APPROVE),
    ]
    signers = {check.action: check.agency for step in by_police.steps for check in step.signatures}
    assert signers == {
        RequestAction.SUBMIT: parties.codes["police"],
        RequestAction.APPROVE: parties.codes["police"],
        RequestAction.ACCEPT: parties.codes["platform"],
        RequestAction.FULFIL: parties.codes["platform"],
    }
    fulfil = by_police.steps[3].signatures[0].verdict.statement
    assert fulfil is not None
    assert fulfil["evidenceSha256"] == [supplied.sha_256]
    assert fulfil["outcome"] == "PARTIAL"
    # The attached evidence ended with the request: neither party reads it now, so its
    # digests are taken as signed, and said to be.
    submit = by_police.steps[0].signatures[0]
    assert submit.unchecked == ("evidenceSha256",)
    assert submit.verdict.statement is not None
    assert submit.verdict.statement["evidenceSha256"] == [attached]
    assert all(check.unchecked == () for step in by_police.steps[2:] for check in step.signatures)


async def test_a_signed_decline_is_verified_with_its_reason(parties: Parties) -> None:
    request_id = await sent(parties, "platform")
    async with parties.platform.client() as platform:
        await platform.decline_request(request_id, "Not our service — ask the registrar.")
        verification = await platform.verify_request(request_id)
        read = await platform.signed_request(request_id)
    assert statuses(verification) == [
        (RequestAction.SUBMIT, StepStatus.VERIFIED),
        (RequestAction.DECLINE, StepStatus.VERIFIED),
    ]
    decline = verification.steps[1].signatures[0]
    assert decline.unchecked == ()
    assert decline.verdict.statement is not None
    reason = "Not our service — ask the registrar.".encode()
    assert decline.verdict.statement["textSha256"] == hashlib.sha256(reason).hexdigest()
    # A reader that cannot see the reason: the signed digest stands, named as unchecked.
    assert parties.platform.hub_keys is not None
    unread = verify_read(read.model_copy(update={"messages": []}), parties.platform.hub_keys)
    [_submit, declined] = unread.steps
    assert declined.status is StepStatus.VERIFIED
    assert declined.signatures[0].unchecked == ("textSha256",)


async def test_a_step_the_policy_requires_signed_is_refused_unsigned(parties: Parties) -> None:
    async with parties.police.client(agency_key=None) as police:
        created = await police.create_request(draft(parties, "platform"))
        with pytest.raises(Refused) as refused:
            await police.submit_request(created.id)
    assert refused.value.code == "VALIDATION"
    assert refused.value.errors[0].field == ["signature"]


async def test_signatures_do_not_verify_against_another_hubs_keys(parties: Parties) -> None:
    request_id = await sent(parties, "platform")
    other = AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65).public
    other_hub = {"keys": [{**other.to_jwk(), "kid": other.thumbprint}]}
    async with parties.platform.client(hub_keys=other_hub) as platform:
        verification = await platform.verify_request(request_id)
    [submit] = verification.steps
    assert (submit.status, submit.hub_status) == (StepStatus.INVALID, StepStatus.VERIFIED)
    assert submit.signatures[0].verdict.reason == "accreditation signature"
    assert not verification.verified
    assert verification.disagreements == (submit,)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": "Another text."}, "statement:bodySha256"),
        ({"priority": Priority.ROUTINE}, "statement:priority"),
        ({"legal_basis": "Art. 18"}, "statement:legalBasis"),
    ],
)
async def test_a_request_read_otherwise_than_signed_does_not_verify(
    parties: Parties, change: dict[str, Any], reason: str
) -> None:
    """What the hub serves is checked against what was signed: a body (or any member) served
    otherwise than the parties signed it fails on that member."""
    request_id = await sent(parties, "platform")
    async with parties.platform.client() as platform:
        read = await platform.signed_request(request_id)
    assert parties.platform.hub_keys is not None
    verification = verify_read(read.model_copy(update=change), parties.platform.hub_keys)
    [submit] = verification.steps
    assert submit.status is StepStatus.INVALID
    assert submit.signatures[0].verdict.reason == reason


async def test_what_signing_and_verifying_need_is_asked_for(parties: Parties) -> None:
    request_id = await sent(parties, "platform")
    async with parties.supervisor.client(agency_key=None) as supervisor:
        with pytest.raises(CasehubClientError, match="give agency_key"):
            await supervisor.approve_request(request_id)
    async with parties.platform.client(hub_keys=None) as platform:
        with pytest.raises(CasehubClientError, match="give hub_keys"):
            await platform.verify_request(request_id)
    async with parties.platform.client() as platform:
        with pytest.raises(NotFound, match="evidence item"):
            await platform.fulfil_request(request_id, FulfilOutcome.FULL, "Done.", [request_id])


# The statement a step carries, built from what the client read back.

REQUEST = to_global_id("CooperationRequest", uuid.UUID("01a24589-c9fb-7108-913f-efc45993c142"))
POLICE = to_global_id("Agency", uuid.UUID("01a24589-c9fb-7108-913f-000000000001"))
PLATFORM = to_global_id("Agency", uuid.UUID("01a24589-c9fb-7108-913f-000000000002"))
BODY = "Who registered the channel's admin account? ✓"  # signed as UTF-8


def read_request(**changes: Any) -> RequestContent:
    """A request as the client reads it back (the Request operation's selection)."""
    read: dict[str, Any] = {
        "id": REQUEST,
        "kind": "DATA_DISCLOSURE",
        "priority": "EMERGENCY",
        "legalBasis": None,
        "title": "Channel admin",
        "status": "DRAFT",
        "outcome": None,
        "version": 1,
        "requester": {"id": POLICE, "code": "POL"},
        "requested": {"id": PLATFORM, "code": "APP", "kind": "SERVICE_PROVIDER"},
        "body": BODY,
        "particulars": {
            "offence": "Fraud",
            "dataToPreserve": None,
            "custodianOrLocation": None,
            "followUpMla": None,
            "imminentThreat": "A threat to life",
            "accountIdentifiers": [
                {"kind": "PHONE", "value": "+60123456789", "platform": None, "chain": None},
                {"kind": "MESSENGER_HANDLE", "value": "@a", "platform": "tg", "chain": None},
            ],
            "contentLocations": [],
        },
        "evidence": [],
        **changes,
    }
    return RequestContent.model_validate(read)


def test_the_particulars_digest_is_the_hubs_of_what_it_stores() -> None:
    stored = Particulars(
        offence="Fraud",
        imminent_threat="A threat to life",
        account_identifiers=(
            DomainIdentifier(DomainIdentifierKind.PHONE, "+60123456789"),
            DomainIdentifier(DomainIdentifierKind.MESSENGER_HANDLE, "@a", "tg"),
        ),
    )
    hubs = particulars_sha256(particulars_normal_form(particulars_json(stored)))
    assert particulars_digest(read_request().particulars) == hubs
    # No particulars read: the digest of the empty normal form, as the hub's of a bare draft.
    bare = particulars_sha256(particulars_normal_form(particulars_json(Particulars())))
    assert particulars_digest(None) == bare


def test_a_step_content_names_the_request_as_read() -> None:
    content = step_content(
        read_request(),
        "FULFIL",
        evidence_sha256=["b" * 64, "a" * 64],
        text="Done.",
        outcome="FULL",
    )
    expected = StepContent(
        action="FULFIL",
        request=uuid.UUID("01a24589-c9fb-7108-913f-efc45993c142"),
        kind="DATA_DISCLOSURE",
        priority="EMERGENCY",
        requester=uuid.UUID("01a24589-c9fb-7108-913f-000000000001"),
        requested=uuid.UUID("01a24589-c9fb-7108-913f-000000000002"),
        legal_basis=None,
        body_sha256=hashlib.sha256(
            "Who registered the channel's admin account? ✓".encode()
        ).hexdigest(),
        particulars_sha256=particulars_digest(read_request().particulars),
        evidence_sha256=("b" * 64, "a" * 64),
        text_sha256=hashlib.sha256(b"Done.").hexdigest(),
        outcome="FULL",
    )
    assert content == expected


@pytest.mark.parametrize("missing", [{"body": None}, {"requester": None}, {"requested": None}])
def test_a_request_not_read_in_full_cannot_be_signed(missing: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not read in full"):
        step_content(read_request(**missing), "ACCEPT")


@pytest.mark.parametrize(
    ("global_id", "expected"),
    [
        (REQUEST, uuid.UUID("01a24589-c9fb-7108-913f-efc45993c142")),
        (POLICE, uuid.UUID("01a24589-c9fb-7108-913f-000000000001")),
        ("", None),
        ("not base64 !", None),
        (to_global_id("Case", uuid.UUID(int=0)).replace("A", "*"), None),
        ("Q2FzZTpub3QtYS11dWlk", None),  # Case:not-a-uuid
    ],
)
def test_the_uuid_of_a_global_id(global_id: str, expected: uuid.UUID | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="Not a global id"):
            uuid_of(global_id)
    else:
        assert uuid_of(global_id) == expected


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_a_signed_step_verifies_and_says_what_was_read(algorithm: SigningAlgorithm) -> None:
    key = AgencyPrivateKey.generate(algorithm)
    content = step_content(read_request(), "SUBMIT")
    agency, principal = uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 12, 5, 10, 0, 0, 123456, tzinfo=UTC)
    signed = sign_step(key, content, agency=agency, principal=principal, now=now)
    assert signed.key_thumbprint == key.public.thumbprint
    assert key.public.verify(signed.statement.encode(), signed.signature)
    statement = parse_statement(signed.statement)  # canonical, or it raises
    assert statement_problem(statement) is None
    expected = expected_statement(
        content, agency=agency, principal=principal, key=signed.key_thumbprint
    )
    assert first_mismatch(expected, {k: statement[k] for k in expected}) is None
    assert statement["issuedAt"] == "2026-12-05T10:00:00Z"
    again = sign_step(key, content, agency=agency, principal=principal, now=now)
    assert again.statement != signed.statement  # a fresh nonce each time


@pytest.mark.parametrize(
    ("endpoint", "socket"),
    [
        ("http://hub.test/graphql", "ws://hub.test/graphql"),
        ("https://hub.test:8443/graphql?x=1", "wss://hub.test:8443/graphql?x=1"),
        ("ftp://hub.test/graphql", None),
    ],
)
def test_the_socket_url_and_what_its_proof_names(endpoint: str, socket: str | None) -> None:
    if socket is None:
        with pytest.raises(ValueError, match="http or https"):
            websocket_url(endpoint)
        return
    assert websocket_url(endpoint) == socket
    # A proof names the http(s) URL without its query, for the socket as for the endpoint.
    assert proof_url(socket) == proof_url(endpoint) == endpoint.split("?")[0]


def test_a_payload_with_neither_result_nor_errors_is_an_error() -> None:
    empty = RequestPayloadFields(request=None, errors=[])
    with pytest.raises(CasehubClientError, match="neither a result nor errors"):
        settled(empty)
