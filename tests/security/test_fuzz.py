"""Fuzzing /graphql with schemathesis (one operation at a time, positive and negative data) and
hypothesis-graphql (documents of several root fields), in process against the real ASGI app,
as an agency tool holding every agency role: whatever it sends, the server answers without a
server error (no 5xx, no INTERNAL error) and without showing anything of its insides.

The runs are derandomized, so CI sends the same requests on every run; the identifiers the
fuzzers draw mix random strings with the ids of objects the tool may see (its cases, evidence,
requests, a partner's shared case), so that mutations reach the services, not only NOT_FOUND.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries
from hypothesis_graphql import nodes as gql_nodes
from schemathesis import GenerationMode

from casehub.api.schema import sdl
from casehub.domain.enums import AgencyKind
from casehub.services.runtime import Runtime
from tests.conftest import World
from tests.security.gate_support import app_of, bearer, calling, with_settings

SDL = sdl()
SCHEMA = schemathesis.graphql.from_file(SDL)
GRAPHQL_SCHEMA = graphql.build_schema(SDL)
QUERY, MUTATION = (
    graphql.assert_object_type(GRAPHQL_SCHEMA.get_type(name)) for name in ("Query", "Mutation")
)
OPERATIONS = [SCHEMA[root.name][name] for root in (QUERY, MUTATION) for name in root.fields]
QUERY_FIELDS = list(QUERY.fields)

# Bounded so that the whole module takes well under two minutes per engine on two cores.
PER_OPERATION = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    # The fixtures are set up once per test, not per example, by design.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PER_DOCUMENT = settings(PER_OPERATION, max_examples=150)

# What a response must never show: tracebacks, SQL, drivers, source paths, exception names.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "aiosqlite",
    "/casehub/",
    '.py"',
    "site-packages",
)
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b")
# Type names of the schema that look like exception names (UserError) are not leaks.
SCHEMA_NAMES = frozenset(GRAPHQL_SCHEMA.type_map)

OPEN_CASE = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } errors { code } } }"
ADD_SUBJECT = """mutation($i: AddSubjectInput!) { addSubject(input: $i) {
  subject { id identifiers { id } } errors { code } } }"""
ADD_EVIDENCE = """mutation($i: AddEvidenceInput!) { addEvidence(input: $i) {
  evidence { id custody { id } } errors { code } } }"""
SHARE = "mutation($i: ShareCaseInput!) { shareCase(input: $i) { share { id } errors { code } } }"
CREATE_REQUEST = """mutation($i: CreateCooperationRequestInput!) {
  createCooperationRequest(input: $i) { request { id } errors { code } } }"""
SUBMIT = """mutation($id: ID!) { submitCooperationRequest(input: {id: $id}) {
  request { id } errors { code } } }"""


@dataclass
class Fuzz:
    """The app under fuzzing, the tool's token, and the ids of what it may see, by kind."""

    http: httpx.AsyncClient
    token: str
    known: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        """Every known id."""
        return [each for ids in self.known.values() for each in ids]

    async def call(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        """Run one operation that must succeed; its payload."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=bearer(token or self.token),
        )
        body = response.json()
        assert "errors" not in body, body
        [payload] = body["data"].values()
        assert payload["errors"] == [], payload
        return payload

    async def send(self, document: str) -> None:
        """Send a fuzzed document as the tool; the answer must be a refusal or a result."""
        response = await self.http.post(
            "/graphql", json={"query": document}, headers=bearer(self.token)
        )
        assert_safe(response, document)


def assert_safe(response: httpx.Response, document: str) -> None:
    """No server error, nothing internal in the answer (but what the document itself holds)."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    leaks = [marker for marker in LEAK_MARKERS if marker in response.text]
    leaks += set(EXCEPTION_NAME.findall(response.text)) - SCHEMA_NAMES
    assert [leak for leak in leaks if leak not in document] == [], response.text
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code not in (None, "INTERNAL"), response.text


def identifiers(known: list[str]) -> st.SearchStrategy[graphql.StringValueNode]:
    """IDs: half the time one of an object the tool may see, else anything."""
    return st.one_of(st.sampled_from(known), st.text()).map(gql_nodes.String)


SCALARS: dict[str, st.SearchStrategy[Any]] = {
    # Half the time plain words, which the services accept and act on; else anything.
    "String": st.one_of(
        st.text(st.characters(codec="ascii", categories=["L", "N", "Zs"]), min_size=1),
        st.text(),
    ).map(gql_nodes.String),
    "DateTime": st.one_of(
        st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda at: at.isoformat()),
        st.text(),
    ).map(gql_nodes.String),
    # A file cannot travel in JSON: anything there must be refused, never a server error.
    "Upload": st.one_of(st.just(graphql.NullValueNode()), st.text().map(gql_nodes.String)),
}


@pytest.fixture(scope="module")
async def fuzz(runtime: Runtime) -> AsyncIterator[Fuzz]:
    """An app with room for the fuzzers, a tool with every agency role, and what it may see."""
    # Not HUB_ADMIN: registerAgency stays refused, so the fuzzers never add an agency.
    world = World(runtime)
    tool, partner = await world.agency("FZ"), await world.agency("FZP", "FR", AgencyKind.PROSECUTOR)
    roomy = with_settings(
        runtime,
        rate_limit_per_second=1_000_000,
        rate_limit_burst=1_000_000,
        hit_check_per_minute=1_000_000,
    )
    async with calling(app_of(roomy)) as http:
        fuzz = Fuzz(http, tool.token, {"agency": [tool.id, partner.id]})
        await seed(fuzz, partner.token)
        yield fuzz


async def seed(fuzz: Fuzz, partner_token: str) -> None:
    """Cases shared both ways (the tool's with a subject and evidence), and requests both ways."""
    tool, partner = fuzz.known["agency"]
    case = {"reference": "FZ-1", "title": "Fuzz", "summary": "s", "category": "FRAUD"}
    own = (await fuzz.call(OPEN_CASE, {"i": case}))["case"]["id"]
    theirs = (await fuzz.call(OPEN_CASE, {"i": case}, partner_token))["case"]["id"]
    person = {"caseId": own, "kind": "PERSON", "displayName": "Fuzz Subject"}
    email = {"kind": "EMAIL", "value": "fuzz-subject@casehub.test"}
    subject = (await fuzz.call(ADD_SUBJECT, {"i": {**person, "identifiers": [email]}}))["subject"]
    document = {"caseId": own, "kind": "DOCUMENT", "title": "E", "contentBase64": "eA=="}
    evidence = (await fuzz.call(ADD_EVIDENCE, {"i": document}))["evidence"]
    shares = [
        await fuzz.call(SHARE, {"i": {"caseId": own, "agencyId": partner, "scope": "FULL"}}),
        await fuzz.call(
            SHARE, {"i": {"caseId": theirs, "agencyId": tool, "scope": "FULL"}}, partner_token
        ),
    ]
    request = {"kind": "INFORMATION_REQUEST", "title": "Fuzz", "body": "b"}
    draft, submitted = [
        (await fuzz.call(CREATE_REQUEST, {"i": {**request, "requestedAgencyId": partner}}))[
            "request"
        ]["id"]
        for _ in range(2)
    ]
    await fuzz.call(SUBMIT, {"id": submitted})
    incoming = (
        await fuzz.call(
            CREATE_REQUEST,
            {"i": {**request, "caseId": theirs, "requestedAgencyId": tool}},
            partner_token,
        )
    )["request"]["id"]
    await fuzz.call(SUBMIT, {"id": incoming}, partner_token)
    fuzz.known |= {
        "case": [own, theirs],
        "subject": [subject["id"]],
        "identifier": [identifier["id"] for identifier in subject["identifiers"]],
        "evidence": [evidence["id"]],
        "custody": [event["id"] for event in evidence["custody"]],
        "share": [share["share"]["id"] for share in shares],
        "request": [draft, submitted, incoming],
    }


async def test_a_hit_check_beside_other_root_fields_is_no_server_error(fuzz: Fuzz) -> None:
    """Found by the fuzzers: hitCheck ended its transaction on the session its sibling root
    fields read with (it now writes on a session of its own)."""
    own_case, evidence = fuzz.known["case"][0], fuzz.known["evidence"][0]
    await fuzz.send(
        f'{{ nodes(ids: ["{own_case}", "{evidence}"]) {{ id }} '
        "hitCheck(identifiers: []) { errors { code } } }"
    )


async def test_a_string_where_a_file_goes_is_no_server_error(fuzz: Fuzz) -> None:
    """Found by the fuzzers: a string where a file goes is VALIDATION, not INTERNAL."""
    own_case = fuzz.known["case"][0]
    await fuzz.send(
        f'mutation {{ addEvidence(input: {{caseId: "{own_case}", kind: DOCUMENT, title: "t", '
        'content: "x"}) { errors { code } } }'
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
@PER_OPERATION
@given(data=st.data())
async def test_schemathesis_finds_no_server_error_nor_leak(
    fuzz: Fuzz, operation: Any, mode: GenerationMode, data: st.DataObject
) -> None:
    """Each query and mutation alone, with schemathesis' valid and invalid (one violation) data."""
    for name, strategy in {**SCALARS, "ID": identifiers(fuzz.ids)}.items():
        schemathesis.graphql.scalar(name, strategy)
    case = data.draw(operation.as_strategy(generation_mode=mode))
    await fuzz.send(case.body)


@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
@pytest.mark.parametrize(
    ("documents", "fields"), [(queries, QUERY_FIELDS), (mutations, None)], ids=["query", "mutation"]
)
@PER_DOCUMENT
@given(data=st.data())
async def test_hypothesis_graphql_finds_no_server_error_nor_leak(
    fuzz: Fuzz, documents: Any, fields: list[str] | None, mode: Mode, data: st.DataObject
) -> None:
    """Documents selecting several root fields at once, valid or with one violation."""
    scalars = {**SCALARS, "ID": identifiers(fuzz.ids)}
    document = data.draw(
        documents(GRAPHQL_SCHEMA, fields=fields, custom_scalars=scalars, mode=mode)
    )
    await fuzz.send(document)
