"""Role matrix, generated from the schema: every root query field, every mutation and every
subscription field, called with a token holding one role alone (READER, INVESTIGATOR,
LIAISON_OFFICER, AGENCY_ADMIN, SUPERVISOR, HUB_ADMIN) of the agency that owns the object or is
party to the request, against the outcome written by hand in the tables below.

An allowed call really succeeds (a read shows the agency's object; a write changes the
database). A refused one answers FORBIDDEN (in the payload for a mutation, as a top-level
error for a read, with the field null), writes nothing but its audit record and shows no
value of the agency's. A subscription refused to a token is closed 4403 at connection_init.
The role table itself lives in casehub.domain.roles; a field added to the schema without a
row here makes `test_the_tables_cover_the_schema` fail.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel
from starlette.types import ASGIApp

from casehub.api.ids import parse_global_id
from casehub.app import create_app
from casehub.config import Settings
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.roles import ROLES, Operation
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import statement_bytes
from casehub.persistence import tables
from casehub.services.runtime import Runtime
from tests.api.conftest import Api, Sample
from tests.conftest import Agency, GraphQL, World
from tests.request_support import STEPS, Requests, request_input
from tests.security.gate_support import socket
from tests.security.test_idor_matrix import SCHEMA
from tests.security.test_idor_matrix import select as every_field
from tests.signing_support import (
    EMERGENCY,
    REGISTER,
    accredited_key,
    principal_of,
    read_content,
    signature_input,
    step_content,
)
from tests.support import integrate_everything


def selection(type_name: str, depth: int = 2) -> str:
    """Every field of a type as the IDOR matrix selects them, but evidence contents: the
    bytes prove nothing about roles and the query limits bound how many one answer holds."""
    return every_field(type_name, depth).replace(" contentBase64", "")


ROLE_NAMES = tuple(role.value for role in Role)
OK, NO, CLOSED = "allowed", "FORBIDDEN", "closed 4403"
# Audit rows record refusals too (DESIGN: a refusal is recorded alone): not a write here.
UNCOUNTED = {"audit_event"}

# The tables, by hand. Columns: READER, INVESTIGATOR, LIAISON_OFFICER, AGENCY_ADMIN, SUPERVISOR,
# HUB_ADMIN.
assert ROLE_NAMES == (
    "READER",
    "INVESTIGATOR",
    "LIAISON_OFFICER",
    "AGENCY_ADMIN",
    "SUPERVISOR",
    "HUB_ADMIN",
)
Row = tuple[str, str, str, str, str, str]

QUERY_TABLE: dict[str, Row] = {
    # The principal itself and the public directory: anyone authenticated.
    "viewer": (OK, OK, OK, OK, OK, OK),
    "agencies": (OK, OK, OK, OK, OK, OK),
    # The agency's cases and requests: any agency role; HUB_ADMIN is none.
    "node": (OK, OK, OK, OK, OK, NO),
    "nodes": (OK, OK, OK, OK, OK, NO),
    "cases": (OK, OK, OK, OK, OK, NO),
    "cooperationRequests": (OK, OK, OK, OK, OK, NO),
    "hitNotices": (OK, OK, OK, OK, OK, NO),
    "auditEvents": (NO, NO, NO, OK, NO, NO),
    "auditTreeHead": (NO, NO, NO, OK, NO, NO),
    "auditConsistencyProof": (NO, NO, NO, OK, NO, NO),
    "hitCheck": (NO, OK, OK, NO, NO, NO),
}

MUTATION_TABLE: dict[str, Row] = {
    "registerAgency": (NO, NO, NO, NO, NO, OK),
    "openCase": (NO, OK, NO, NO, NO, NO),
    "updateCase": (NO, OK, NO, NO, NO, NO),
    "addSubject": (NO, OK, NO, NO, NO, NO),
    "addEvidence": (NO, OK, NO, NO, NO, NO),
    "recordCustodyEvent": (NO, OK, NO, NO, NO, NO),
    "setSubjectMatchable": (NO, OK, NO, NO, NO, NO),
    "hitCheck": (NO, OK, OK, NO, NO, NO),
    "shareCase": (NO, NO, NO, OK, NO, NO),
    "revokeShare": (NO, NO, NO, OK, NO, NO),
    "shredCase": (NO, NO, NO, OK, NO, NO),
    "setLegalHold": (NO, NO, NO, OK, NO, NO),
    "createCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "submitCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "acknowledgeCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "acceptCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "declineCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "fulfilCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "withdrawCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "closeCooperationRequest": (NO, NO, OK, OK, NO, NO),
    "addCooperationMessage": (NO, NO, OK, OK, NO, NO),
    "approveCooperationRequest": (NO, NO, NO, NO, OK, NO),
    "registerAgencySigningKey": (NO, NO, NO, OK, NO, NO),
    "accreditAgencySigningKey": (NO, NO, NO, NO, NO, OK),
    "revokeAgencySigningKey": (NO, NO, NO, OK, NO, OK),
}

SUBSCRIPTION_TABLE: dict[str, Row] = {
    "cooperationRequestEvents": (OK, OK, OK, OK, OK, CLOSED),
    "hitNotices": (OK, OK, OK, OK, OK, CLOSED),
}


def test_the_tables_cover_the_schema() -> None:
    assert SCHEMA.query_type is not None
    assert SCHEMA.mutation_type is not None
    assert SCHEMA.subscription_type is not None
    assert set(QUERY_TABLE) == set(SCHEMA.query_type.fields)
    assert set(MUTATION_TABLE) == set(SCHEMA.mutation_type.fields)
    assert set(SUBSCRIPTION_TABLE) == set(SCHEMA.subscription_type.fields)
    assert set(MUTATION_TABLE) == set(TARGETS)
    assert set(QUERY_TABLE) == set(READS)


def test_every_operation_of_the_role_table_has_a_role() -> None:
    # And HUB_ADMIN's only grants are the directory, registering agencies and vouching for
    # (or withdrawing) agency keys; SUPERVISOR's beyond reading, approving.
    assert set(ROLES) == set(Operation)
    hub = {operation for operation, roles in ROLES.items() if Role.HUB_ADMIN in roles}
    assert hub == {
        Operation.READ_DIRECTORY,
        Operation.REGISTER_AGENCY,
        Operation.ACCREDIT_SIGNING_KEY,
        Operation.REVOKE_SIGNING_KEY,
    }
    supervisor = {operation for operation, roles in ROLES.items() if Role.SUPERVISOR in roles}
    assert supervisor == {
        Operation.READ_DIRECTORY,
        Operation.READ_CASES,
        Operation.READ_REQUESTS,
        Operation.READ_NOTICES,
        Operation.APPROVE_REQUESTS,
    }


# The world: one per engine for the whole session.


@dataclass
class RoleWorld:
    """The owner agency (tokens by single role), its partner, and what they hold."""

    owner: Agency
    partner: Agency
    case: str
    request: str  # from the owner to the partner, acknowledged, with a message
    gql: GraphQL
    api: Api
    req: Requests
    runtime: Runtime
    app: ASGIApp
    protected: list[str]  # the owner's plaintext and clear words: never in a refusal
    key: AgencyPrivateKey  # the owner's accredited signing key
    shared: dict[str, Any] = field(default_factory=dict)  # refused roles' targets, by row


@pytest.fixture(scope="session")
async def role_app(settings: Settings, runtime: Runtime) -> ASGIApp:
    """The app on a clock that leaps an hour at every look, so no rate limit trips."""
    hours = itertools.count(step=3600.0)
    return create_app(settings, runtime=runtime, monotonic=lambda: next(hours))


@pytest.fixture(scope="session")
async def role_http(role_app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=role_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@pytest.fixture(scope="session")
async def role_world(
    runtime: Runtime, role_app: ASGIApp, role_http: httpx.AsyncClient
) -> RoleWorld:
    world, gql = World(runtime), GraphQL(role_http)
    api, req = Api(world, gql), Requests(gql)
    marker = secrets.token_hex(4)
    owner = await world.agency("ROL")
    partner = await world.agency("RPA", "AE", AgencyKind.SERVICE_PROVIDER)
    title = f"Operation Kestrel {marker}"
    case = await api.open_case(owner.token, title=title, reference=f"ROLE-{marker}")
    await api.populate(owner.token, case["id"])
    body, message = f"Disclose the subscriber {marker}", f"Thread note {marker}"
    request = await req.draft(owner.token, partner.id, body=body, caseId=case["id"])
    await req.moved(owner.token, "submit", request)
    await req.moved(partner.token, "acknowledge", request)
    assert (await req.message(partner.token, request, message))["errors"] == []
    # The partner checks the owner's phone: the owner receives a hit notice; the partner
    # holds a phone of its own for the owner's checks to find.
    partner_case = await api.open_case(partner.token)
    subject = await api.mutate(
        partner.token,
        "addSubject",
        {
            "caseId": partner_case["id"],
            "kind": "PERSON",
            "displayName": "Held by the partner",
            "identifiers": [{"kind": "PHONE", "value": PARTNER_PHONE}],
        },
    )
    assert subject["errors"] == [], subject
    checked = await gql(partner.tokens["LIAISON_OFFICER"], HIT_CHECK, {"i": [PHONE]})
    assert "errors" not in checked, checked
    protected = [*(v for k, v in vars(Sample()).items() if k != "evidence_title"), body, message]
    key, _key_id = await accredited_key(
        gql, owner.tokens["AGENCY_ADMIN"], owner.tokens["HUB_ADMIN"]
    )
    await integrate_everything(runtime)  # so that there is a signed tree head to read
    return RoleWorld(
        owner,
        partner,
        case["id"],
        request,
        gql,
        api,
        req,
        runtime,
        role_app,
        [*protected, title],
        key,
    )


PARTNER_PHONE = "+60129876543"
PHONE = {"kind": "PHONE", "value": Sample.phone}
HIT_CHECK = (
    "query($i: [IdentifierInput!]!) { hitCheck(identifiers: $i) { "
    f"{selection('HitCheckPayload', 3)} }} }}"
)


def _page(field_name: str) -> str:
    assert SCHEMA.query_type is not None
    connection = SCHEMA.query_type.fields[field_name].type
    name = getattr(getattr(connection, "of_type", connection), "name", "")
    return f"{{ {field_name}(first: 50) {{ {selection(name, 3)} }} }}"


# Reads: the document, and what an allowed answer must show.

Check = Callable[[RoleWorld, Any], None]


def _listed(object_id: Callable[[RoleWorld], str]) -> Check:
    def check(w: RoleWorld, data: Any) -> None:
        assert object_id(w) in [edge["node"]["id"] for edge in data["edges"]], data

    return check


def _nonempty(_w: RoleWorld, data: Any) -> None:
    assert data["edges"], data


def _hit(w: RoleWorld, data: Any) -> None:
    (result,) = data["results"]
    assert w.partner.id in {hit["agency"]["id"] for hit in result["hits"]}, data


def _signed(_w: RoleWorld, data: Any) -> None:
    assert data["treeSize"] > 0, data
    assert len(data["signature"]) == 86, data


def _empty_proof(_w: RoleWorld, data: Any) -> None:
    assert data == {"hashes": []}, data  # a log is consistent with itself


def _own_agency(w: RoleWorld, data: Any) -> None:
    assert data["agency"]["id"] == w.owner.id, data


def _the_case(w: RoleWorld, data: Any) -> None:
    assert data["id"] == w.case, data


def _in_order(w: RoleWorld, data: Any) -> None:
    assert [item["id"] for item in data] == [w.owner.id, w.case, w.request], data


@dataclass(frozen=True)
class Read:
    document: Callable[[RoleWorld], tuple[str, dict[str, Any]]]
    check: Check


READS: dict[str, Read] = {
    "viewer": Read(lambda w: (f"{{ viewer {{ {selection('Viewer')} }} }}", {}), _own_agency),
    # The directory is ordered by registration: in a session that registered many agencies
    # before this world, the owner is on a later page; any page shows the read was allowed.
    "agencies": Read(lambda w: (_page("agencies"), {}), _nonempty),
    "node": Read(
        lambda w: (
            f"query($id: ID!) {{ node(id: $id) {{ id ... on Case {{ {selection('Case')} }} }} }}",
            {"id": w.case},
        ),
        _the_case,
    ),
    "nodes": Read(
        lambda w: (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [w.owner.id, w.case, w.request]},
        ),
        _in_order,
    ),
    "cases": Read(lambda w: (_page("cases"), {}), _listed(lambda w: w.case)),
    "cooperationRequests": Read(
        lambda w: (_page("cooperationRequests"), {}), _listed(lambda w: w.request)
    ),
    "hitNotices": Read(lambda w: (_page("hitNotices"), {}), _nonempty),
    "auditEvents": Read(lambda w: (_page("auditEvents"), {}), _nonempty),
    "auditTreeHead": Read(lambda w: ("{ auditTreeHead { treeSize signature } }", {}), _signed),
    "auditConsistencyProof": Read(
        lambda w: ("{ auditConsistencyProof(fromSize: 1, toSize: 1) { hashes } }", {}),
        _empty_proof,
    ),
    "hitCheck": Read(
        lambda w: (HIT_CHECK, {"i": [{"kind": "PHONE", "value": PARTNER_PHONE}]}), _hit
    ),
}


# Writes: a target for the call (fresh for each allowed role, one shared by the refused ones).


@dataclass
class Target:
    data: dict[str, Any]
    ids: list[str]  # the owner's objects a write would change, read back by the owner


Setup = Callable[[RoleWorld], Awaitable[Target]]


async def _case(w: RoleWorld) -> str:
    case_id: str = (await w.api.open_case(w.owner.token))["id"]
    return case_id


async def _tree(w: RoleWorld) -> dict[str, Any]:
    case_id = await _case(w)
    await w.api.populate(w.owner.token, case_id)
    tree = await w.api.read_case(w.owner.token, case_id)
    assert tree is not None
    return tree


async def _request(w: RoleWorld, state: str, *, incoming: bool = False) -> str:
    requester, requested = (w.partner, w.owner) if incoming else (w.owner, w.partner)
    request_id, _ = await w.req.at(state, requester, requested)
    return request_id


def _step(step: str, state: str, *, incoming: bool) -> Setup:
    async def setup(w: RoleWorld) -> Target:
        request_id = await _request(w, state, incoming=incoming)
        return Target({"id": request_id, **STEPS[step][2]}, [request_id])

    return setup


async def _update(w: RoleWorld) -> Target:
    case_id = await _case(w)
    return Target({"id": case_id, "expectedVersion": 1, "title": "Renamed"}, [case_id])


async def _add_subject(w: RoleWorld) -> Target:
    case_id = await _case(w)
    data = {
        "caseId": case_id,
        "kind": "PERSON",
        "displayName": "Added",
        "identifiers": [{"kind": "EMAIL", "value": "added@mail.test"}],
    }
    return Target(data, [case_id])


async def _add_evidence(w: RoleWorld) -> Target:
    case_id = await _case(w)
    data = {"caseId": case_id, "kind": "DOCUMENT", "title": "Added", "contentBase64": "YWRkZWQ="}
    return Target(data, [case_id])


async def _custody(w: RoleWorld) -> Target:
    tree = await _tree(w)
    item = tree["evidence"][0]["id"]
    return Target({"evidenceId": item, "action": "ACCESSED", "note": "Looked"}, [item])


async def _matchable(w: RoleWorld) -> Target:
    tree = await _tree(w)
    subject = tree["subjects"][0]["id"]
    return Target({"subjectId": subject, "matchable": False}, [subject])


async def _hit_check(w: RoleWorld) -> Target:
    # The partner's phone: an allowed check writes the check and the partner's notice.
    return Target({"identifiers": [{"kind": "PHONE", "value": PARTNER_PHONE}]}, [])


async def _share(w: RoleWorld) -> Target:
    case_id = await _case(w)
    return Target({"caseId": case_id, "agencyId": w.partner.id, "scope": "METADATA"}, [case_id])


async def _revoke(w: RoleWorld) -> Target:
    case_id = await _case(w)
    share = await w.api.shared(w.owner.token, case_id, w.partner.id, "METADATA")
    return Target({"shareId": share}, [case_id, share])


async def _shred(w: RoleWorld) -> Target:
    tree = await _tree(w)
    return Target({"id": tree["id"]}, [tree["id"]])


async def _hold(w: RoleWorld) -> Target:
    case_id = await _case(w)
    return Target({"id": case_id, "hold": True, "reason": "Pending trial"}, [case_id])


async def _register(w: RoleWorld) -> Target:
    code = f"NEW-{secrets.token_hex(4).upper()}"
    return Target(
        {"code": code, "name": f"Agency {code}", "jurisdiction": "MY", "kind": "REGULATOR"}, []
    )


async def _open(w: RoleWorld) -> Target:
    data = {
        "reference": f"NEW-{secrets.token_hex(4)}",
        "title": "New",
        "summary": "Opened by the role matrix",
        "category": "FRAUD",
    }
    return Target(data, [])


async def _create(w: RoleWorld) -> Target:
    return Target(request_input(w.partner.id), [])


async def _message(w: RoleWorld) -> Target:
    request_id = await _request(w, "SUBMITTED")
    return Target({"id": request_id, "body": "Any news?"}, [request_id])


async def _public_key(_w: RoleWorld) -> Target:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    return Target({"publicKey": statement_bytes(key.public.to_jwk()).decode("ascii")}, [])


async def _registered_key(w: RoleWorld) -> str:
    body = await w.gql(w.owner.tokens["AGENCY_ADMIN"], REGISTER, {"i": (await _public_key(w)).data})
    key_id: str = body["data"]["registerAgencySigningKey"]["key"]["id"]
    return key_id


async def _accredit(w: RoleWorld) -> Target:
    key_id = await _registered_key(w)
    return Target({"id": key_id, "notAfter": Api.in_seconds(30 * 86400)}, [key_id])


async def _revoke_key(w: RoleWorld) -> Target:
    key_id = await _registered_key(w)
    return Target({"id": key_id, "reason": "Retired"}, [key_id])


async def _approve(w: RoleWorld) -> Target:
    """An emergency request to the platform awaiting approval (submitted unsigned: this app's
    policy requires no signature but the approval's), with the SUPERVISOR's countersignature."""
    request_id = await w.req.draft(w.owner.token, w.partner.id, **EMERGENCY)
    assert await w.req.moved(w.owner.token, "submit", request_id) == "AWAITING_APPROVAL"
    supervisor = w.owner.tokens["SUPERVISOR"]
    content = step_content(await read_content(w.gql, supervisor, request_id), "APPROVE")
    signature = signature_input(
        w.key, content, agency=w.owner.uuid, principal=await principal_of(w.gql, supervisor)
    )
    return Target({"id": request_id, "signature": signature}, [request_id])


TARGETS: dict[str, Setup] = {
    "registerAgency": _register,
    "openCase": _open,
    "updateCase": _update,
    "addSubject": _add_subject,
    "addEvidence": _add_evidence,
    "recordCustodyEvent": _custody,
    "setSubjectMatchable": _matchable,
    "hitCheck": _hit_check,
    "shareCase": _share,
    "revokeShare": _revoke,
    "shredCase": _shred,
    "setLegalHold": _hold,
    "createCooperationRequest": _create,
    "submitCooperationRequest": _step("submit", "DRAFT", incoming=False),
    "acknowledgeCooperationRequest": _step("acknowledge", "SUBMITTED", incoming=True),
    "acceptCooperationRequest": _step("accept", "SUBMITTED", incoming=True),
    "declineCooperationRequest": _step("decline", "SUBMITTED", incoming=True),
    "fulfilCooperationRequest": _step("fulfil", "ACCEPTED", incoming=True),
    "withdrawCooperationRequest": _step("withdraw", "SUBMITTED", incoming=False),
    "closeCooperationRequest": _step("close", "DECLINED", incoming=False),
    "addCooperationMessage": _message,
    "approveCooperationRequest": _approve,
    "registerAgencySigningKey": _public_key,
    "accreditAgencySigningKey": _accredit,
    "revokeAgencySigningKey": _revoke_key,
}


# What a write could change: row counts of every table but the audit log, and the targets as
# their owner reads them.


async def _counts(runtime: Runtime) -> dict[str, int]:
    assert tables.CaseRow.__tablename__ in SQLModel.metadata.tables  # the tables are loaded
    counted = [t for name, t in SQLModel.metadata.tables.items() if name not in UNCOUNTED]
    query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in counted))
    async with runtime.database.session() as session:
        row = (await session.execute(query)).one()
    return {table.name: count for table, count in zip(counted, row, strict=True)}


async def _snapshot(w: RoleWorld, ids: list[str]) -> list[Any]:
    if not ids:
        return []
    # One aliased `node` per object: fragments of several types on one field would conflict.
    parts = [
        f"n{index}: node(id: $i{index}) {{ id ... on {name} {{ {selection(name)} }} }}"
        for index, name in enumerate(parse_global_id(each)[0] for each in ids)
    ]
    arguments = ", ".join(f"$i{index}: ID!" for index in range(len(ids)))
    body = await w.gql(
        w.owner.token,
        f"query({arguments}) {{ {' '.join(parts)} }}",
        {f"i{index}": each for index, each in enumerate(ids)},
    )
    assert "errors" not in body, body
    found = list(body["data"].values())
    assert all(found), found
    return found


def _mutation(name: str, target: Target) -> tuple[str, dict[str, Any]]:
    """The document and variables: the target's data as `input`, or as the arguments
    themselves for a mutation without one (hitCheck)."""
    assert SCHEMA.mutation_type is not None
    spec = SCHEMA.mutation_type.fields[name]
    variables = {"input": target.data} if "input" in spec.args else target.data
    declared = ", ".join(f"${arg}: {spec.args[arg].type}" for arg in variables)
    passed = ", ".join(f"{arg}: ${arg}" for arg in variables)
    payload = getattr(spec.type, "of_type", spec.type).name
    return (
        f"mutation({declared}) {{ {name}({passed}) {{ {selection(payload)} }} }}",
        variables,
    )


def _no_protected(w: RoleWorld, body: Any) -> None:
    text = json.dumps(body)
    for word in w.protected:
        assert word not in text, word


def _cells(table: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(name, role) for name in table for role in ROLE_NAMES]


# The deprecated hitCheck query answers in a payload with `errors`, as the mutation does.
PAYLOAD_READS = {"hitCheck"}


@pytest.mark.parametrize(("field_name", "role"), _cells(QUERY_TABLE))
async def test_root_query_fields(role_world: RoleWorld, field_name: str, role: str) -> None:
    w = role_world
    expected = QUERY_TABLE[field_name][ROLE_NAMES.index(role)]
    query, variables = READS[field_name].document(w)
    before = await _counts(w.runtime)
    body = await w.gql(w.owner.tokens[role], query, variables)
    if expected == OK:
        assert "errors" not in body, body
        READS[field_name].check(w, body["data"][field_name])
        return
    if field_name in PAYLOAD_READS:  # a payload with `errors`, like a mutation's
        payload = body["data"][field_name]
        assert [error["code"] for error in payload["errors"]] == [NO], body
        assert payload["results"] is None, body
    else:  # a top-level error, the field null, like hitNotices and auditEvents always did
        assert [error["extensions"]["code"] for error in body["errors"]] == [NO], body
        assert body["data"] is None or body["data"][field_name] is None, body
    _no_protected(w, body)
    assert await _counts(w.runtime) == before


@pytest.mark.parametrize(("name", "role"), _cells(MUTATION_TABLE))
async def test_mutations(role_world: RoleWorld, name: str, role: str) -> None:
    w = role_world
    expected = MUTATION_TABLE[name][ROLE_NAMES.index(role)]
    if expected == OK:
        target = await TARGETS[name](w)
    else:
        if name not in w.shared:  # refused calls change nothing: they can share one target
            w.shared[name] = await TARGETS[name](w)
        target = w.shared[name]
    counts, snapshot = await _counts(w.runtime), await _snapshot(w, target.ids)
    body = await w.gql(w.owner.tokens[role], *_mutation(name, target))
    assert "errors" not in body, body
    payload = body["data"][name]
    changed = (await _counts(w.runtime), await _snapshot(w, target.ids)) != (counts, snapshot)
    if expected == OK:
        assert payload["errors"] == [], payload
        assert any(value for key, value in payload.items() if key not in {"errors", "__typename"})
        assert changed, name
        return
    assert [error["code"] for error in payload["errors"]] == [NO], payload
    assert all(
        value is None for key, value in payload.items() if key not in {"errors", "__typename"}
    )
    _no_protected(w, body)
    assert not changed, name


SUBSCRIBE = {
    "cooperationRequestEvents": "subscription { cooperationRequestEvents(since: 0) { seq } }",
    "hitNotices": "subscription { hitNotices(since: 0) { seq } }",
}


@pytest.mark.parametrize(("field_name", "role"), _cells(SUBSCRIPTION_TABLE))
async def test_subscription_fields(role_world: RoleWorld, field_name: str, role: str) -> None:
    w = role_world
    expected = SUBSCRIPTION_TABLE[field_name][ROLE_NAMES.index(role)]
    async with socket(w.app) as client:
        answer = await client.init(w.owner.tokens[role])
        if expected == CLOSED:
            assert answer == 4403
            return
        assert answer == {"type": "connection_ack"}
        message = await client.subscribe(SUBSCRIBE[field_name])
        assert (message["type"], message["id"]) == ("next", "1"), message
        assert "errors" not in message["payload"], message
        assert message["payload"]["data"][field_name]["seq"] >= 1
