"""TLP on every way a case's fields can leave its owner (DESIGN §3, issue 11 items 7 and 8).

AMBER_STRICT cases stay inside the owner: no share, no request link (at create, at submit, nor
kept when the case is re-marked), no evidence attached or supplied, and a row left from before
these rules opens nothing. RED cases go to agencies named one by one (a share names one, a
request names one), never onward, and their subjects answer no hit check unless the owner opts
in. The requested agency reads evidence attached to an open request in full, through the item
itself as through the request.

Each test probes what other agencies can read with every read path (node, nodes, lists,
identifier search, the request's case and evidence, hit notices) and looks for the case's
protected text and clear-but-non-public fields in all of it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from casehub.api.ids import parse_global_id
from casehub.domain.enums import AgencyKind
from casehub.persistence.tables import CooperationRequestRow, RequestEventRow, RequestEvidenceRow
from casehub.services.runtime import Runtime, open_scope
from tests.api.conftest import Api, GraphQLCall
from tests.conftest import GraphQL
from tests.support import row_counts

# Every read path, in documents small enough for the query limits (at most a few evidence
# contents per operation).
PROBES = (
    """query($case: ID!, $item: ID!) {
  case: node(id: $case) { ... on Case { reference title summary viewerAccess
    subjects { displayName identifiers { value } }
    evidence { title description sha256 viewerAccess } } }
  item: node(id: $item) { ... on Evidence { title description sha256 contentBase64 } } }""",
    """query($case: ID!, $item: ID!) { nodes(ids: [$case, $item]) {
    ... on Case { reference title summary }
    ... on Evidence { title description sha256 contentBase64 } } }""",
    """query($phone: IdentifierInput!) {
  listed: cases(first: 100) { totalCount edges { node { reference title } } }
  found: cases(filter: {identifier: $phone}) { totalCount edges { node { reference title } } }
  hitNotices(first: 100) { edges { node { cases { reference title } } } } }""",
    """{ cooperationRequests(first: 20) { edges { node {
    case { reference title summary } evidence { title description sha256 } } } } }""",
)
ITEM = """query($id: ID!) { node(id: $id) { ... on Evidence {
  id viewerAccess title description contentBase64 } } }"""
ITEMS = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Evidence {
  id viewerAccess title description contentBase64 } } }"""
CASE_ITEMS = """query($id: ID!) { node(id: $id) { ... on Case {
  viewerAccess evidence { id viewerAccess title description } } } }"""
REQUEST = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  case { reference title summary } evidence { role title description sha256 } } } }"""
TLP_OF = """query($id: ID!) { node(id: $id) { ... on Case { tlp version } } }"""
HIT_CHECK = """query($ids: [IdentifierInput!]!) { hitCheck(identifiers: $ids) {
  results { kind hits { caseCount agency { code } } } errors { code } } }"""
NOTICES = """{ hitNotices(first: 100) { edges { node { askingAgency { code }
  cases { id reference } } } } }"""


@dataclass
class Secret:
    """A populated case: its ids and every non-public value in it."""

    case_id: str
    item_id: str
    version: int
    phone: str
    values: list[str]


async def secret_case(api: Api, token: str, tlp: str) -> Secret:
    """A case marked `tlp` with a subject (a fresh phone number) and one evidence item; every
    value in it is unique, so finding one anywhere else is a leak."""
    tag = secrets.token_hex(5)
    phone = f"+60 12-{secrets.randbelow(10**7):07d}"
    content = f"content {tag}".encode()
    case = await api.open_case(
        token,
        tlp=tlp,
        reference=f"REF-{tag}",
        title=f"Operation {tag}",
        summary=f"summary {tag}",
    )
    subject = await api.mutate(
        token,
        "addSubject",
        {
            "caseId": case["id"],
            "kind": "PERSON",
            "displayName": f"name {tag}",
            "identifiers": [{"kind": "PHONE", "value": phone}],
        },
    )
    assert subject["errors"] == [], subject
    item = await api.mutate(
        token,
        "addEvidence",
        {
            "caseId": case["id"],
            "kind": "CHAT_LOG",
            "title": f"item {tag}",
            "description": f"description {tag}",
            "contentBase64": base64.b64encode(content).decode(),
            "mediaType": "text/plain",
        },
    )
    assert item["errors"] == [], item
    values = [
        f"REF-{tag}",
        f"Operation {tag}",
        f"summary {tag}",
        f"name {tag}",
        f"item {tag}",
        f"description {tag}",
        base64.b64encode(content).decode(),
        hashlib.sha256(content).hexdigest(),
        phone,
    ]
    return Secret(case["id"], item["evidence"]["id"], case["version"], phone, values)


async def seen(gql: GraphQL, token: str, secret: Secret) -> set[str]:
    """The secret's values that `token` reads through any read path."""
    variables = {
        "case": secret.case_id,
        "item": secret.item_id,
        "phone": {"kind": "PHONE", "value": secret.phone},
    }
    text = ""
    for probe in PROBES:
        wanted = {name: value for name, value in variables.items() if f"${name}" in probe}
        body = await gql(token, probe, wanted)
        assert "errors" not in body, body
        text += json.dumps(body)
    return {value for value in secret.values if value in text}


async def fields_of(gql: GraphQLCall, token: str, query: str, **variables: Any) -> Any:
    body = await gql(token, query, variables)
    assert "errors" not in body, body
    return body["data"]["node" if "node(" in query else "nodes"]


def refusal(payload: dict[str, Any]) -> tuple[str, list[str]]:
    """The code and field of a refused mutation's single error (its object null)."""
    assert len(payload["errors"]) == 1, payload
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    error = payload["errors"][0]
    return error["code"], error["field"]


REQUEST_TABLES = (CooperationRequestRow, RequestEvidenceRow, RequestEventRow)


@asynccontextmanager
async def unchanged(runtime: Runtime) -> AsyncIterator[None]:
    """Assert that the block writes nothing: case, request and evidence-copy rows alike."""

    async def counts() -> dict[str, int]:
        found = await row_counts(runtime)
        async with open_scope(runtime) as scope:
            for model in REQUEST_TABLES:
                found[model.__name__] = await scope.store.count_rows(model)
        return found

    before = await counts()
    yield
    assert await counts() == before


async def parties(world: Any) -> tuple[Any, Any, Any]:
    """The owner (a police force), a platform it asks, and an outsider."""
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE", AgencyKind.SERVICE_PROVIDER)
    outsider = await world.agency("OUT", "FR", AgencyKind.PROSECUTOR)
    return police, platform, outsider


async def mark(api: Api, token: str, case_id: str, tlp: str) -> dict[str, Any]:
    """Re-mark a case at its current version; the payload."""
    version = (await fields_of(api.gql, token, TLP_OF, id=case_id))["version"]
    return await api.mutate(
        token, "updateCase", {"id": case_id, "expectedVersion": version, "tlp": tlp}
    )


async def force_marking(runtime: Runtime, case_id: str, tlp: str) -> None:
    """Re-mark a case in the database directly, as rows written before the TLP rules held."""
    _type, case_uuid = parse_global_id(case_id)
    async with open_scope(runtime) as scope, scope.store.transaction():
        row = await scope.store.case_for_update(case_uuid)
        assert row is not None
        assert await scope.store.update_case_if_version(case_uuid, row.version, {"tlp": tlp})


# AMBER_STRICT


async def test_item7_an_amber_strict_case_cannot_leave_through_a_request_link(
    world, api, gql, req, runtime
):
    police, platform, outsider = await parties(world)
    secret = await secret_case(api, police.token, "AMBER_STRICT")
    liaison = police.tokens["LIAISON_OFFICER"]

    assert refusal(await api.share(police.token, secret.case_id, platform.id)) == (
        "CLASSIFICATION_FORBIDS_SHARING",
        ["caseId"],
    )
    async with unchanged(runtime):
        payload = await req.create(
            liaison,
            {
                "requestedAgencyId": platform.id,
                "kind": "INFORMATION_REQUEST",
                "title": "Subscriber of the channel admin",
                "body": "Please tell us who registered the account.",
                "caseId": secret.case_id,
                "evidenceIds": [secret.item_id],
            },
        )
    assert refusal(payload) == ("CLASSIFICATION_FORBIDS_SHARING", ["caseId"])
    assert "AMBER+STRICT" in payload["errors"][0]["message"]
    assert await req.listed(liaison) == {}
    for other in (platform, outsider):
        assert await seen(gql, other.token, secret) == set()
    assert await seen(gql, police.token, secret) == set(secret.values)  # the probe sees


async def test_a_draft_whose_case_is_marked_amber_strict_cannot_be_submitted(
    world, api, gql, req, runtime
):
    police, platform, _outsider = await parties(world)
    secret = await secret_case(api, police.token, "AMBER")
    liaison = police.tokens["LIAISON_OFFICER"]
    request_id = await req.draft(
        liaison, platform.id, caseId=secret.case_id, evidenceIds=[secret.item_id]
    )
    # A draft reaches nobody, so the case may still be re-marked; the submission is refused.
    assert (await mark(api, police.token, secret.case_id, "AMBER_STRICT"))["errors"] == []
    before = await req.snapshot(liaison, request_id)

    async with unchanged(runtime):
        payload = await req.step(liaison, "submit", request_id)

    assert refusal(payload) == ("CLASSIFICATION_FORBIDS_SHARING", ["id"])
    assert await req.snapshot(liaison, request_id) == before
    assert await fields_of(gql, platform.token, REQUEST, id=request_id) is None
    assert await seen(gql, platform.token, secret) == set()


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        ("SUBMITTED", True),
        ("ACCEPTED", True),
        ("FULFILLED", True),
        ("WITHDRAWN", False),
        ("CLOSED", False),
    ],
)
async def test_a_live_request_link_refuses_marking_the_case_amber_strict(
    world, api, gql, req, runtime, state, refused
):
    police, platform, _outsider = await parties(world)
    secret = await secret_case(api, police.token, "AMBER")
    request_id, _status = await req.at(
        state, police, platform, caseId=secret.case_id, evidenceIds=[secret.item_id]
    )
    before = await fields_of(gql, police.token, TLP_OF, id=secret.case_id)

    if refused:
        async with unchanged(runtime):
            payload = await mark(api, police.token, secret.case_id, "AMBER_STRICT")
        assert refusal(payload) == ("CLASSIFICATION_FORBIDS_SHARING", ["tlp"])
        assert "cooperation requests" in payload["errors"][0]["message"]
        assert await fields_of(gql, police.token, TLP_OF, id=secret.case_id) == before
        # The link keeps doing what DESIGN says: the case's clear fields for the platform.
        node = await fields_of(gql, platform.token, REQUEST, id=request_id)
        assert node is not None
        assert node["case"]["title"] in secret.values
    else:
        payload = await mark(api, police.token, secret.case_id, "AMBER_STRICT")
        assert payload["errors"] == [], payload
        assert payload["case"]["tlp"] == "AMBER_STRICT"
        assert await seen(gql, platform.token, secret) == set()


async def test_evidence_of_an_amber_strict_case_cannot_be_supplied(world, api, gql, req, runtime):
    police, platform, _outsider = await parties(world)
    held = await secret_case(api, platform.token, "AMBER_STRICT")
    request_id, _status = await req.at("ACCEPTED", police, platform)
    before = await req.snapshot(platform.token, request_id)

    async with unchanged(runtime):
        payload = await req.step(platform.token, "fulfil", request_id, evidenceIds=[held.item_id])

    assert refusal(payload) == ("CLASSIFICATION_FORBIDS_SHARING", ["evidenceIds", "0"])
    assert await req.snapshot(platform.token, request_id) == before
    assert await seen(gql, police.token, held) == set()


async def test_hit_checks_on_an_amber_strict_case_name_the_agency_and_nothing_else(world, api, gql):
    police, _platform, outsider = await parties(world)
    secret = await secret_case(api, police.token, "AMBER_STRICT")

    body = await gql(
        outsider.tokens["INVESTIGATOR"],
        HIT_CHECK,
        {"ids": [{"kind": "PHONE", "value": secret.phone}]},
    )

    # DESIGN §3: which agency holds the identifier and how many cases, nothing of the case.
    hits = body["data"]["hitCheck"]["results"][0]["hits"]
    assert hits == [{"caseCount": 1, "agency": {"code": police.code}}]
    # The number is the outsider's own question; nothing else of the case is in the answer.
    assert [value for value in secret.values[:-1] if value in json.dumps(body)] == []
    notices = (await gql(police.token, NOTICES))["data"]["hitNotices"]["edges"]
    assert [edge["node"]["askingAgency"]["code"] for edge in notices] == [outsider.code]
    assert [case["id"] for case in notices[0]["node"]["cases"]] == [secret.case_id]
    assert (await gql(outsider.token, NOTICES))["data"]["hitNotices"]["edges"] == []
    assert await seen(gql, outsider.token, secret) == set()


async def test_shares_and_links_stored_before_the_rules_open_nothing(world, api, gql, req, runtime):
    police, platform, outsider = await parties(world)
    secret = await secret_case(api, police.token, "AMBER")
    await api.shared(police.token, secret.case_id, outsider.id, "FULL")
    request_id, _status = await req.at(
        "ACCEPTED", police, platform, caseId=secret.case_id, evidenceIds=[secret.item_id]
    )
    # What a FULL share and an open link show: the probe finds the values.
    assert await seen(gql, outsider.token, secret) == set(secret.values)
    assert await seen(gql, platform.token, secret) > set()

    await force_marking(runtime, secret.case_id, "AMBER_STRICT")

    for other in (platform, outsider):
        assert await seen(gql, other.token, secret) == set()
    node = await fields_of(gql, platform.token, REQUEST, id=request_id)
    assert node is not None
    assert (node["case"], node["evidence"]) == (None, [])


# RED


async def test_a_red_case_goes_to_the_agencies_named_and_no_further(world, api, gql, req, runtime):
    police, platform, outsider = await parties(world)
    named = await world.agency("NMD", "SG")
    secret = await secret_case(api, police.token, "RED")
    ref, title, summary, _name, item_title, description, content, sha256, _number = secret.values

    await api.shared(police.token, secret.case_id, named.id, "FULL")
    request_id, _status = await req.at(
        "SUBMITTED", police, platform, caseId=secret.case_id, evidenceIds=[secret.item_id]
    )

    # The named recipient reads it all, finds it by identifier (it decrypts it).
    assert await seen(gql, named.token, secret) == set(secret.values)
    # The requested agency reads the case's clear fields and the attached evidence in full;
    # it cannot decrypt the case, so it neither reads the summary nor finds it by identifier.
    assert await seen(gql, platform.token, secret) == {
        ref,
        title,
        item_title,
        description,
        content,
        sha256,
    }
    # Everyone else: nothing, and the subject answers no hit check.
    assert await seen(gql, outsider.token, secret) == set()
    body = await gql(
        outsider.tokens["INVESTIGATOR"],
        HIT_CHECK,
        {"ids": [{"kind": "PHONE", "value": secret.phone}]},
    )
    assert body["data"]["hitCheck"]["results"][0]["hits"] == []
    assert (await gql(police.token, NOTICES))["data"]["hitNotices"]["edges"] == []

    # No onward: neither recipient can share it or link it to a request of its own.
    async with unchanged(runtime):
        for recipient in (named, platform):
            shared = await api.share(recipient.token, secret.case_id, outsider.id)
            assert refusal(shared) == ("FORBIDDEN", ["caseId"])
            linked = await req.create(
                recipient.token,
                {
                    "requestedAgencyId": outsider.id,
                    "kind": "INFORMATION_REQUEST",
                    "title": "Onward",
                    "body": "Passing it on.",
                    "caseId": secret.case_id,
                },
            )
            assert refusal(linked) == ("FORBIDDEN", ["caseId"])
    assert await seen(gql, outsider.token, secret) == set()
    assert summary not in json.dumps(await fields_of(gql, platform.token, REQUEST, id=request_id))


async def test_evidence_of_a_red_case_may_be_supplied_to_the_requester(world, api, gql, req):
    police, platform, outsider = await parties(world)
    held = await secret_case(api, platform.token, "RED")
    request_id, _status = await req.at("ACCEPTED", police, platform)

    assert await req.moved(platform.token, "fulfil", request_id, evidenceIds=[held.item_id]) == (
        "FULFILLED"
    )
    node = await fields_of(gql, police.token, REQUEST, id=request_id)
    assert node is not None
    assert node["evidence"][0]["description"] in held.values
    assert await seen(gql, outsider.token, held) == set()


# Item 8: evidence attached to an open request, through the item itself.


async def test_item8_node_and_nodes_read_attached_evidence_in_full_while_open(world, api, gql, req):
    police, platform, outsider = await parties(world)
    secret = await secret_case(api, police.token, "AMBER")
    other = await api.mutate(
        police.token,
        "addEvidence",
        {
            "caseId": secret.case_id,
            "kind": "DOCUMENT",
            "title": "Not attached",
            "description": "kept back",
            "contentBase64": "a2VwdCBiYWNr",
        },
    )
    assert other["errors"] == [], other
    other_id = other["evidence"]["id"]
    request_id, _status = await req.at(
        "ACCEPTED", police, platform, caseId=secret.case_id, evidenceIds=[secret.item_id]
    )
    attached = {
        "id": secret.item_id,
        "viewerAccess": "FULL",
        "title": secret.values[4],
        "description": secret.values[5],
        "contentBase64": secret.values[6],
    }
    kept = {
        "id": other_id,
        "viewerAccess": "METADATA",
        "title": "Not attached",
        "description": None,
        "contentBase64": None,
    }

    assert await fields_of(gql, platform.token, ITEM, id=secret.item_id) == attached
    assert await fields_of(gql, platform.token, ITEM, id=other_id) == kept
    assert await fields_of(gql, platform.token, ITEMS, ids=[secret.item_id, other_id]) == [
        attached,
        kept,
    ]
    case = await fields_of(gql, platform.token, CASE_ITEMS, id=secret.case_id)
    assert case["viewerAccess"] == "METADATA"
    without_content = [
        {key: value for key, value in item.items() if key != "contentBase64"}
        for item in (attached, kept)
    ]
    assert sorted(case["evidence"], key=lambda item: item["id"]) == sorted(
        without_content, key=lambda item: item["id"]
    )
    # Nobody else gains anything; the owner still reads both as the owner.
    assert await fields_of(gql, outsider.token, ITEMS, ids=[secret.item_id, other_id]) == [
        None,
        None,
    ]
    owned = await fields_of(gql, police.token, ITEM, id=secret.item_id)
    assert owned == {**attached, "viewerAccess": "OWNER"}

    # Once fulfilled, the request is no longer open: the case stays readable as METADATA
    # until it is closed, the attached evidence goes back to METADATA.
    await req.moved(platform.token, "fulfil", request_id)
    assert await fields_of(gql, platform.token, ITEM, id=secret.item_id) == {
        **attached,
        "viewerAccess": "METADATA",
        "description": None,
        "contentBase64": None,
    }
    await req.moved(police.token, "close", request_id)
    assert await fields_of(gql, platform.token, ITEMS, ids=[secret.item_id]) == [None]


async def test_concurrent_submit_and_amber_strict_marking_never_both_win(world, api, gql, req):
    police, platform, _outsider = await parties(world)
    for _round in range(3):
        secret = await secret_case(api, police.token, "AMBER")
        request_id = await req.draft(police.token, platform.id, caseId=secret.case_id)
        marked, submitted = await asyncio.gather(
            mark(api, police.token, secret.case_id, "AMBER_STRICT"),
            req.step(police.token, "submit", request_id),
        )
        outcomes = sorted(
            "OK" if not payload["errors"] else payload["errors"][0]["code"]
            for payload in (marked, submitted)
        )
        # One wins; the other is refused by the TLP rule (or, re-marking, told to retry).
        assert outcomes in (["CLASSIFICATION_FORBIDS_SHARING", "OK"], ["CONFLICT", "OK"]), (
            marked,
            submitted,
        )
        tlp = (await fields_of(gql, police.token, TLP_OF, id=secret.case_id))["tlp"]
        status = (await req.snapshot(police.token, request_id))["status"]
        assert not (tlp == "AMBER_STRICT" and status == "SUBMITTED"), (tlp, status)
        if tlp == "AMBER_STRICT":
            assert await seen(gql, platform.token, secret) == set()
