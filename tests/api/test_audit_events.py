"""`auditEvents` for an agency administrator: who read its evidence (by agency, never by another
agency's principal name), what its own principals did, nothing about other agencies, no values;
everyone else is FORBIDDEN."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.api.conftest import AgencyHandle, Api, GraphQLCall

EVENTS = """query($f: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id sequence at action outcome actorName actorAgency { id code } objectType objectId
      fieldsRead { objectType objectId fields } details { key value } } } } }"""


async def _events(
    gql: GraphQLCall, token: str, first: int = 100, after: str | None = None, **given: Any
) -> dict[str, Any]:
    body = await gql(token, EVENTS, {"f": given or None, "first": first, "after": after})
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["auditEvents"]
    return connection


async def _all(gql: GraphQLCall, token: str, **given: Any) -> list[dict[str, Any]]:
    connection = await _events(gql, token, **given)
    assert not connection["pageInfo"]["hasNextPage"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"] for edge in connection["edges"]]


def _object_ids(events: list[dict[str, Any]]) -> set[str]:
    ids = {event["objectId"] for event in events if event["objectId"]}
    return ids | {read["objectId"] for event in events for read in event["fieldsRead"]}


async def _case_tree_ids(api: Api, token: str, case_id: str) -> set[str]:
    """Read a case with its whole tree; the ids of the objects whose protected fields it read."""
    case = await api.read_case(token, case_id)
    assert case is not None
    subjects = case["subjects"]
    evidence = case["evidence"]
    return (
        {case_id}
        | {subject["id"] for subject in subjects}
        | {identifier["id"] for subject in subjects for identifier in subject["identifiers"]}
        | {item["id"] for item in evidence}
        | {entry["id"] for item in evidence for entry in item["custody"] if entry["note"]}
    )


async def _refused(gql: GraphQLCall, token: str | None, variables: dict[str, Any]) -> Any:
    body = await gql(token, EVENTS, variables)
    assert body["data"] is None, body
    (error,) = body["errors"]
    return error


async def test_an_admin_sees_which_agency_read_its_evidence_and_nothing_of_others(
    api: Api, gql: GraphQLCall
) -> None:
    owner, partner, listed, outsider = (
        await api.agency("OWN"),
        await api.agency("PRT"),
        await api.agency("MTA"),
        await api.agency("OUT"),
    )
    case_id = (await api.open_case(owner.token))["id"]
    await api.populate(owner.token, case_id)
    await api.shared(owner.token, case_id, partner.id, "FULL")
    await api.shared(owner.token, case_id, listed.id, "METADATA")
    foreign = (await api.open_case(outsider.token))["id"]
    await api.populate(outsider.token, foreign)
    foreign_ids = await _case_tree_ids(api, outsider.token, foreign)
    ours = await _case_tree_ids(api, partner.tokens["READER"], case_id)
    assert (await api.read_case(listed.tokens["READER"], case_id)) is not None

    body = await gql(owner.tokens["AGENCY_ADMIN"], EVENTS, {"f": None, "first": 100})
    text = json.dumps(body)
    events = body["data"]["auditEvents"]["edges"]
    events = [edge["node"] for edge in events]

    # Who read our evidence: the partner agency, named by code, its principal not named.
    reads = [
        event
        for event in events
        if event["actorAgency"] == {"id": partner.id, "code": partner.code}
    ]
    assert reads
    assert all(event["action"] == "FIELD_DECRYPT" for event in reads)
    assert all(event["actorName"] is None for event in reads)
    by_object = {read["objectId"]: read for event in reads for read in event["fieldsRead"]}
    assert set(by_object) == ours
    assert {event["objectType"] for event in reads} == {
        read["objectType"] for read in by_object.values()
    }
    evidence = [read for read in by_object.values() if read["objectType"] == "Evidence"]
    assert [read["fields"] for read in evidence] == [["content", "description"]]
    assert "reader-tool" not in text
    # The METADATA partner decrypted nothing, so it read nothing audited.
    assert listed.code not in {
        event["actorAgency"]["code"] for event in events if event["actorAgency"]
    }

    # What our own principals did, by name.
    mine = [
        event
        for event in events
        if event["actorAgency"] and event["actorAgency"]["code"] == owner.code
    ]
    assert {"CASE_OPEN", "SUBJECT_ADD", "EVIDENCE_ADD", "CUSTODY_RECORD", "CASE_SHARE"} <= {
        event["action"] for event in mine
    }
    assert {event["actorName"] for event in mine} == {"agency-tool"}
    shares = [event for event in mine if event["action"] == "CASE_SHARE"]
    assert [event["objectId"] for event in shares] == [case_id, case_id]
    assert sorted(json.dumps(event["details"]) for event in shares) == sorted(
        json.dumps([{"key": "scope", "value": json.dumps(scope)}]) for scope in ("FULL", "METADATA")
    )

    # Nothing about the other agency, and never a value.
    assert not _object_ids(events) & foreign_ids
    assert outsider.code not in text
    assert outsider.id not in text
    for value in (*vars(api.sample).values(), listed.id):
        assert value not in text

    # The partner's admin sees its own reader's reads by name, and nothing the owner did.
    theirs = await _all(gql, partner.tokens["AGENCY_ADMIN"])
    their_reads = [event for event in theirs if event["action"] == "FIELD_DECRYPT"]
    assert {event["actorName"] for event in their_reads} == {"reader-tool"}
    assert _object_ids(their_reads) == ours
    assert owner.code not in json.dumps(theirs)


async def test_events_come_newest_first_a_page_at_a_time(api: Api, gql: GraphQLCall) -> None:
    owner = await api.agency("PAG")
    for _ in range(3):
        await api.open_case(owner.token)
    admin = owner.tokens["AGENCY_ADMIN"]
    everything = await _all(gql, admin)
    # Registered with seven tokens (one holding every agency role, one per role), then three
    # cases opened, each summary read back.
    assert [event["action"] for event in everything] == [
        *["FIELD_DECRYPT", "CASE_OPEN"] * 3,
        *["TOKEN_ISSUE"] * 7,
        "AGENCY_REGISTER",
    ]
    # Registered by an operator at the command line: no actor, the agency as its object.
    registered = everything[-1]
    assert (registered["actorAgency"], registered["actorName"]) == (None, None)
    assert (registered["objectType"], registered["objectId"]) == ("Agency", owner.id)
    assert registered["details"] == [{"key": "code", "value": json.dumps(owner.code)}]
    sequences = [event["sequence"] for event in everything]
    assert sequences == sorted(sequences, reverse=True)
    assert len({event["id"] for event in everything}) == len(everything)

    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = await _events(gql, admin, first=2, after=after)
        assert page["totalCount"] == len(everything)
        assert len(page["edges"]) <= 2
        seen += [edge["node"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == (
            page["edges"][-1]["cursor"] if page["edges"] else None
        )
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    beyond = await _events(gql, admin, first=2, after=page["edges"][-1]["cursor"])
    assert (beyond["edges"], beyond["pageInfo"]) == ([], {"hasNextPage": False, "endCursor": None})


async def test_filters_narrow_by_action_object_type_and_time(api: Api, gql: GraphQLCall) -> None:
    owner = await api.agency("FLT")
    case_id = (await api.open_case(owner.token))["id"]
    await api.populate(owner.token, case_id)
    hold = await gql(
        owner.token,
        "mutation($i: SetLegalHoldInput!) { setLegalHold(input: $i) { errors { code } } }",
        {"i": {"id": case_id, "hold": True, "reason": "Court order 2026/77 naming Tan Ah Kow"}},
    )
    assert hold["data"]["setLegalHold"]["errors"] == [], hold
    admin = owner.tokens["AGENCY_ADMIN"]
    everything = await _all(gql, admin)

    held = await _all(gql, admin, action="CASE_LEGAL_HOLD")
    assert [event["details"] for event in held] == [[{"key": "hold", "value": "true"}]]
    assert "Court order" not in json.dumps(everything)
    for object_type in ("Case", "Evidence", "Subject"):
        narrowed = await _all(gql, admin, objectType=object_type)
        assert narrowed == [event for event in everything if event["objectType"] == object_type]
        assert narrowed
    both = await _all(gql, admin, action="field.decrypt", objectType="Case")
    assert both
    assert all(event["objectType"] == "Case" for event in both)

    first_at = min(datetime.fromisoformat(event["at"]) for event in everything)
    last_at = max(datetime.fromisoformat(event["at"]) for event in everything)
    window = {"since": first_at.isoformat(), "until": (last_at + timedelta(seconds=1)).isoformat()}
    assert await _all(gql, admin, **window) == everything
    assert await _all(gql, admin, since=(last_at + timedelta(seconds=1)).isoformat()) == []
    assert await _all(gql, admin, until=first_at.isoformat()) == []
    later = [event for event in everything if datetime.fromisoformat(event["at"]) > first_at]
    assert await _all(gql, admin, since=(first_at + timedelta(microseconds=1)).isoformat()) == later


@pytest.mark.parametrize("role", ["READER", "INVESTIGATOR", "LIAISON_OFFICER", "HUB_ADMIN"])
async def test_anyone_but_an_agency_admin_is_forbidden(
    api: Api, gql: GraphQLCall, role: str
) -> None:
    agency = await api.agency("FBD")
    error = await _refused(gql, agency.tokens[role], {})
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert error["path"] == ["auditEvents"]


async def test_without_a_valid_token_it_is_unauthenticated(gql: GraphQLCall) -> None:
    for token in (None, "chb_not-a-token"):
        body = await gql(token, EVENTS, {}, status=401)
        assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"f": {"since": NOW.isoformat(), "until": NOW.isoformat()}}, ["filter", "until"]),
        (
            {"f": {"since": NOW.isoformat(), "until": (NOW - timedelta(1)).isoformat()}},
            ["filter", "until"],
        ),
        ({"f": {"since": "2026-01-01T00:00:00"}}, ["filter", "since"]),
        ({"f": {"until": "2026-01-01T00:00:00"}}, ["filter", "until"]),
        ({"f": {"action": ""}}, ["filter", "action"]),
        ({"f": {"action": "x" * 65}}, ["filter", "action"]),
        ({"f": {"objectType": ""}}, ["filter", "objectType"]),
        ({"after": "not a cursor"}, ["after"]),
        ({"after": "QXVkaXRFdmVudDp4"}, ["after"]),  # AuditEvent:x
        ({"after": "AZAAAAAAcACAAAAAAAAAAQ"}, ["after"]),  # a cases cursor
    ],
)
async def test_bad_arguments_are_validation_errors(
    api: Api, gql: GraphQLCall, variables: dict[str, Any], field: list[str]
) -> None:
    agency: AgencyHandle = await api.agency("VAL")
    error = await _refused(gql, agency.tokens["AGENCY_ADMIN"], variables)
    assert error["extensions"]["code"] == "VALIDATION", error
    assert error["extensions"]["field"] == field
