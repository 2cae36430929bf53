"""Who sees and moves a cooperation request through the HTTP API (DESIGN §3 access policy).

A third agency, and the requested agency while the request is a draft, see nothing: `node`
is null, lists omit it, every mutation answers NOT_FOUND. The wrong party gets
INVALID_TRANSITION; a party's READER or INVESTIGATOR gets FORBIDDEN. The requested agency reads
the linked case's clear fields and the attached evidence while the request is open, and loses
them when it is withdrawn, declined or closed, unless a share grants more.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from casehub.api.ids import to_global_id
from casehub.domain.enums import AgencyKind, IdentifierKind, Role
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import Particulars
from casehub.domain.requests.transitions import Priority, RequestAction, RequestKind
from casehub.services.agencies import agencies, auth
from casehub.services.requests import lifecycle, transitions
from casehub.services.runtime import Runtime, Scope, open_scope
from tests.request_support import (
    PATHS,
    REQUESTED,
    REQUESTER,
    STEPS,
    Requests,
    request_input,
    three_agencies,
)

# DESIGN §3 by hand: the (state, step, party) triples that move a request.
ALLOWED = {
    ("DRAFT", "submit", REQUESTER),
    ("DRAFT", "withdraw", REQUESTER),
    ("SUBMITTED", "acknowledge", REQUESTED),
    ("SUBMITTED", "accept", REQUESTED),
    ("SUBMITTED", "decline", REQUESTED),
    ("SUBMITTED", "withdraw", REQUESTER),
    ("ACKNOWLEDGED", "accept", REQUESTED),
    ("ACKNOWLEDGED", "decline", REQUESTED),
    ("ACKNOWLEDGED", "withdraw", REQUESTER),
    ("ACCEPTED", "decline", REQUESTED),
    ("ACCEPTED", "fulfil", REQUESTED),
    ("ACCEPTED", "withdraw", REQUESTER),
    ("FULFILLED", "close", REQUESTER),
    ("PARTIALLY_FULFILLED", "close", REQUESTER),
    ("DECLINED", "close", REQUESTER),
}

CASE = """query($id: ID!) { node(id: $id) { ... on Case { id title viewerAccess summary } } }"""


def error_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The single error of a refused mutation, whose object must be null."""
    assert len(payload["errors"]) == 1, payload
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    error: dict[str, Any] = payload["errors"][0]
    assert error["message"], payload
    return error


async def _status(req: Requests, token: str, request_id: str) -> str:
    node = await req.read(token, request_id)
    assert node is not None
    status: str = node["status"]
    return status


# A third agency.


@pytest.mark.parametrize("state", list(PATHS))
async def test_a_third_agency_sees_nothing_and_moves_nothing(world, req, state):
    police, platform, outsider = await three_agencies(world)
    request_id, _ = await req.at(state, police, platform)

    for name, token in outsider.tokens.items():
        if name != "HUB_ADMIN":  # reads no request at all: test_hub_admin_reads_no_request
            assert await req.read(token, request_id) is None
    assert await req.listed(outsider.token) == {}
    for step in STEPS:
        for token in (outsider.token, outsider.tokens["READER"]):
            error = error_of(await req.step(token, step, request_id))
            assert error["code"] == "NOT_FOUND", (step, error)
            assert error["field"] == ["id"]
    error = error_of(await req.message(outsider.token, request_id, "Hello?"))
    assert error["code"] == "NOT_FOUND"
    assert await _status(req, police.token, request_id) == state


# The requested agency and a draft.


async def test_a_draft_does_not_exist_for_the_requested_agency(world, req):
    police, platform, _ = await three_agencies(world)
    request_id = await req.draft(police.token, platform.id)

    assert await req.read(platform.token, request_id) is None
    assert await req.listed(platform.token) == {}
    for step in STEPS:
        error = error_of(await req.step(platform.token, step, request_id))
        assert error["code"] == "NOT_FOUND", (step, error)
    assert error_of(await req.message(platform.token, request_id, "Hi"))["code"] == "NOT_FOUND"
    assert await _status(req, police.token, request_id) == "DRAFT"

    await req.moved(police.token, "submit", request_id)
    seen = await req.read(platform.token, request_id)
    assert seen is not None
    assert seen["viewerSide"] == "REQUESTED"
    assert await req.listed(platform.token) == {request_id: "SUBMITTED"}


async def test_a_draft_withdrawn_before_submission_never_reaches_the_requested_agency(world, req):
    """It was never sent: withdrawing a draft must not reveal it to the requested agency."""
    police, platform, _ = await three_agencies(world)
    request_id = await req.draft(police.token, platform.id, title="Never sent")
    assert await req.moved(police.token, "withdraw", request_id) == "WITHDRAWN"

    assert await req.read(platform.token, request_id) is None
    assert await req.listed(platform.token) == {}


# Which party may take which step.


@pytest.mark.parametrize("state", list(PATHS))
async def test_every_refused_step_is_an_invalid_transition(world, req, state):
    police, platform, _ = await three_agencies(world)
    request_id, _ = await req.at(state, police, platform)
    tokens = {REQUESTER: police.token, REQUESTED: platform.token}

    for step, who in itertools.product(STEPS, (REQUESTER, REQUESTED)):
        if (state, step, who) in ALLOWED:
            continue
        error = error_of(await req.step(tokens[who], step, request_id))
        # The draft does not exist for the requested agency yet.
        expected = "NOT_FOUND" if state == "DRAFT" and who == REQUESTED else "INVALID_TRANSITION"
        assert error["code"] == expected, (state, step, who, error)
        assert error["field"] == ["id"], error
    assert await _status(req, police.token, request_id) == state


@pytest.mark.parametrize(("state", "step", "who"), sorted(ALLOWED))
async def test_every_allowed_step_moves(world, req, state, step, who):
    police, platform, _ = await three_agencies(world)
    request_id, _ = await req.at(state, police, platform)
    token = police.token if who == REQUESTER else platform.token
    expected = {
        "submit": "SUBMITTED",
        "acknowledge": "ACKNOWLEDGED",
        "accept": "ACCEPTED",
        "decline": "DECLINED",
        "fulfil": "FULFILLED",
        "withdraw": "WITHDRAWN",
        "close": "CLOSED",
    }[step]
    assert await req.moved(token, step, request_id) == expected
    assert await _status(req, police.token, request_id) == expected


async def test_the_requester_cannot_acknowledge_its_own_request(world, req):
    police, platform, _ = await three_agencies(world)
    request_id, _ = await req.at("SUBMITTED", police, platform)
    error = error_of(await req.step(police.token, "acknowledge", request_id))
    assert error["code"] == "INVALID_TRANSITION"
    assert await _status(req, platform.token, request_id) == "SUBMITTED"


# Roles inside a party.

STEP_OF_PARTY = [
    ("SUBMITTED", REQUESTED, "acknowledge"),
    ("SUBMITTED", REQUESTED, "accept"),
    ("ACKNOWLEDGED", REQUESTED, "decline"),
    ("ACCEPTED", REQUESTED, "fulfil"),
    ("DRAFT", REQUESTER, "submit"),
    ("SUBMITTED", REQUESTER, "withdraw"),
    ("DECLINED", REQUESTER, "close"),
]


@pytest.mark.parametrize(("state", "who", "step"), STEP_OF_PARTY)
async def test_only_liaison_officers_and_agency_admins_act(world, req, state, who, step):
    police, platform, _ = await three_agencies(world)
    actor = police if who == REQUESTER else platform
    # Refused roles never move the request; also not when the step would be invalid anyway.
    request_id, _ = await req.at(state, police, platform)
    for role in ("READER", "INVESTIGATOR", "HUB_ADMIN"):
        error = error_of(await req.step(actor.tokens[role], step, request_id))
        assert error["code"] == "FORBIDDEN", (role, error)
        assert error_of(await req.message(actor.tokens[role], request_id, "Hi"))["code"] == (
            "FORBIDDEN"
        )
        # Reading is open to every agency role of a party; HUB_ADMIN is no agency role.
        if role != "HUB_ADMIN":
            assert await req.read(actor.tokens[role], request_id) is not None
    assert await _status(req, police.token, request_id) == state

    for role in ("LIAISON_OFFICER", "AGENCY_ADMIN"):
        request_id, _ = await req.at(state, police, platform)
        sent = await req.message(actor.tokens[role], request_id, f"From the {role}")
        assert sent["errors"] == [], sent
        assert await req.moved(actor.tokens[role], step, request_id) != state


HUB_READ = """{ cooperationRequests { edges { node { body
  particulars { accountIdentifiers { value } } messages { body } } } } }"""


async def test_hub_admin_reads_no_request(world, req, gql):
    """Issue 11 item 4: a HUB_ADMIN-only token of a party read the requests' plaintext."""
    police, platform, _ = await three_agencies(world)
    marker = secrets.token_hex(4)
    request_id, _ = await req.at(
        "ACKNOWLEDGED",
        police,
        platform,
        kind="DATA_DISCLOSURE",
        body=f"Body {marker}",
        particulars={"accountIdentifiers": [{"kind": "EMAIL", "value": f"x{marker}@mail.test"}]},
    )
    assert (await req.message(platform.token, request_id, f"Note {marker}"))["errors"] == []
    documents = [
        (HUB_READ, {}),
        ("{ cooperationRequests { totalCount } }", {}),
        ("{ cases { edges { node { id title reference } } } }", {}),
        ("{ cases { totalCount } }", {}),
        (
            "query($id: ID!) { node(id: $id) { id ... on CooperationRequest { body } } }",
            {"id": request_id},
        ),
    ]
    for party in (police, platform):
        for query, variables in documents:
            body = await gql(party.tokens["HUB_ADMIN"], query, variables)
            assert body["data"] is None or set(body["data"].values()) == {None}, body
            assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
            assert marker not in str(body)
    # The agency roles of the same party still read it.
    assert marker in str(await gql(platform.tokens["READER"], HUB_READ))


@pytest.mark.parametrize("role", ["READER", "INVESTIGATOR", "HUB_ADMIN"])
async def test_only_liaison_officers_and_agency_admins_create(world, req, role):
    police, platform, _ = await three_agencies(world)
    error = error_of(await req.create(police.tokens[role], request_input(platform.id)))
    assert error["code"] == "FORBIDDEN"
    assert await req.listed(police.token) == {}
    for allowed in ("LIAISON_OFFICER", "AGENCY_ADMIN"):
        created = await req.create(police.tokens[allowed], request_input(platform.id))
        assert created["errors"] == []


# The cooperationRequests list.


async def test_direction_and_status_filters(world, req):
    police, platform, outsider = await three_agencies(world)
    sent_draft = await req.draft(police.token, platform.id)
    sent_submitted, _ = await req.at("SUBMITTED", police, platform)
    sent_accepted, _ = await req.at("ACCEPTED", police, platform)
    received, _ = await req.at("DECLINED", platform, police)
    elsewhere, _ = await req.at("SUBMITTED", outsider, platform)

    everything = {
        sent_draft: "DRAFT",
        sent_submitted: "SUBMITTED",
        sent_accepted: "ACCEPTED",
        received: "DECLINED",
    }
    assert await req.listed(police.token) == everything
    assert await req.listed(police.token, direction="OUTGOING") == {
        sent_draft: "DRAFT",
        sent_submitted: "SUBMITTED",
        sent_accepted: "ACCEPTED",
    }
    assert await req.listed(police.token, direction="INCOMING") == {received: "DECLINED"}
    assert await req.listed(police.token, status=["SUBMITTED", "DECLINED"]) == {
        sent_submitted: "SUBMITTED",
        received: "DECLINED",
    }
    assert await req.listed(police.token, direction="OUTGOING", status=["DECLINED"]) == {}
    # The platform: the draft is not there yet, the outsider's request is.
    assert await req.listed(platform.token, direction="INCOMING") == {
        sent_submitted: "SUBMITTED",
        sent_accepted: "ACCEPTED",
        elsewhere: "SUBMITTED",
    }
    assert await req.listed(platform.token, direction="OUTGOING") == {received: "DECLINED"}
    assert await req.listed(outsider.token) == {elsewhere: "SUBMITTED"}


@asynccontextmanager
async def acting(runtime: Runtime, token: str) -> AsyncIterator[Scope]:
    """A service scope authenticated with `token`, as the HTTP app builds one."""
    async with open_scope(runtime) as scope:
        scope.principal = await auth.authenticate(runtime, scope, f"Bearer {token}")
        yield scope


def at_time(runtime: Runtime, moment: datetime) -> Runtime:
    """The same database, keys and settings with a clock stopped at `moment`."""
    return dataclasses.replace(runtime, clock=lambda: moment)


async def _backdated(
    runtime: Runtime,
    moment: datetime,
    requester: Any,
    requested: Any,
    steps: list[tuple[str, RequestAction]],
    kind: RequestKind = RequestKind.INFORMATION_REQUEST,
    particulars: Particulars | None = None,
) -> str:
    """Create and move a request with the clock at `moment`; its global id."""
    past = at_time(runtime, moment)
    async with acting(past, requester.token) as scope:
        row = await lifecycle.create_request(
            scope,
            requested_agency_id=requested.uuid,
            kind=kind,
            priority=Priority.ROUTINE,
            title="Backdated request",
            body="Sent a while ago.",
            legal_basis="MLA treaty art. 1",
            particulars=particulars,
        )
    tokens = {REQUESTER: requester.token, REQUESTED: requested.token}
    for who, action in steps:
        async with acting(past, tokens[who]) as scope:
            extra: dict[str, Any] = {"text": "Reason"} if action is RequestAction.DECLINE else {}
            await transitions.transition(scope, request_id=row.id, action=action, **extra)
    return to_global_id("CooperationRequest", row.id)


async def test_overdue_filter_lists_requests_past_the_deadline_of_their_step(world, req, runtime):
    police, platform, _ = await three_agencies(world)
    now = datetime.now(UTC)
    submit = [(REQUESTER, RequestAction.SUBMIT)]
    # Waits on acknowledgement (7 days) since 40 days: overdue.
    late_ack = await _backdated(runtime, now - timedelta(days=40), police, platform, submit)
    # Acknowledged 40 days ago, no decision (30 days): overdue.
    late_decision = await _backdated(
        runtime,
        now - timedelta(days=40),
        police,
        platform,
        [*submit, (REQUESTED, RequestAction.ACKNOWLEDGE)],
    )
    # Submitted 3 days ago: within its deadlines.
    recent = await _backdated(runtime, now - timedelta(days=3), police, platform, submit)
    # Declined long ago: nothing pending, so never overdue.
    finished = await _backdated(
        runtime,
        now - timedelta(days=200),
        police,
        platform,
        [*submit, (REQUESTED, RequestAction.DECLINE)],
    )
    # Created now through the API.
    fresh, _ = await req.at("SUBMITTED", police, platform)

    overdue = {late_ack: "SUBMITTED", late_decision: "ACKNOWLEDGED"}
    assert await req.listed(police.token, overdue=True) == overdue
    assert await req.listed(police.token, direction="OUTGOING", overdue=True) == overdue
    assert await req.listed(platform.token, direction="INCOMING", overdue=True) == overdue
    assert await req.listed(platform.token, direction="OUTGOING", overdue=True) == {}
    assert await req.listed(police.token, overdue=True, status=["ACKNOWLEDGED"]) == {
        late_decision: "ACKNOWLEDGED"
    }
    everything = await req.listed(police.token)
    assert set(everything) == {late_ack, late_decision, recent, finished, fresh}
    assert await req.listed(police.token, overdue=False) == everything

    for request_id in everything:
        for token in (police.token, platform.token):
            node = await req.read(token, request_id)
            assert node is not None
            assert node["isOverdue"] is (request_id in overdue), (request_id, node)


async def test_an_accepted_request_is_overdue_after_its_execution_deadline(world, req, runtime):
    police, platform, _ = await three_agencies(world)
    now = datetime.now(UTC)
    kind = RequestKind.DATA_DISCLOSURE
    particulars = Particulars(
        account_identifiers=(IdentifierInput(IdentifierKind.PHONE, "+60123456789"),)
    )
    accepted = [(REQUESTER, RequestAction.SUBMIT), (REQUESTED, RequestAction.ACCEPT)]
    # A data disclosure is due 10 days after submission.
    late, in_time = [
        await _backdated(
            runtime, now - timedelta(days=days), police, platform, accepted, kind, particulars
        )
        for days in (11, 9)
    ]
    assert await req.listed(platform.token, overdue=True) == {late: "ACCEPTED"}
    assert await req.listed(platform.token, status=["ACCEPTED"]) == {
        late: "ACCEPTED",
        in_time: "ACCEPTED",
    }


async def _agency_in(runtime: Runtime, zone: str) -> tuple[UUID, str, str]:
    """An agency in a time zone with a LIAISON_OFFICER token: (uuid, global id, token)."""
    code = f"TZ-{secrets.token_hex(4).upper()}"
    async with open_scope(runtime) as scope:
        view = await agencies.register_agency(
            scope,
            code=code,
            name=f"Agency {code}",
            jurisdiction="FR",
            kind=AgencyKind.PROSECUTOR,
            timezone=zone,
            as_operator=True,
        )
        _id, token = await auth.issue_token(scope, agency_code=code, roles=[Role.LIAISON_OFFICER])
    return view.id, to_global_id("Agency", view.id), token


async def test_deadlines_follow_the_requested_agencys_zone_across_dst(world, gql, runtime):
    police = await world.agency("POL", "MY")
    paris_uuid, _paris_id, paris_token = await _agency_in(runtime, "Europe/Paris")
    # 2026-03-25 10:00 in Paris (UTC+1); a week later Paris is on summer time (UTC+2).
    past = at_time(runtime, datetime(2026, 3, 25, 9, 0, tzinfo=UTC))
    async with acting(past, police.token) as scope:
        row = await lifecycle.create_request(
            scope,
            requested_agency_id=paris_uuid,
            kind=RequestKind.MUTUAL_LEGAL_ASSISTANCE,
            priority=Priority.ROUTINE,
            title="MLA to Paris",
            body="Please hear the witness.",
            legal_basis="MY-FR MLA treaty art. 5",
        )
    async with acting(past, police.token) as scope:
        await transitions.transition(scope, request_id=row.id, action=RequestAction.SUBMIT)
    body = await gql(
        paris_token,
        """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
        submittedAt acknowledgeBy decideBy isOverdue } } }""",
        {"id": to_global_id("CooperationRequest", row.id)},
    )
    node = body["data"]["node"]

    def instant(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    assert instant(node["submittedAt"]) == datetime(2026, 3, 25, 9, 0, tzinfo=UTC)
    assert instant(node["acknowledgeBy"]) == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    assert instant(node["decideBy"]) == datetime(2026, 4, 24, 8, 0, tzinfo=UTC)


# The linked case and the attached evidence, per state.

EVIDENCE_CONTENT = "Y2hhdCBsb2cgb2YgdGhlIGNoYW5uZWw="  # "chat log of the channel"


async def _linked(world: Any, req: Requests, api: Any) -> tuple[Any, Any, str, str, str]:
    """Police open a case with one evidence item and draft a request linking both."""
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE", AgencyKind.SERVICE_PROVIDER)
    case = await api.open_case(police.token)
    item = await api.mutate(
        police.token,
        "addEvidence",
        {
            "caseId": case["id"],
            "kind": "CHAT_LOG",
            "title": "Channel export",
            "description": "Export of the scam channel",
            "contentBase64": EVIDENCE_CONTENT,
            "mediaType": "text/plain",
        },
    )
    assert item["errors"] == [], item
    request_id = await req.draft(
        police.token, platform.id, caseId=case["id"], evidenceIds=[item["evidence"]["id"]]
    )
    return police, platform, case["id"], item["evidence"]["id"], request_id


async def _drive(req: Requests, police: Any, platform: Any, request_id: str, state: str) -> None:
    tokens = {REQUESTER: police.token, REQUESTED: platform.token}
    for who, step, extra in PATHS[state]:
        await req.moved(tokens[who], step, request_id, **extra)


async def _case_for(req: Requests, token: str, case_id: str) -> dict[str, Any] | None:
    body = await req.gql(token, CASE, {"id": case_id})
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["node"]
    return found


@pytest.mark.parametrize("state", ["SUBMITTED", "ACKNOWLEDGED", "ACCEPTED"])
async def test_while_open_the_requested_agency_reads_the_case_and_the_evidence(
    world, req, api, state
):
    police, platform, case_id, evidence_id, request_id = await _linked(world, req, api)
    await _drive(req, police, platform, request_id, state)

    case = await _case_for(req, platform.token, case_id)
    assert case is not None
    assert case["viewerAccess"] == "METADATA"
    assert case["title"] == "Operation Gold Channel"
    assert case["summary"] is None

    node = await req.read(platform.token, request_id)
    assert node is not None
    assert node["case"] == {
        "id": case_id,
        "viewerAccess": "METADATA",
        "title": "Operation Gold Channel",
        "summary": None,
    }
    assert node["evidence"] == [
        {
            "role": "ATTACHED",
            "evidenceId": evidence_id,
            "title": "Channel export",
            "description": "Export of the scam channel",
            "contentBase64": EVIDENCE_CONTENT,
        }
    ]
    # Through the item itself too: FULL on the evidence attached to the request (DESIGN §3).
    original = await req.gql(
        platform.token,
        "query($id: ID!) { node(id: $id) { ... on Evidence {"
        " viewerAccess description contentBase64 } } }",
        {"id": evidence_id},
    )
    assert original["data"]["node"] == {
        "viewerAccess": "FULL",
        "description": "Export of the scam channel",
        "contentBase64": EVIDENCE_CONTENT,
    }


async def test_a_draft_links_nothing_for_the_requested_agency(world, req, api):
    _police, platform, case_id, _evidence_id, _request_id = await _linked(world, req, api)
    assert await _case_for(req, platform.token, case_id) is None


@pytest.mark.parametrize(
    "state",
    [
        "WITHDRAWN_FROM_SUBMITTED",
        "WITHDRAWN_FROM_ACKNOWLEDGED",
        "WITHDRAWN_FROM_ACCEPTED",
        "DECLINED_FROM_SUBMITTED",
        "DECLINED_FROM_ACCEPTED",
        "CLOSED_AFTER_DECLINE",
        "CLOSED_AFTER_FULFILMENT",
    ],
)
async def test_when_finished_the_case_and_evidence_are_gone(world, req, api, state):
    police, platform, case_id, _evidence_id, request_id = await _linked(world, req, api)
    paths: dict[str, list[tuple[str, str]]] = {
        "WITHDRAWN_FROM_SUBMITTED": [(REQUESTER, "submit"), (REQUESTER, "withdraw")],
        "WITHDRAWN_FROM_ACKNOWLEDGED": [
            (REQUESTER, "submit"),
            (REQUESTED, "acknowledge"),
            (REQUESTER, "withdraw"),
        ],
        "WITHDRAWN_FROM_ACCEPTED": [
            (REQUESTER, "submit"),
            (REQUESTED, "accept"),
            (REQUESTER, "withdraw"),
        ],
        "DECLINED_FROM_SUBMITTED": [(REQUESTER, "submit"), (REQUESTED, "decline")],
        "DECLINED_FROM_ACCEPTED": [
            (REQUESTER, "submit"),
            (REQUESTED, "accept"),
            (REQUESTED, "decline"),
        ],
        "CLOSED_AFTER_DECLINE": [
            (REQUESTER, "submit"),
            (REQUESTED, "decline"),
            (REQUESTER, "close"),
        ],
        "CLOSED_AFTER_FULFILMENT": [
            (REQUESTER, "submit"),
            (REQUESTED, "accept"),
            (REQUESTED, "fulfil"),
            (REQUESTER, "close"),
        ],
    }
    tokens = {REQUESTER: police.token, REQUESTED: platform.token}
    for who, step in paths[state]:
        await req.moved(tokens[who], step, request_id)

    assert await _case_for(req, platform.token, case_id) is None
    node = await req.read(platform.token, request_id)
    assert node is not None  # the request itself stays in the platform's records
    assert node["case"] is None
    assert [item for item in node["evidence"] if item["role"] == "ATTACHED"] == []
    # The owner still has everything.
    owned = await _case_for(req, police.token, case_id)
    assert owned is not None
    assert owned["viewerAccess"] == "OWNER"


@pytest.mark.parametrize("finish", ["decline", "withdraw"])
async def test_a_full_share_keeps_case_access_whatever_the_request_does(world, req, api, finish):
    police, platform, case_id, _evidence_id, request_id = await _linked(world, req, api)
    await api.shared(police.token, case_id, platform.id, "FULL")
    await req.moved(police.token, "submit", request_id)
    case = await _case_for(req, platform.token, case_id)
    assert case is not None
    assert case["viewerAccess"] == "FULL"

    await req.moved(platform.token if finish == "decline" else police.token, finish, request_id)
    case = await _case_for(req, platform.token, case_id)
    assert case is not None
    assert case["viewerAccess"] == "FULL"
    assert case["summary"] == api.sample.summary
    if finish == "decline":
        await req.moved(police.token, "close", request_id)
        case = await _case_for(req, platform.token, case_id)
        assert case is not None
        assert case["viewerAccess"] == "FULL"


async def test_supplied_evidence_is_readable_in_full_by_the_requester_even_after_close(
    world, req, api
):
    police, platform, _case_id, _evidence_id, request_id = await _linked(world, req, api)
    own_case = await api.open_case(platform.token, title="Platform records")
    supplied = await api.mutate(
        platform.token,
        "addEvidence",
        {
            "caseId": own_case["id"],
            "kind": "DOCUMENT",
            "title": "Subscriber record",
            "description": "Registration data of the admin account",
            "contentBase64": "c3Vic2NyaWJlciByZWNvcmQ=",  # "subscriber record"
            "mediaType": "text/plain",
        },
    )
    assert supplied["errors"] == [], supplied
    supplied_id = supplied["evidence"]["id"]
    await req.moved(police.token, "submit", request_id)
    await req.moved(platform.token, "accept", request_id)
    assert (
        await req.moved(platform.token, "fulfil", request_id, evidenceIds=[supplied_id])
        == "FULFILLED"
    )

    expected = {
        "role": "SUPPLIED",
        "evidenceId": supplied_id,
        "title": "Subscriber record",
        "description": "Registration data of the admin account",
        "contentBase64": "c3Vic2NyaWJlciByZWNvcmQ=",
    }
    for state in ("FULFILLED", "CLOSED"):
        if state == "CLOSED":
            await req.moved(police.token, "close", request_id)
        node = await req.read(police.token, request_id)
        assert node is not None
        assert node["status"] == state
        assert [item for item in node["evidence"] if item["role"] == "SUPPLIED"] == [expected]
        # Supplying evidence does not open the platform's case to the police.
        assert await _case_for(req, police.token, own_case["id"]) is None
