"""The kinds the API serves as enums: every value the services store has a member (read from
the source, so a new audit action without one fails here, not in production); the agency
kinds keep the names the design contract gives them (DESIGN §3: INTERNATIONAL_ORGANIZATION),
and the subject kind spells it the same way (ORGANIZATION; ORGANISATION accepted, deprecated,
for a release)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from graphql import graphql_sync

from casehub.api.enums import AuditAction, AuditOutcome, EvidenceRole, MessageKind
from casehub.api.schema import build_schema
from casehub.domain.enums import AgencyKind
from casehub.domain.errors import ErrorCode
from casehub.domain.requests.transitions import RequestAction
from tests.api.conftest import Api, GraphQLCall

SOURCE = Path(__file__).parents[2] / "casehub"
RECORDED = re.compile(r"""audit\.mutation\(\s*\w+,\s*"([^"]+)"|AuditEntry\(\s*action="([^"]+)\"""")


def _source() -> str:
    return "\n".join(path.read_text() for path in sorted(SOURCE.rglob("*.py")))


def test_every_recorded_action_is_an_audit_action() -> None:
    text = _source()
    literals = {first or second for first, second in RECORDED.findall(text)}
    assert "case.open" in literals  # the pattern finds what it is for
    # The request steps are recorded as request.<step> (casehub.services.requests.transitions).
    assert 'f"request.{action.value.lower()}"' in text
    steps = {f"request.{action.value.lower()}" for action in RequestAction}
    assert literals | steps <= {member.value for member in AuditAction}


def test_every_outcome_is_an_audit_outcome() -> None:
    assert {member.value for member in AuditOutcome} == {
        "OK",
        "UNAUTHENTICATED",
        *(code.value for code in ErrorCode),
    }


def test_every_stored_message_kind_and_evidence_role_is_a_member() -> None:
    text = (SOURCE / "services" / "requests").glob("*.py")
    stored = "\n".join(path.read_text() for path in text)
    kinds = set(re.findall(r'"(MESSAGE|[A-Z]+_REASON|FULFILMENT)"', stored))
    roles = set(re.findall(r'"(ATTACHED|SUPPLIED)"', stored))
    assert kinds == {member.value for member in MessageKind}
    assert roles == {member.value for member in EvidenceRole}


REGISTER = """mutation($i: RegisterAgencyInput!) { registerAgency(input: $i) {
  agency { id kind } errors { code field } } }"""
KINDS = """{ __type(name: "AgencyKind") {
  enumValues(includeDeprecated: true) { name isDeprecated deprecationReason } } }"""
SUBJECT_KINDS = KINDS.replace("AgencyKind", "SubjectKind")
ADD = """mutation($i: AddSubjectInput!) { addSubject(input: $i) {
  subject { kind } errors { code field } } }"""


async def test_agency_kinds_are_served_under_the_contracts_names(
    api: Api, gql: GraphQLCall
) -> None:
    hub = (await api.agency("HUB")).tokens["HUB_ADMIN"]
    code = f"UN-{secrets.token_hex(4).upper()}"
    data = {"code": code, "name": "UN office", "jurisdiction": "INT"}
    body = await gql(hub, REGISTER, {"i": {**data, "kind": "INTERNATIONAL_ORGANIZATION"}})
    assert "errors" not in body, body
    payload = body["data"]["registerAgency"]
    assert payload["errors"] == [], payload
    assert payload["agency"]["kind"] == "INTERNATIONAL_ORGANIZATION"
    found = graphql_sync(build_schema(development=True)._schema, KINDS)
    assert found.data is not None, found.errors
    names = [value["name"] for value in found.data["__type"]["enumValues"]]
    assert names == [kind.value for kind in AgencyKind]
    assert not any(value["isDeprecated"] for value in found.data["__type"]["enumValues"])


async def test_subject_kinds_spell_organization_as_the_agency_kinds_do(
    api: Api, gql: GraphQLCall
) -> None:
    owner = await api.agency("ORG")
    case_id = (await api.open_case(owner.token))["id"]
    for sent in ("ORGANIZATION", "ORGANISATION"):
        data = {"caseId": case_id, "kind": sent, "displayName": "Acme", "identifiers": []}
        body = await gql(owner.token, ADD, {"i": data})
        payload = body["data"]["addSubject"]
        assert payload["errors"] == [], payload
        assert payload["subject"]["kind"] == "ORGANIZATION"
    found = graphql_sync(build_schema(development=True)._schema, SUBJECT_KINDS)
    assert found.data is not None, found.errors
    values = {value["name"]: value for value in found.data["__type"]["enumValues"]}
    assert values["ORGANIZATION"]["isDeprecated"] is False
    assert values["ORGANISATION"]["isDeprecated"] is True
    assert values["ORGANISATION"]["deprecationReason"].startswith("Use ORGANIZATION")
