"""Bad input to the cooperation request mutations: a clear, typed error, and nothing written.

Each refusal is checked against the row counts of every table but the audit log (which records
refusals by design), including the request tables that tests/support.py does not list.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from casehub.api.ids import to_global_id
from casehub.persistence.tables import (
    CooperationRequestRow,
    RequestEventRow,
    RequestEvidenceRow,
    RequestMessageRow,
)
from casehub.services.runtime import Runtime, open_scope
from tests.request_support import CREATE, STEPS, Requests, request_input, three_agencies
from tests.support import nothing_written

REQUEST_TABLES = (CooperationRequestRow, RequestEventRow, RequestMessageRow, RequestEvidenceRow)


async def _request_counts(runtime: Runtime) -> dict[str, int]:
    async with open_scope(runtime) as scope:
        return {model.__name__: await scope.store.count_rows(model) for model in REQUEST_TABLES}


@asynccontextmanager
async def nothing_at_all_written(runtime: Runtime) -> AsyncIterator[None]:
    """Neither the case tables nor the request tables change inside the block."""
    before = await _request_counts(runtime)
    async with nothing_written(runtime):
        yield
    assert await _request_counts(runtime) == before


def refused(payload: dict[str, Any], code: str | set[str], field: list[str]) -> dict[str, Any]:
    """The payload holds exactly one error of this code on this field, and no object."""
    assert len(payload["errors"]) == 1, payload
    error: dict[str, Any] = payload["errors"][0]
    codes = {code} if isinstance(code, str) else code
    assert error["code"] in codes, payload
    assert error["field"] == field, payload
    assert error["message"], payload
    for marker in ("Traceback", "sqlalchemy", "Unexpected error"):
        assert marker not in error["message"]
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    return error


@pytest.fixture
async def parties(world: Any) -> tuple[Any, Any, Any]:
    return await three_agencies(world)


async def _evidence(api: Any, token: str, case_id: str, title: str = "Chat export") -> str:
    item = await api.mutate(
        token,
        "addEvidence",
        {
            "caseId": case_id,
            "kind": "CHAT_LOG",
            "title": title,
            "description": "Export of the channel",
            "contentBase64": "aGVsbG8=",
            "mediaType": "text/plain",
        },
    )
    assert item["errors"] == [], item
    evidence_id: str = item["evidence"]["id"]
    return evidence_id


# Ids.


@pytest.mark.parametrize("step", list(STEPS))
async def test_unknown_request_id(runtime, req, parties, step):
    police, _platform, _ = parties
    unknown = to_global_id("CooperationRequest", uuid.uuid4())
    async with nothing_at_all_written(runtime):
        refused(await req.step(police.token, step, unknown), "NOT_FOUND", ["id"])
        refused(await req.message(police.token, unknown, "Hello"), "NOT_FOUND", ["id"])


@pytest.mark.parametrize("step", list(STEPS))
async def test_request_of_other_agencies(runtime, req, parties, step):
    police, platform, outsider = parties
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    async with nothing_at_all_written(runtime):
        refused(await req.step(outsider.token, step, request_id), "NOT_FOUND", ["id"])
        refused(await req.message(outsider.token, request_id, "Hello"), "NOT_FOUND", ["id"])


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_case_id_where_a_request_id_is_expected(runtime, api, req, parties, step):
    police, _platform, _ = parties
    case = await api.open_case(police.token)
    async with nothing_at_all_written(runtime):
        refused(await req.step(police.token, step, case["id"]), {"VALIDATION", "NOT_FOUND"}, ["id"])
        refused(
            await req.message(police.token, case["id"], "Hello"),
            {"VALIDATION", "NOT_FOUND"},
            ["id"],
        )


@pytest.mark.parametrize("bad", ["", "not-an-id", "Q29vcGVyYXRpb25SZXF1ZXN0Onh5eg", "x" * 200])
async def test_malformed_request_ids(runtime, req, parties, bad):
    police, _platform, _ = parties
    async with nothing_at_all_written(runtime):
        for step in STEPS:
            refused(await req.step(police.token, step, bad), "VALIDATION", ["id"])


# Transitions out of order.

OUT_OF_ORDER = [
    # (steps to get there, who, step, expected code)
    ([], "requester", "acknowledge", "INVALID_TRANSITION"),
    ([], "requester", "close", "INVALID_TRANSITION"),
    ([("requester", "submit")], "requester", "submit", "INVALID_TRANSITION"),
    ([("requester", "submit")], "requested", "fulfil", "INVALID_TRANSITION"),
    ([("requester", "submit")], "requester", "close", "INVALID_TRANSITION"),
    (
        [("requester", "submit"), ("requested", "acknowledge")],
        "requested",
        "acknowledge",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requested", "accept")],
        "requested",
        "accept",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requested", "decline")],
        "requested",
        "accept",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requested", "decline")],
        "requester",
        "withdraw",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requester", "withdraw")],
        "requester",
        "submit",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requester", "withdraw")],
        "requester",
        "close",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requested", "decline"), ("requester", "close")],
        "requester",
        "close",
        "INVALID_TRANSITION",
    ),
    (
        [("requester", "submit"), ("requested", "accept"), ("requested", "fulfil")],
        "requested",
        "fulfil",
        "INVALID_TRANSITION",
    ),
]


@pytest.mark.parametrize(("path", "who", "step", "code"), OUT_OF_ORDER)
async def test_transitions_out_of_order(runtime, req, parties, path, who, step, code):
    police, platform, _ = parties
    tokens = {"requester": police.token, "requested": platform.token}
    request_id = await req.draft(police.token, platform.id)
    for actor, earlier in path:
        await req.moved(tokens[actor], earlier, request_id)
    before = await req.snapshot(police.token, request_id)
    async with nothing_at_all_written(runtime):
        refused(await req.step(tokens[who], step, request_id), code, ["id"])
    assert await req.snapshot(police.token, request_id) == before


# Reasons and messages.


@pytest.mark.parametrize("step", ["decline", "withdraw"])
@pytest.mark.parametrize("reason", ["", "   ", "\n\t "])
async def test_blank_reasons_are_refused(runtime, req, parties, step, reason):
    police, platform, _ = parties
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    token = platform.token if step == "decline" else police.token
    async with nothing_at_all_written(runtime):
        refused(await req.step(token, step, request_id, reason=reason), "VALIDATION", ["reason"])
    assert (await req.snapshot(police.token, request_id))["status"] == "SUBMITTED"


@pytest.mark.parametrize("step", ["decline", "withdraw"])
async def test_a_missing_reason_is_refused_before_execution(runtime, gql, req, parties, step):
    police, platform, _ = parties
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    token = platform.token if step == "decline" else police.token
    name = STEPS[step][0]
    async with nothing_at_all_written(runtime):
        body = await gql(
            token,
            f"mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ errors {{ code }} }} }}",
            {"id": request_id},
        )
    assert body.get("data") is None, body
    assert body["errors"], body
    assert "reason" in body["errors"][0]["message"]
    assert (await req.snapshot(police.token, request_id))["status"] == "SUBMITTED"


@pytest.mark.parametrize("step", ["decline", "withdraw"])
async def test_an_oversize_reason_is_refused(runtime, req, parties, step):
    police, platform, _ = parties
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    token = platform.token if step == "decline" else police.token
    async with nothing_at_all_written(runtime):
        refused(
            await req.step(token, step, request_id, reason="r" * 20_001), "VALIDATION", ["reason"]
        )


async def _accepted(req: Requests, police: Any, platform: Any) -> str:
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    await req.moved(platform.token, "accept", request_id)
    return request_id


@pytest.mark.parametrize("message", ["", "   ", "m" * 20_001])
async def test_fulfil_needs_a_message_of_sensible_size(runtime, req, parties, message):
    police, platform, _ = parties
    request_id = await _accepted(req, police, platform)
    async with nothing_at_all_written(runtime):
        refused(
            await req.step(platform.token, "fulfil", request_id, message=message),
            "VALIDATION",
            ["message"],
        )
    assert (await req.snapshot(police.token, request_id))["status"] == "ACCEPTED"


async def test_fulfil_without_message_or_outcome_is_refused_before_execution(
    runtime, gql, req, parties
):
    police, platform, _ = parties
    request_id = await _accepted(req, police, platform)
    async with nothing_at_all_written(runtime):
        for given in ("outcome: FULL", 'message: "Done"'):
            body = await gql(
                platform.token,
                "mutation($id: ID!) { fulfilCooperationRequest(input: {id: $id, "
                + given
                + "}) { errors { code } } }",
                {"id": request_id},
            )
            assert body.get("data") is None, body
            assert body["errors"], body
    assert (await req.snapshot(police.token, request_id))["status"] == "ACCEPTED"


@pytest.mark.parametrize("text", ["", "  \n", "m" * 20_001])
async def test_bad_messages_are_refused(runtime, req, parties, text):
    police, platform, _ = parties
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    async with nothing_at_all_written(runtime):
        for token in (police.token, platform.token):
            refused(await req.message(token, request_id, text), "VALIDATION", ["body"])


async def test_a_message_of_the_maximum_size_is_taken(req, parties):
    police, platform, _ = parties
    request_id = await req.draft(police.token, platform.id)
    await req.moved(police.token, "submit", request_id)
    sent = await req.message(platform.token, request_id, "m" * 20_000)
    assert sent["errors"] == [], sent
    assert sent["message"]["body"] == "m" * 20_000


@pytest.mark.parametrize(
    "path",
    [
        [("requester", "submit"), ("requester", "withdraw")],
        [("requester", "submit"), ("requested", "decline"), ("requester", "close")],
    ],
)
async def test_a_finished_request_takes_no_more_messages(runtime, req, parties, path):
    police, platform, _ = parties
    tokens = {"requester": police.token, "requested": platform.token}
    request_id = await req.draft(police.token, platform.id)
    for who, step in path:
        await req.moved(tokens[who], step, request_id)
    async with nothing_at_all_written(runtime):
        for token in tokens.values():
            payload = await req.message(token, request_id, "Anything new?")
            assert len(payload["errors"]) == 1, payload
            assert payload["errors"][0]["code"] in ("VALIDATION", "INVALID_TRANSITION")
            assert payload["message"] is None


# Creating: the other agency, the linked case and the attached evidence.


async def test_requesting_your_own_agency(runtime, req, parties):
    police, _platform, _ = parties
    async with nothing_at_all_written(runtime):
        refused(
            await req.create(police.token, request_input(police.id)),
            "VALIDATION",
            ["requestedAgencyId"],
        )


async def test_requesting_an_unknown_agency(runtime, api, req, parties):
    police, _platform, _ = parties
    case = await api.open_case(police.token)
    async with nothing_at_all_written(runtime):
        refused(
            await req.create(police.token, request_input(to_global_id("Agency", uuid.uuid4()))),
            "NOT_FOUND",
            ["requestedAgencyId"],
        )
        refused(
            await req.create(police.token, request_input(case["id"])),
            {"VALIDATION", "NOT_FOUND"},
            ["requestedAgencyId"],
        )


async def test_linking_another_agencys_case(runtime, api, req, parties):
    police, platform, outsider = parties
    hidden = await api.open_case(outsider.token)
    shared = await api.open_case(outsider.token)
    await api.shared(outsider.token, shared["id"], police.id, "FULL")
    async with nothing_at_all_written(runtime):
        refused(
            await req.create(police.token, request_input(platform.id, caseId=hidden["id"])),
            "NOT_FOUND",
            ["caseId"],
        )
        # A case shared to the requester is still not its own to link.
        refused(
            await req.create(police.token, request_input(platform.id, caseId=shared["id"])),
            {"FORBIDDEN", "NOT_FOUND"},
            ["caseId"],
        )
        refused(
            await req.create(
                police.token, request_input(platform.id, caseId=to_global_id("Case", uuid.uuid4()))
            ),
            "NOT_FOUND",
            ["caseId"],
        )


async def test_evidence_of_another_case_of_the_same_agency(runtime, api, req, parties):
    police, platform, _ = parties
    linked = await api.open_case(police.token)
    other = await api.open_case(police.token)
    own = await _evidence(api, police.token, linked["id"])
    foreign = await _evidence(api, police.token, other["id"])
    async with nothing_at_all_written(runtime):
        refused(
            await req.create(
                police.token,
                request_input(platform.id, caseId=linked["id"], evidenceIds=[foreign]),
            ),
            "VALIDATION",
            ["evidenceIds", "0"],
        )
        refused(
            await req.create(
                police.token,
                request_input(platform.id, caseId=linked["id"], evidenceIds=[own, foreign]),
            ),
            "VALIDATION",
            ["evidenceIds", "1"],
        )


async def test_evidence_of_another_agency(runtime, api, req, parties):
    police, platform, outsider = parties
    mine = await api.open_case(police.token)
    theirs = await api.open_case(outsider.token)
    hidden = await _evidence(api, outsider.token, theirs["id"])
    shared_case = await api.open_case(outsider.token)
    shared = await _evidence(api, outsider.token, shared_case["id"])
    await api.shared(outsider.token, shared_case["id"], police.id, "FULL")
    for evidence_id in (hidden, shared, to_global_id("Evidence", uuid.uuid4())):
        async with nothing_at_all_written(runtime):
            refused(
                await req.create(
                    police.token,
                    request_input(platform.id, caseId=mine["id"], evidenceIds=[evidence_id]),
                ),
                {"VALIDATION", "NOT_FOUND"},
                ["evidenceIds", "0"],
            )


async def test_evidence_without_a_linked_case(runtime, api, req, parties):
    police, platform, _ = parties
    case = await api.open_case(police.token)
    evidence_id = await _evidence(api, police.token, case["id"])
    async with nothing_at_all_written(runtime):
        payload = await req.create(
            police.token, request_input(platform.id, evidenceIds=[evidence_id])
        )
        error = refused(payload, "VALIDATION", payload["errors"][0]["field"])
        assert error["field"][0] == "evidenceIds", error


async def test_the_same_evidence_twice(runtime, api, req, parties):
    police, platform, _ = parties
    case = await api.open_case(police.token)
    evidence_id = await _evidence(api, police.token, case["id"])
    async with nothing_at_all_written(runtime):
        payload = await req.create(
            police.token,
            request_input(platform.id, caseId=case["id"], evidenceIds=[evidence_id, evidence_id]),
        )
        assert len(payload["errors"]) == 1, payload
        assert payload["errors"][0]["code"] == "VALIDATION"
        assert payload["errors"][0]["field"][0] == "evidenceIds"
        assert payload["request"] is None


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"body": "b" * 50_001}, ["body"]),
        ({"body": ""}, ["body"]),
        ({"body": "   "}, ["body"]),
        ({"title": ""}, ["title"]),
        ({"title": "t" * 201}, ["title"]),
        ({"legalBasis": "l" * 501}, ["legalBasis"]),
        ({"particulars": {"offence": "o" * 5_001}}, ["particulars", "offence"]),
        (
            {"particulars": {"accountIdentifiers": [{"kind": "PHONE", "value": ""}]}},
            ["particulars", "accountIdentifiers", "0", "value"],
        ),
        (
            {
                "particulars": {
                    "accountIdentifiers": [{"kind": "MESSENGER_HANDLE", "value": "@goldvip"}]
                }
            },
            ["particulars", "accountIdentifiers", "0", "platform"],
        ),
    ],
)
async def test_bad_fields_when_creating(runtime, req, parties, fields, path):
    police, platform, _ = parties
    async with nothing_at_all_written(runtime):
        refused(
            await req.create(police.token, request_input(platform.id, **fields)), "VALIDATION", path
        )


async def test_too_many_content_locations_are_refused_before_they_are_read(req, runtime, parties):
    police, platform, _ = parties
    fields = {"particulars": {"contentLocations": ["https://t.me/x"] * 51}}
    async with nothing_at_all_written(runtime):
        body = await req.gql(police.token, CREATE, {"i": request_input(platform.id, **fields)})
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "listItems", "max": 50}
    assert "contentLocations" in error["message"], error


async def test_a_body_of_the_maximum_size_is_taken(req, parties):
    police, platform, _ = parties
    payload = await req.create(police.token, request_input(platform.id, body="b" * 50_000))
    assert payload["errors"] == [], payload


async def test_fulfil_with_evidence_the_requested_agency_does_not_hold(runtime, api, req, parties):
    police, platform, outsider = parties
    police_case = await api.open_case(police.token)
    police_item = await _evidence(api, police.token, police_case["id"])
    outsider_case = await api.open_case(outsider.token)
    outsider_item = await _evidence(api, outsider.token, outsider_case["id"])
    # Attached to the request, so the platform reads it: still not the platform's to supply.
    request_id = await req.draft(
        police.token, platform.id, caseId=police_case["id"], evidenceIds=[police_item]
    )
    await req.moved(police.token, "submit", request_id)
    await req.moved(platform.token, "accept", request_id)
    for evidence_id in (police_item, outsider_item, to_global_id("Evidence", uuid.uuid4())):
        async with nothing_at_all_written(runtime):
            refused(
                await req.step(platform.token, "fulfil", request_id, evidenceIds=[evidence_id]),
                {"VALIDATION", "NOT_FOUND"},
                ["evidenceIds", "0"],
            )
    assert (await req.snapshot(police.token, request_id))["status"] == "ACCEPTED"


# Required content, through the API.

MISSING_BY_KIND = {
    "MUTUAL_LEGAL_ASSISTANCE": [["legalBasis"]],
    "EVIDENCE_PRESERVATION": [
        ["particulars", "dataToPreserve"],
        ["particulars", "custodianOrLocation"],
        ["particulars", "offence"],
        ["particulars", "followUpMla"],
    ],
    "DATA_DISCLOSURE": [["particulars", "accountIdentifiers"]],
    "EMERGENCY_DISCLOSURE": [
        ["particulars", "accountIdentifiers"],
        ["particulars", "imminentThreat"],
    ],
    "CONTENT_REMOVAL": [["particulars", "contentLocations"]],
    "ASSET_FREEZE": [["legalBasis"], ["particulars", "accountIdentifiers"]],
    "JOINT_INVESTIGATION": [["legalBasis"]],
}


@pytest.mark.parametrize(("kind", "missing"), MISSING_BY_KIND.items())
async def test_submit_of_incomplete_content_lists_every_missing_statement(
    runtime, req, parties, kind, missing
):
    police, platform, _ = parties
    request_id = await req.draft(police.token, platform.id, kind=kind)
    before = await req.snapshot(police.token, request_id)
    async with nothing_at_all_written(runtime):
        payload = await req.step(police.token, "submit", request_id)
    assert payload["request"] is None, payload
    assert all(error["code"] == "VALIDATION" for error in payload["errors"]), payload
    assert all(error["message"] for error in payload["errors"]), payload
    assert sorted(error["field"] for error in payload["errors"]) == sorted(missing)
    assert await req.snapshot(police.token, request_id) == before
    assert before["status"] == "DRAFT"
    body = await req.gql(
        platform.token, "query($id: ID!) { node(id: $id) { id } }", {"id": request_id}
    )
    assert "errors" not in body, body
    assert body["data"] == {"node": None}


async def test_submit_of_an_emergency_without_the_threat(runtime, req, parties):
    police, platform, _ = parties
    request_id = await req.draft(
        police.token, platform.id, kind="MUTUAL_LEGAL_ASSISTANCE", priority="EMERGENCY"
    )
    async with nothing_at_all_written(runtime):
        payload = await req.step(police.token, "submit", request_id)
    assert sorted(error["field"] for error in payload["errors"]) == [
        ["legalBasis"],
        ["particulars", "imminentThreat"],
    ]
    assert {error["code"] for error in payload["errors"]} == {"VALIDATION"}
    assert (await req.snapshot(police.token, request_id))["status"] == "DRAFT"


async def test_complete_content_submits(req, parties):
    police, platform, _ = parties
    request_id = await req.draft(
        police.token,
        platform.id,
        kind="EVIDENCE_PRESERVATION",
        priority="EMERGENCY",
        particulars={
            "dataToPreserve": "Subscriber data and IP logs",
            "custodianOrLocation": "Relaygram Ltd",
            "offence": "Fraud",
            "followUpMla": True,
            "imminentThreat": "Logs are deleted after 7 days",
        },
    )
    # Complete, so taken; an EMERGENCY request to a platform then waits for a supervisor.
    assert await req.moved(police.token, "submit", request_id) == "AWAITING_APPROVAL"
