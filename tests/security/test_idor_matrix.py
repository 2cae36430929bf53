"""IDOR matrix, generated from the schema: every Node type (through `node` and `nodes`), every
root query field and every mutation taking an ID (at any depth of its input), called with
another agency's ids by an unrelated agency, by an agency the case is shared with at METADATA
level, and with an expired and a revoked token. Nothing leaks: no protected value, nothing of
an object the caller may not see; refusals are NOT_FOUND or FORBIDDEN payload errors or null,
and 401 for a bad token.

The tables below say how to call each one with a foreign id. A field added to the schema
without a row makes `test_the_tables_cover_the_schema` fail: add the row to NODE_TYPES,
QUERIES or MUTATIONS.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from casehub.api.ids import parse_global_id, to_global_id
from casehub.api.schema import build_schema
from casehub.app import create_app
from casehub.config import Settings
from casehub.crypto import hash_token
from casehub.domain.enums import AgencyKind
from casehub.persistence.tables import ApiTokenRow
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope
from tests.api.conftest import Api, Sample
from tests.conftest import ALL_ROLES, GraphQL, World
from tests.request_support import Requests
from tests.signing_support import accredited_key
from tests.support import integrate_everything

SCHEMA: GraphQLSchema = build_schema(development=True)._schema
CALLERS = ("unrelated", "metadata", "expired", "revoked")
TOKEN_CALLERS = ("expired", "revoked")


# The schema: what takes an ID, and what to select.


def _id_paths(arguments: dict[str, GraphQLArgument] | dict[str, GraphQLInputField]) -> list[str]:
    paths = []
    for name, argument in arguments.items():
        named = get_named_type(argument.type)
        if named.name == "ID":
            paths.append(name)
        elif isinstance(named, GraphQLInputObjectType):
            paths += [f"{name}.{inner}" for inner in _id_paths(named.fields)]
    return paths


def _id_taking(root: GraphQLObjectType | None) -> set[str]:
    """`field(path)` for every ID-typed argument, at any depth of input objects."""
    if root is None:
        return set()
    return {
        f"{name}({path})" for name, spec in root.fields.items() for path in _id_paths(spec.args)
    }


def _needs_arguments(spec: GraphQLField) -> bool:
    return any(
        isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
        for argument in spec.args.values()
    )


# Evidence content: an operation may return only a few (each counts as the largest evidence,
# lists counted full), so it is selected on the object asked for, not in the lists under it.
CONTENT = "contentBase64"


def select(type_name: str, depth: int = 2, *, top: bool = True) -> str:
    """Every field of an object type that needs no argument, objects `depth` levels down."""
    graphql_type = SCHEMA.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = ["__typename"]
    for name, spec in graphql_type.fields.items():
        named = get_named_type(spec.type)
        if _needs_arguments(spec) or (depth == 0 and not is_leaf_type(named)):
            continue
        if name == CONTENT and not top:
            continue
        if isinstance(named, GraphQLObjectType):
            parts.append(f"{name} {{ {select(named.name, depth - 1, top=False)} }}")
        elif isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            parts.append(f"{name} {{ __typename }}")
        else:
            parts.append(name)
    return " ".join(parts)


# The victim agency's objects, and the callers.


@dataclass
class Victim:
    """The owner's objects: a populated case shared at METADATA level with one agency, and a
    request to a platform that links the case and attaches its evidence."""

    owner: Any
    platform: Any
    case: str
    subject: str
    identifiers: list[str]
    evidence: str
    custody: list[str]
    share: str
    request: str
    key: str  # an accredited signing key: public, like the directory it belongs to
    case_words: list[str]  # clear text of the case: its owner's and its sharees' to read
    request_words: list[str]  # clear text of the request: its parties' to read
    protected: list[str]  # plaintext of encrypted fields: FULL readers' only

    def ghost(self) -> Victim:
        """The same, every object id replaced by a well-formed one of its type naming nothing."""

        def nothing(global_id: str) -> str:
            return to_global_id(parse_global_id(global_id)[0], uuid4())

        return dataclasses.replace(
            self,
            case=nothing(self.case),
            subject=nothing(self.subject),
            identifiers=[nothing(each) for each in self.identifiers],
            evidence=nothing(self.evidence),
            custody=[nothing(each) for each in self.custody],
            share=nothing(self.share),
            request=nothing(self.request),
        )

    def ids(self) -> list[str]:
        """Every id of the owner's objects (not its agency's: the directory is public)."""
        return [
            self.case,
            self.subject,
            *self.identifiers,
            self.evidence,
            *self.custody,
            self.share,
            self.request,
        ]


@dataclass
class Caller:
    """One kind of caller and what it holds of its own."""

    kind: str
    agency: Any
    token: str
    case: str = ""  # its own case
    incoming: str = ""  # an ACCEPTED request to it, from a fourth agency
    forbidden: list[str] = field(default_factory=list)


@dataclass
class Matrix:
    """The owner's objects, the callers, and the GraphQL clients."""

    victim: Victim
    callers: dict[str, Caller]
    gql: GraphQL
    api: Api
    req: Requests


async def _expire(runtime: Runtime, token: str) -> None:
    """Move a token's expiry into the past, as if its lifetime had run out."""
    async with open_scope(runtime) as scope:
        found = await scope.store.token_by_hash(hash_token(token))
        assert found is not None
        row = await scope.store.session.get(ApiTokenRow, found.id)
        assert row is not None
        row.expires_at = scope.now - timedelta(minutes=1)
        await scope.store.session.commit()


@pytest.fixture(scope="module")
async def client_of_matrix(
    settings: Settings, runtime: Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a clock that leaps an hour at every look, so that no rate limit trips
    however many calls (and failed log-ins) the matrix makes."""
    hours = itertools.count(step=3600.0)
    app = create_app(settings, runtime=runtime, monotonic=lambda: next(hours))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@pytest.fixture(scope="module")
async def matrix(runtime: Runtime, client_of_matrix: httpx.AsyncClient) -> Matrix:
    world, gql = World(runtime), GraphQL(client_of_matrix)
    api, req = Api(world, gql), Requests(gql)
    marker = secrets.token_hex(4)
    owner, platform = (
        await world.agency("IDO"),
        await world.agency("IDP", "AE", AgencyKind.SERVICE_PROVIDER),
    )
    shared, unrelated, fourth = (
        await world.agency("IDM"),
        await world.agency("IDU"),
        await world.agency("IDF", "FR"),
    )
    title, reference = f"Operation Nightjar {marker}", f"IDOR-{marker}"
    case = await api.open_case(owner.token, title=title, reference=reference)
    await api.populate(owner.token, case["id"])
    tree = await api.read_case(owner.token, case["id"])
    assert tree is not None
    (subject,) = tree["subjects"]
    (item,) = tree["evidence"]
    share = await api.shared(owner.token, case["id"], shared.id, "METADATA")
    body, message = f"Disclose the subscriber {marker}", f"Thread note {marker}"
    request_title, offence = f"Subscriber of channel {marker}", f"Cheating {marker}"
    request = await req.draft(
        owner.token,
        platform.id,
        title=request_title,
        body=body,
        caseId=case["id"],
        evidenceIds=[item["id"]],
        particulars={"offence": offence},
    )
    await req.moved(owner.token, "submit", request)
    await req.moved(platform.token, "acknowledge", request)
    assert (await req.message(owner.token, request, message))["errors"] == []
    _key, key_id = await accredited_key(
        gql, owner.tokens["AGENCY_ADMIN"], owner.tokens["HUB_ADMIN"]
    )
    victim = Victim(
        owner=owner,
        platform=platform,
        case=case["id"],
        subject=subject["id"],
        identifiers=[identifier["id"] for identifier in subject["identifiers"]],
        evidence=item["id"],
        custody=[entry["id"] for entry in item["custody"]],
        share=share,
        request=request,
        key=key_id,
        case_words=[title, reference, Sample.evidence_title],
        request_words=[request_title],
        protected=[
            *(value for name, value in vars(Sample()).items() if name != "evidence_title"),
            "goldprofits_vip",  # the handle's canonical form
            body,
            message,
            offence,
        ],
    )
    callers = {}
    for kind, agency in (("unrelated", unrelated), ("metadata", shared)):
        own = await api.open_case(agency.token, summary=f"Own summary of {kind}")
        # With an item of the fourth agency's attached, for CooperationRequest.evidence(ids:).
        lent = await api.open_case(fourth.token)
        lent_item = await api.mutate(
            fourth.token,
            "addEvidence",
            {
                "caseId": lent["id"],
                "kind": "DOCUMENT",
                "title": f"Lent to {kind}",
                "description": f"The fourth agency's note for {kind}",
                "contentBase64": "bGVudA==",
                "mediaType": "text/plain",
            },
        )
        assert lent_item["errors"] == [], lent_item
        incoming, _ = await req.at(
            "ACCEPTED",
            fourth,
            agency,
            caseId=lent["id"],
            evidenceIds=[lent_item["evidence"]["id"]],
        )
        # What each may not see: everything of the owner's for the unrelated agency; the
        # share (the owner's to list), the request and every protected value for the
        # METADATA partner, which sees the case's clear fields.
        forbidden = victim.protected + victim.request_words + [victim.request, victim.share]
        if kind == "unrelated":
            forbidden += victim.ids() + victim.case_words
        callers[kind] = Caller(
            kind,
            agency,
            agency.token,
            case=own["id"],
            incoming=incoming,
            forbidden=forbidden,
        )
    # The owner's own tokens, once expired or revoked, open nothing, not even its own objects.
    async with open_scope(runtime) as scope:
        _id, expired = await auth.issue_token(scope, agency_code=owner.code, roles=ALL_ROLES)
        _id, revoked = await auth.issue_token(scope, agency_code=owner.code, roles=ALL_ROLES)
        await auth.revoke_token(scope, token_or_id=revoked)
    await _expire(runtime, expired)
    callers["expired"] = Caller("expired", owner, expired)
    callers["revoked"] = Caller("revoked", owner, revoked)
    await integrate_everything(runtime)  # so that there is a signed tree head to read
    return Matrix(victim, callers, gql, api, req)


# Node types: how to name one of the owner's, and who may see it (at METADATA level at most).


NODE_TYPES: dict[str, tuple[Callable[[Victim], str], set[str]]] = {
    # The directory of agencies is public: anyone authenticated reads it.
    "Agency": (lambda v: v.owner.id, {"unrelated", "metadata"}),
    "Case": (lambda v: v.case, {"metadata"}),
    "Subject": (lambda v: v.subject, {"metadata"}),
    "Identifier": (lambda v: v.identifiers[0], {"metadata"}),
    "Evidence": (lambda v: v.evidence, {"metadata"}),
    "CustodyEvent": (lambda v: v.custody[-1], {"metadata"}),
    "CaseShare": (lambda v: v.share, set()),
    "CooperationRequest": (lambda v: v.request, set()),
    "AgencySigningKey": (lambda v: v.key, {"unrelated", "metadata"}),
}


# Root query fields: a document and its variables for one caller.

Document = tuple[str, dict[str, Any]]


def _page(field_name: str) -> Document:
    assert SCHEMA.query_type is not None
    connection = get_named_type(SCHEMA.query_type.fields[field_name].type).name
    return f"{{ {field_name}(first: 20) {{ {select(connection, 3)} }} }}", {}


def _hit_check(operation: str) -> Document:
    """The owner's subject's phone: the answer names the owner's agency, never a case or
    value (the mutation, and the deprecated query)."""
    return (
        f"{operation}($i: [IdentifierInput!]!) {{ hitCheck(identifiers: $i) {{ "
        f"{select('HitCheckPayload', 3)} }} }}",
        {"i": [{"kind": "PHONE", "value": Sample.phone}]},
    )


QUERIES: dict[str, Callable[[Victim, Caller], Document]] = {
    "viewer": lambda v, c: (f"{{ viewer {{ {select('Viewer')} }} }}", {}),
    # Every type in full: test_node_types; here every one of the owner's ids at once.
    "node": lambda v, c: ("query($id: ID!) { node(id: $id) { __typename id } }", {"id": v.case}),
    "nodes": lambda v, c: (
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": v.ids()},
    ),
    "agencies": lambda v, c: _page("agencies"),
    "cases": lambda v, c: _page("cases"),
    "cooperationRequests": lambda v, c: _page("cooperationRequests"),
    "auditEvents": lambda v, c: _page("auditEvents"),
    # Hub-wide, naming no agency's object: any agency's administrator reads the same.
    "auditTreeHead": lambda v, c: ("{ auditTreeHead { treeSize rootHash statement } }", {}),
    "auditConsistencyProof": lambda v, c: (
        "{ auditConsistencyProof(fromSize: 1, toSize: 1) { hashes } }",
        {},
    ),
    "hitNotices": lambda v, c: _page("hitNotices"),
    "hitCheck": lambda v, c: _hit_check("query"),
}


# Mutations taking an ID: the input naming the owner's object, and the refusal each caller gets.


@dataclass(frozen=True)
class Attempt:
    """One ID argument of a mutation pointed at the owner's object."""

    build: Callable[[Victim, Caller], dict[str, Any]]
    unrelated: str
    metadata: str


def _create(v: Victim, **fields: Any) -> dict[str, Any]:
    return {
        "requestedAgencyId": v.platform.id,
        "kind": "INFORMATION_REQUEST",
        "title": "Probe",
        "body": "Probe",
        **fields,
    }


NOT_FOUND, FORBIDDEN, VALIDATION = "NOT_FOUND", "FORBIDDEN", "VALIDATION"
PROBE_SIGNATURE = {"keyThumbprint": "x" * 43, "statement": "{}", "signature": "x"}
MUTATIONS: dict[str, Attempt] = {
    "updateCase(input.id)": Attempt(
        lambda v, c: {"id": v.case, "expectedVersion": 1, "title": "Taken over"},
        NOT_FOUND,
        FORBIDDEN,
    ),
    "addSubject(input.caseId)": Attempt(
        lambda v, c: {
            "caseId": v.case,
            "kind": "PERSON",
            "displayName": "Planted",
            "identifiers": [{"kind": "PHONE", "value": "+60111111111"}],
        },
        NOT_FOUND,
        FORBIDDEN,
    ),
    "addEvidence(input.caseId)": Attempt(
        lambda v, c: {
            "caseId": v.case,
            "kind": "DOCUMENT",
            "title": "Planted",
            "contentBase64": "cGxhbnRlZA==",
        },
        NOT_FOUND,
        FORBIDDEN,
    ),
    "recordCustodyEvent(input.evidenceId)": Attempt(
        lambda v, c: {"evidenceId": v.evidence, "action": "ACCESSED", "note": "peeked"},
        NOT_FOUND,
        FORBIDDEN,
    ),
    "shareCase(input.caseId)": Attempt(
        lambda v, c: {"caseId": v.case, "agencyId": c.agency.id, "scope": "FULL"},
        NOT_FOUND,
        FORBIDDEN,
    ),
    # Agency ids name a public directory; the owner's case id in place of one is refused as
    # malformed, without telling anything about the case.
    "shareCase(input.agencyId)": Attempt(
        lambda v, c: {"caseId": c.case, "agencyId": v.case, "scope": "FULL"},
        VALIDATION,
        VALIDATION,
    ),
    # Shares exist for their case's owner alone: the METADATA partner sees the case, not the
    # share (not even its own), so its id is as missing as a random one.
    # Deprecated name of the same id, until the release after 0.1.0.
    "revokeShare(input.shareId)": Attempt(lambda v, c: {"shareId": v.share}, NOT_FOUND, NOT_FOUND),
    "shredCase(input.id)": Attempt(lambda v, c: {"id": v.case}, NOT_FOUND, FORBIDDEN),
    "setLegalHold(input.id)": Attempt(
        lambda v, c: {"id": v.case, "hold": True, "reason": "Probe"}, NOT_FOUND, FORBIDDEN
    ),
    "setSubjectMatchable(input.id)": Attempt(
        lambda v, c: {"id": v.subject, "matchable": False}, NOT_FOUND, FORBIDDEN
    ),
    # Deprecated name of the same id, until the release after 0.1.0.
    "setSubjectMatchable(input.subjectId)": Attempt(
        lambda v, c: {"subjectId": v.subject, "matchable": False}, NOT_FOUND, FORBIDDEN
    ),
    "createCooperationRequest(input.requestedAgencyId)": Attempt(
        lambda v, c: _create(v, requestedAgencyId=v.case), VALIDATION, VALIDATION
    ),
    "createCooperationRequest(input.caseId)": Attempt(
        lambda v, c: _create(v, caseId=v.case), NOT_FOUND, FORBIDDEN
    ),
    # Evidence lists answer "not evidence your agency holds" alike for a foreign item and for
    # one that never existed.
    "createCooperationRequest(input.evidenceIds)": Attempt(
        lambda v, c: _create(v, caseId=c.case, evidenceIds=[v.evidence]),
        VALIDATION,
        VALIDATION,
    ),
    "submitCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request}, NOT_FOUND, NOT_FOUND
    ),
    "acknowledgeCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request}, NOT_FOUND, NOT_FOUND
    ),
    "acceptCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request}, NOT_FOUND, NOT_FOUND
    ),
    "declineCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request, "reason": "Probe"}, NOT_FOUND, NOT_FOUND
    ),
    "fulfilCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request, "outcome": "FULL", "message": "Probe"},
        NOT_FOUND,
        NOT_FOUND,
    ),
    # The caller's own accepted request, fulfilled with the owner's evidence.
    "fulfilCooperationRequest(input.evidenceIds)": Attempt(
        lambda v, c: {
            "id": c.incoming,
            "outcome": "FULL",
            "message": "Probe",
            "evidenceIds": [v.evidence],
        },
        VALIDATION,
        VALIDATION,
    ),
    "withdrawCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request, "reason": "Probe"}, NOT_FOUND, NOT_FOUND
    ),
    "closeCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request}, NOT_FOUND, NOT_FOUND
    ),
    "addCooperationMessage(input.id)": Attempt(
        lambda v, c: {"id": v.request, "body": "Probe"}, NOT_FOUND, NOT_FOUND
    ),
    # A request the caller is not party to is missing before any role or signature is looked
    # at (the callers' tokens hold no SUPERVISOR role either).
    "approveCooperationRequest(input.id)": Attempt(
        lambda v, c: {"id": v.request, "signature": PROBE_SIGNATURE}, NOT_FOUND, NOT_FOUND
    ),
    # Keys are public; another agency's admin may not revoke one, nor accredit any (HUB_ADMIN).
    "revokeAgencySigningKey(input.id)": Attempt(
        lambda v, c: {"id": v.key, "reason": "Probe"}, FORBIDDEN, FORBIDDEN
    ),
    "accreditAgencySigningKey(input.id)": Attempt(
        lambda v, c: {"id": v.key, "notAfter": Api.in_seconds(86400)}, FORBIDDEN, FORBIDDEN
    ),
}


def test_the_tables_cover_the_schema() -> None:
    node = SCHEMA.type_map["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    node_types = {member.name for member in SCHEMA.get_possible_types(node)}
    assert node_types == set(NODE_TYPES)
    assert SCHEMA.query_type is not None
    assert set(SCHEMA.query_type.fields) == set(QUERIES)
    # Every ID-taking root field: node and nodes go through NODE_TYPES, the rest is MUTATIONS.
    assert _id_taking(SCHEMA.query_type) == {"node(id)", "nodes(ids)"}
    assert _id_taking(SCHEMA.mutation_type) == set(MUTATIONS)
    assert _id_taking(SCHEMA.subscription_type) == set()
    # Nor may any other field take an ID without a test of its own here.
    roots = {SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type}
    nested = {
        f"{name}.{entry}"
        for name, graphql_type in SCHEMA.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType) and graphql_type not in roots
        for entry in _id_taking(graphql_type)
    }
    assert nested == set(NESTED)


# The matrix.


async def _call(matrix: Matrix, caller: Caller, document: Document) -> dict[str, Any]:
    query, variables = document
    status = 401 if caller.kind in TOKEN_CALLERS else 200
    body = await matrix.gql(caller.token, query, variables, status=status)
    if caller.kind in TOKEN_CALLERS:
        assert body == {
            "errors": [
                {"message": "Authentication required.", "extensions": {"code": "UNAUTHENTICATED"}}
            ]
        }
    text = json.dumps(body)
    for word in caller.forbidden:
        assert word not in text, (caller.kind, word)
    return body


async def _owner_snapshot(matrix: Matrix) -> dict[str, Any]:
    """Everything a write by someone else could change, as the owner and platform read it."""
    victim = matrix.victim
    tree = await matrix.api.read_case(victim.owner.token, victim.case)
    request = await matrix.req.snapshot(victim.owner.token, victim.request)
    body = await matrix.gql(
        victim.owner.token,
        "query($id: ID!) { node(id: $id) { ... on Subject { matchable } } }",
        {"id": victim.subject},
    )
    key = await matrix.gql(
        victim.owner.token,
        f"query($id: ID!) {{ node(id: $id) {{ ... on AgencySigningKey {{ "
        f"{select('AgencySigningKey')} }} }} }}",
        {"id": victim.key},
    )
    return {"tree": tree, "request": request, "subject": body, "key": key}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("via", ["node", "nodes"])
@pytest.mark.parametrize("type_name", list(NODE_TYPES))
async def test_node_types(matrix: Matrix, type_name: str, via: str, caller: str) -> None:
    who = matrix.callers[caller]
    object_id = NODE_TYPES[type_name][0](matrix.victim)
    selection = f"id ... on {type_name} {{ {select(type_name)} }}"
    document: Document
    if via == "node":
        document = (f"query($id: ID!) {{ node(id: $id) {{ {selection} }} }}", {"id": object_id})
    else:
        # Between two of the caller's own objects, so that positions are checked too.
        own = [who.agency.id, object_id, who.agency.id]
        document = (f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {selection} }} }}", {"ids": own})
    body = await _call(matrix, who, document)
    if caller in TOKEN_CALLERS:
        return
    assert "errors" not in body, body
    found = body["data"]["node"] if via == "node" else body["data"]["nodes"][1]
    if via == "nodes":
        assert [item["id"] for item in body["data"]["nodes"][::2]] == [who.agency.id] * 2
    if caller not in NODE_TYPES[type_name][1]:
        assert found is None
        return
    assert found is not None
    assert found["id"] == object_id
    if "viewerAccess" in found:
        assert found["viewerAccess"] == "METADATA"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("field_name", list(QUERIES))
async def test_root_query_fields(matrix: Matrix, field_name: str, caller: str) -> None:
    who = matrix.callers[caller]
    body = await _call(matrix, who, QUERIES[field_name](matrix.victim, who))
    if caller in TOKEN_CALLERS:
        return
    assert "errors" not in body, body
    if field_name == "cases":
        listed = {edge["node"]["id"] for edge in body["data"]["cases"]["edges"]}
        assert (matrix.victim.case in listed) is (caller == "metadata")
    if field_name == "hitCheck":
        _names_the_owner(matrix, body)
    if field_name == "nodes":
        found = [item and item["id"] for item in body["data"]["nodes"]]
        visible = {matrix.victim.case, matrix.victim.subject, matrix.victim.evidence}
        visible |= {*matrix.victim.identifiers, *matrix.victim.custody}
        assert found == [
            object_id if caller == "metadata" and object_id in visible else None
            for object_id in matrix.victim.ids()
        ]


def _names_the_owner(matrix: Matrix, body: dict[str, Any]) -> None:
    (result,) = body["data"]["hitCheck"]["results"]
    assert matrix.victim.owner.id in {hit["agency"]["id"] for hit in result["hits"]}


@pytest.mark.parametrize("caller", CALLERS)
async def test_the_hit_check_mutation_names_the_holder_and_nothing_else(
    matrix: Matrix, caller: str
) -> None:
    """It takes no ID (MUTATIONS has no row for it): checked here as the query is above."""
    who = matrix.callers[caller]
    body = await _call(matrix, who, _hit_check("mutation"))
    if caller in TOKEN_CALLERS:
        return
    assert "errors" not in body, body
    _names_the_owner(matrix, body)


async def test_request_evidence_ids_reach_only_the_requests_own_items(matrix: Matrix) -> None:
    """`CooperationRequest.evidence(ids:)` on a request the caller is party to, given the ids
    of the victim's evidence (attached to the victim's own request): nothing of them."""
    for kind in ("unrelated", "metadata"):
        who = matrix.callers[kind]
        query = """query($id: ID!, $ids: [ID!]) { node(id: $id) { ... on CooperationRequest {
          all: evidence { evidenceId } asked: evidence(ids: $ids) { evidenceId title description
          contentBase64 } } } }"""
        ids = [matrix.victim.evidence, *matrix.victim.ids()]
        body = await matrix.gql(who.token, query, {"id": who.incoming, "ids": ids})
        assert "errors" not in body, body
        assert body["data"]["node"]["asked"] == [], body
        for word in who.forbidden:
            assert word not in json.dumps(body)
        # The argument does select: the request's own items by their ids.
        own = [item["evidenceId"] for item in body["data"]["node"]["all"]]
        assert own
        body = await matrix.gql(who.token, query, {"id": who.incoming, "ids": own})
        assert [item["evidenceId"] for item in body["data"]["node"]["asked"]] == own


# Nested fields taking IDs, each with its test above.
NESTED = {
    "CooperationRequest.evidence(ids)": test_request_evidence_ids_reach_only_the_requests_own_items
}


def _mutation(name: str) -> str:
    spec = SCHEMA.mutation_type.fields[name] if SCHEMA.mutation_type else None
    assert spec is not None
    input_type = get_named_type(spec.args["input"].type).name
    payload = get_named_type(spec.type).name
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {select(payload)} }} }}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("key", list(MUTATIONS))
async def test_id_taking_mutations(matrix: Matrix, key: str, caller: str) -> None:
    who = matrix.callers[caller]
    attempt = MUTATIONS[key]
    name = key.split("(")[0]
    before = await _owner_snapshot(matrix)
    data = attempt.build(matrix.victim, who)
    body = await _call(matrix, who, (_mutation(name), {"input": data}))
    assert await _owner_snapshot(matrix) == before
    if caller in TOKEN_CALLERS:
        return
    assert "errors" not in body, body
    payload = body["data"][name]
    assert len(payload["errors"]) == 1, payload
    assert payload["errors"][0]["code"] == getattr(attempt, caller), payload
    assert all(
        value is None for key, value in payload.items() if key not in {"errors", "__typename"}
    )
