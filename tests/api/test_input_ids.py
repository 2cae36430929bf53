"""One rule for the ids of inputs: an input names the object its mutation changes `id`, and any
other object `<thing>Id` (the case a subject is added to, the agency a case is shared with),
but for `RevokeShareInput.shareId`, a shape the design contract fixes (DESIGN §4). The input
that broke it (`SetSubjectMatchableInput.subjectId`) takes `id` now and its old name for one
more release, deprecated: both, neither or a bad id is a VALIDATION error naming the field, and
changes nothing."""

from __future__ import annotations

import re

import pytest
from graphql import GraphQLID, GraphQLInputObjectType, get_named_type

from casehub.api.schema import build_schema
from tests.api.conftest import AgencyHandle, Api, GraphQLCall

REVOKE = """mutation($i: RevokeShareInput!) { revokeShare(input: $i) {
  share { id active } errors { code field message } } }"""
MARK = """mutation($i: SetSubjectMatchableInput!) { setSubjectMatchable(input: $i) {
  subject { id matchable } errors { code field message } } }"""
SHARES = "query($id: ID!) { node(id: $id) { ... on Case { shares { id active } } } }"
SUBJECT = "query($id: ID!) { node(id: $id) { ... on Subject { matchable } } }"
# Deprecated until the release after 0.1.0 (then removed): input -> old name of its `id`.
DEPRECATED = {"SetSubjectMatchableInput": "subjectId"}
# Names the design contract fixes (DESIGN §4): input -> its `<thing>Id` for what it changes.
FIXED = {"RevokeShareInput": "shareId"}


def test_every_id_of_an_input_follows_the_rule() -> None:
    schema = build_schema(development=True)._schema
    for kind in schema.type_map.values():
        if not isinstance(kind, GraphQLInputObjectType) or kind.name.startswith("__"):
            continue
        for name, field in kind.fields.items():
            if get_named_type(field.type) is not GraphQLID:
                continue
            assert name == "id" or re.fullmatch(r"[a-z]+[A-Za-z]*Ids?", name), (kind.name, name)
            if field.deprecation_reason is not None:
                assert DEPRECATED.get(kind.name) == name, (kind.name, name)
                assert "id" in kind.fields
    for input_name, old in DEPRECATED.items():
        assert schema.type_map[input_name].fields[old].deprecation_reason  # type: ignore[attr-defined]


async def _shared(api: Api) -> tuple[AgencyHandle, str, str]:
    owner, partner = await api.agency("OWN"), await api.agency("PAR")
    case_id = (await api.open_case(owner.token))["id"]
    return owner, case_id, await api.shared(owner.token, case_id, partner.id)


async def _active(gql: GraphQLCall, token: str, case_id: str) -> bool:
    body = await gql(token, SHARES, {"id": case_id})
    [share] = body["data"]["node"]["shares"]
    active: bool = share["active"]
    return active


async def test_revoke_share_keeps_the_contracts_share_id(api: Api, gql: GraphQLCall) -> None:
    owner, case_id, share_id = await _shared(api)
    fields = build_schema(development=True)._schema.type_map["RevokeShareInput"].fields  # type: ignore[attr-defined]
    assert list(fields) == ["shareId"]
    assert fields["shareId"].deprecation_reason is None
    for given in ({"shareId": "not an id"}, {"shareId": case_id}):  # a case's id, not a share's
        body = await gql(owner.tokens["AGENCY_ADMIN"], REVOKE, {"i": given})
        payload = body["data"]["revokeShare"]
        assert payload["share"] is None, given
        codes = [(e["code"], e["field"]) for e in payload["errors"]]
        assert codes in ([("VALIDATION", ["shareId"])], [("NOT_FOUND", ["shareId"])]), codes
        assert await _active(gql, owner.token, case_id)
    body = await gql(owner.tokens["AGENCY_ADMIN"], REVOKE, {"i": {"shareId": share_id}})
    payload = body["data"]["revokeShare"]
    assert payload["errors"] == [], payload
    assert payload["share"] == {"id": share_id, "active": False}


@pytest.mark.parametrize("name", ["id", "subjectId"])
async def test_set_subject_matchable_takes_id_and_for_now_subject_id(
    api: Api, gql: GraphQLCall, name: str
) -> None:
    owner = await api.agency("OWN")
    case_id = (await api.open_case(owner.token))["id"]
    added = await api.mutate(
        owner.token,
        "addSubject",
        {"caseId": case_id, "kind": "PERSON", "displayName": "Lim Wei", "identifiers": []},
    )
    subject_id = added["subject"]["id"]
    body = await gql(owner.token, MARK, {"i": {name: subject_id, "matchable": False}})
    payload = body["data"]["setSubjectMatchable"]
    assert payload["errors"] == [], payload
    assert payload["subject"] == {"id": subject_id, "matchable": False}
    refused = await gql(
        owner.token, MARK, {"i": {"id": subject_id, "subjectId": subject_id, "matchable": True}}
    )
    errors = refused["data"]["setSubjectMatchable"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", ["subjectId"])]
    after = await gql(owner.token, SUBJECT, {"id": subject_id})
    assert after["data"]["node"]["matchable"] is False
