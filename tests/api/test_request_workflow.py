"""A cooperation request's whole life through the HTTP API, as both parties see it."""

from __future__ import annotations

import itertools

CREATE = """mutation($i: CreateCooperationRequestInput!) {
  createCooperationRequest(input: $i) {
    request { id status viewerSide } errors { code field message } } }"""
STEP = """mutation($id: ID!) { %s(input: {id: $id}) {
  request { id status acknowledgeBy decideBy dueAt holdUntil isOverdue }
  errors { code field message } } }"""
REASON = """mutation($id: ID!, $r: String!) { %s(input: {id: $id, reason: $r}) {
  request { id status } errors { code field message } } }"""
READ = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  status title body viewerSide particulars { dataToPreserve followUpMla }
  requester { code } requested { code }
  events { number action fromStatus toStatus receipt { digest prevDigest keyId signature } }
  messages { kind body } } } }"""


async def test_preservation_request_from_draft_to_closed(world, gql):
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    created = await gql(
        police.token,
        CREATE,
        {
            "i": {
                "requestedAgencyId": platform.id,
                "kind": "EVIDENCE_PRESERVATION",
                "priority": "URGENT",
                "title": "Preserve channel admin data",
                "body": "Please preserve.",
                "particulars": {
                    "dataToPreserve": "subscriber data",
                    "custodianOrLocation": "Relaygram",
                    "offence": "fraud",
                    "followUpMla": True,
                },
            }
        },
    )
    payload = created["data"]["createCooperationRequest"]
    assert payload["errors"] == [], payload
    request_id = payload["request"]["id"]
    assert payload["request"]["status"] == "DRAFT"
    # A draft does not exist for the requested agency.
    assert (await gql(platform.token, READ, {"id": request_id}))["data"]["node"] is None

    submitted = await gql(police.token, STEP % "submitCooperationRequest", {"id": request_id})
    request = submitted["data"]["submitCooperationRequest"]["request"]
    assert request["status"] == "SUBMITTED", submitted
    assert request["holdUntil"] is not None

    for step, status in (
        ("acknowledgeCooperationRequest", "ACKNOWLEDGED"),
        ("acceptCooperationRequest", "ACCEPTED"),
    ):
        body = await gql(platform.token, STEP % step, {"id": request_id})
        assert body["data"][step]["request"]["status"] == status, body
    fulfilled = await gql(
        platform.token,
        """mutation($id: ID!) { fulfilCooperationRequest(input:
        {id: $id, outcome: FULL, message: "Preserved until 2027."}) {
        request { status outcome } errors { code } } }""",
        {"id": request_id},
    )
    assert fulfilled["data"]["fulfilCooperationRequest"]["request"] == {
        "status": "FULFILLED",
        "outcome": "FULL",
    }
    closed = await gql(police.token, STEP % "closeCooperationRequest", {"id": request_id})
    assert closed["data"]["closeCooperationRequest"]["request"]["status"] == "CLOSED"

    seen = (await gql(platform.token, READ, {"id": request_id}))["data"]["node"]
    assert seen["body"] == "Please preserve."
    assert seen["particulars"]["followUpMla"] is True
    actions = [event["action"] for event in seen["events"]]
    assert actions == ["SUBMIT", "ACKNOWLEDGE", "ACCEPT", "FULFIL", "CLOSE"]
    mine = (await gql(police.token, READ, {"id": request_id}))["data"]["node"]
    chain = mine["events"]
    assert [event["action"] for event in chain] == ["CREATE", *actions]
    assert chain[0]["receipt"]["prevDigest"] == "0" * 64
    assert all(
        b["receipt"]["prevDigest"] == a["receipt"]["digest"] for a, b in itertools.pairwise(chain)
    )
    assert mine["messages"] == [{"kind": "FULFILMENT", "body": "Preserved until 2027."}]
