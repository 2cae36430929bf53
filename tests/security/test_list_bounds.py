"""Every list the API returns has a real bound (issue 11, items 1 and 3).

The cost of a document counts each list at its bound, so the documents that escaped the cost
limit (nested plain lists, evidence content multiplied through `nodes`) are refused before any
resolver or SQL runs; the bounds hold because the writes refuse an item past its cap, under the
row lock of the case or request (concurrent writers included), and the reads never return more
(data stored before a cap was lowered included).
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from graphql import GraphQLList, GraphQLObjectType, get_named_type, get_nullable_type, is_leaf_type

from casehub.api.execution import bounds
from casehub.api.schema import build_schema
from casehub.persistence.tables import RequestEventRow, RequestMessageRow
from casehub.services.runtime import Runtime, open_scope
from tests.integration.servers import post
from tests.request_support import Requests, three_agencies
from tests.security.gate_support import ResolverCalls, nothing_run, serving, with_settings
from tests.support import nothing_written

if TYPE_CHECKING:
    from tests.conftest import SqlCounter

SCHEMA = build_schema(development=False)._schema

OPEN = """mutation($r: String!) { openCase(input: {reference: $r, title: "Bounded",
  summary: "s", category: FRAUD, tlp: GREEN}) { case { id } errors { code field message } } }"""
SUBJECT = """mutation($c: ID!, $n: String!) { addSubject(input: {caseId: $c, kind: PERSON,
  displayName: $n, identifiers: [{kind: EMAIL, value: "a@example.org"}]})
  { subject { id } errors { code field message } } }"""
EVIDENCE = """mutation($c: ID!, $b: String!) { addEvidence(input: {caseId: $c, kind: DOCUMENT,
  title: "Statement", contentBase64: $b}) { evidence { id } errors { code field message } } }"""
CUSTODY = """mutation($e: ID!) { recordCustodyEvent(input: {evidenceId: $e, action: ACCESSED})
  { custodyEvent { id } errors { code field message } } }"""
SHARE = """mutation($c: ID!, $a: ID!) { shareCase(input: {caseId: $c, agencyId: $a,
  scope: METADATA}) { share { id } errors { code field message } } }"""
LISTS = """query($c: ID!) { node(id: $c) { ... on Case { subjects { id } evidence { id
  custody { id } } shares { id } } } }"""


async def call(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    return await post(http, token, query, variables)


async def payload(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    """The mutation's payload (its only root field)."""
    [found] = (await call(http, token, query, **variables)).values()
    return found


async def open_case(http: httpx.AsyncClient, token: str) -> str:
    opened = await payload(http, token, OPEN, r=f"B-{id(http)}-{asyncio.get_running_loop().time()}")
    assert opened["errors"] == [], opened
    case_id: str = opened["case"]["id"]
    return case_id


def refused_as_full(found: dict[str, Any], field: list[str], maximum: int) -> None:
    assert found["errors"] == [
        {"code": "VALIDATION", "field": field, "message": found["errors"][0]["message"]}
    ], found
    assert f"at most {maximum} " in found["errors"][0]["message"], found


# The schema: every list has a bound.


def _object_lists() -> set[str]:
    """`Type.field` of every field of an object type returning a list of objects."""
    return {
        f"{name}.{field_name}"
        for name, kind in SCHEMA.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not name.startswith("__")
        for field_name, field in kind.fields.items()
        if isinstance(get_nullable_type(field.type), GraphQLList)
        and not is_leaf_type(get_named_type(field.type))
    }


def test_every_list_field_of_the_schema_has_a_bound() -> None:
    lists = _object_lists()
    by_item = {
        coordinate
        for coordinate in lists
        if get_named_type(_field(coordinate).type).name in bounds.ITEM_BOUNDS
    }
    unbounded = lists - set(bounds.LIST_BOUNDS) - by_item
    assert unbounded == set(), (
        f"give these lists a bound in casehub/api/execution/bounds.py: {unbounded}"
    )
    # And no row outlives its field.
    assert set(bounds.LIST_BOUNDS) - lists == set()


def test_every_field_returning_stored_bytes_counts_against_the_contents_budget() -> None:
    contents = {
        f"{name}.{field_name}"
        for name, kind in SCHEMA.type_map.items()
        if isinstance(kind, GraphQLObjectType)
        for field_name in kind.fields
        if field_name == "contentBase64"
    }
    assert contents == set(bounds.CONTENT_FIELDS)


def _field(coordinate: str) -> Any:
    type_name, field_name = coordinate.split(".")
    kind = SCHEMA.type_map[type_name]
    assert isinstance(kind, GraphQLObjectType)
    return kind.fields[field_name]


# The documents of issue 11, refused before anything runs.

NESTED = (
    "{ cases(first: 1) { edges { node { subjects { case { subjects { case { subjects { case "
    "{ owner { id } } } } } } } } } } }"
)
BACK_AND_FORTH = (
    "query($c: ID!) { node(id: $c) { ... on Case { subjects { case { subjects { case "
    "{ subjects { id } } } } } } } }"
)
IDENTIFIERS_BY_IDS = (
    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { subjects { identifiers { value } } "
    "} } }"
)
CONTENT_BY_IDS = (
    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { evidence { contentBase64 } } } }"
)
REQUEST_CONTENT_BY_IDS = (
    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on CooperationRequest { evidence "
    "{ contentBase64 } } } }"
)


@pytest.mark.parametrize(
    ("query", "copies", "limit"),
    [
        pytest.param(NESTED, 0, "cost", id="cases-subjects-case-nested"),
        pytest.param(BACK_AND_FORTH, 1, "cost", id="node-subjects-case-nested"),
        pytest.param(IDENTIFIERS_BY_IDS, 100, "cost", id="nodes-100-identifiers"),
        pytest.param(CONTENT_BY_IDS, 10, "evidenceContents", id="nodes-10-evidence-content"),
    ],
)
async def test_the_reported_documents_are_refused_before_any_resolver_or_sql(
    runtime: Runtime,
    token: str,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    query: str,
    copies: int,
    limit: str,
) -> None:
    # The production defaults, evidence of 10 MiB included.
    defaults = with_settings(runtime, max_evidence_bytes=10 * 1024 * 1024)
    async with serving(defaults) as http:
        case_id = await open_case(http, token)
        await payload(http, token, SUBJECT, c=case_id, n="Tan")
        variables: dict[str, Any] = {}
        if copies == 1:
            variables = {"c": case_id}
        elif copies:
            variables = {"ids": [case_id] * copies}
        async with nothing_run(defaults, resolvers, sql_counter, authenticated=True):
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED", body
    assert error["extensions"]["limit"] == limit, body
    if limit == "evidenceContents":
        # 10 cases of up to 100 items: 1,000 contents; four of 10 MiB fit the budget.
        assert error["extensions"]["max"] == 4, body
        assert "1000 evidence contents" in error["message"], body
    else:
        assert body["extensions"]["cost"]["requestedQueryCost"] > 60_000, body


async def test_request_evidence_content_is_budgeted_too(
    runtime: Runtime, world: Any, resolvers: ResolverCalls, sql_counter: SqlCounter
) -> None:
    police, _platform, _outsider = await three_agencies(world)
    defaults = with_settings(runtime, max_evidence_bytes=10 * 1024 * 1024)
    async with serving(defaults) as http:
        request_id = await Requests(lambda *a, **k: _gql(http, *a, **k)).draft(
            police.token, _platform.id
        )
        async with nothing_run(defaults, resolvers, sql_counter, authenticated=True):
            response = await http.post(
                "/graphql",
                json={"query": REQUEST_CONTENT_BY_IDS, "variables": {"ids": [request_id] * 10}},
                headers={"Authorization": f"Bearer {police.token}"},
            )
        [error] = response.json()["errors"]
        assert error["extensions"]["limit"] == "evidenceContents", error
        # One request's evidence (100 copies at most) is still too much content at once; the
        # items named by id are not.
        every = "evidence { contentBase64 }"
        named = 'evidence(ids: ["RXZpZGVuY2U6eA=="]) { contentBase64 }'
        read = "query($id: ID!) {{ node(id: $id) {{ ... on CooperationRequest {{ {} }} }} }}"
        refused = await _gql(http, police.token, read.format(every), {"id": request_id})
        assert refused["errors"][0]["extensions"]["limit"] == "evidenceContents", refused
        served = await _gql(http, police.token, read.format(named), {"id": request_id})
        assert served["data"]["node"] == {"evidence": []}, served


async def _gql(
    http: httpx.AsyncClient,
    token: str | None,
    query: str,
    variables: dict[str, Any] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


# The caps, enforced when writing.

CAPS = {
    "max_subjects_per_case": 2,
    "max_evidence_per_case": 2,
    "max_custody_events_per_evidence": 2,
    "max_shares_per_case": 2,
    "max_messages_per_request": 2,
}


async def test_a_full_list_refuses_one_more_item_and_writes_nothing(
    runtime: Runtime, world: Any
) -> None:
    capped = with_settings(runtime, **CAPS)
    owner = await world.agency("CAP")
    others = [await world.agency("CAO") for _ in range(3)]
    content = base64.b64encode(b"statement").decode()
    async with serving(capped) as http:
        token = owner.token
        case_id = await open_case(http, token)
        for name in ("One", "Two"):
            assert (await payload(http, token, SUBJECT, c=case_id, n=name))["errors"] == []
        items = [await payload(http, token, EVIDENCE, c=case_id, b=content) for _ in range(2)]
        assert [item["errors"] for item in items] == [[], []]
        item_id = items[0]["evidence"]["id"]
        # RECEIVED is the item's first entry: one more fills its chain.
        assert (await payload(http, token, CUSTODY, e=item_id))["errors"] == []
        for agency in others[:2]:
            assert (await payload(http, token, SHARE, c=case_id, a=agency.id))["errors"] == []

        async with nothing_written(capped):
            refused_as_full(
                await payload(http, token, SUBJECT, c=case_id, n="Three"), ["caseId"], 2
            )
            refused_as_full(
                await payload(http, token, EVIDENCE, c=case_id, b=content), ["caseId"], 2
            )
            refused_as_full(await payload(http, token, CUSTODY, e=item_id), ["evidenceId"], 2)
            refused_as_full(
                await payload(http, token, SHARE, c=case_id, a=others[2].id), ["caseId"], 2
            )
        listed = (await call(http, token, LISTS, c=case_id))["node"]
        assert [len(listed[name]) for name in ("subjects", "evidence", "shares")] == [2, 2, 2]
        assert len(listed["evidence"][0]["custody"]) == 2


async def test_a_full_thread_refuses_one_more_message_and_writes_nothing(
    runtime: Runtime, world: Any
) -> None:
    capped = with_settings(runtime, **CAPS)
    police, platform, _outsider = await three_agencies(world)
    async with serving(capped) as http:
        requests = Requests(lambda *a, **k: _gql(http, *a, **k))
        request_id = await requests.draft(police.token, platform.id)
        for text in ("First", "Second"):
            assert (await requests.message(police.token, request_id, text))["errors"] == []
        before = await _thread_rows(capped)
        async with nothing_written(capped):
            refused_as_full(await requests.message(police.token, request_id, "Third"), ["id"], 2)
        assert await _thread_rows(capped) == before
        # The thread can still end with a reason: the cap is on the messages posted.
        assert await requests.moved(police.token, "withdraw", request_id) == "WITHDRAWN"
        snapshot = await requests.snapshot(police.token, request_id)
        assert [message["kind"] for message in snapshot["messages"]] == [
            "MESSAGE",
            "MESSAGE",
            "WITHDRAW_REASON",
        ]


async def _thread_rows(runtime: Runtime) -> tuple[int, int]:
    async with open_scope(runtime) as scope:
        return (
            await scope.store.count_rows(RequestMessageRow),
            await scope.store.count_rows(RequestEventRow),
        )


async def test_concurrent_writers_cannot_pass_the_cap(runtime: Runtime, world: Any) -> None:
    """Eight subjects and eight messages at once against caps of 3: exactly 3 of each land."""
    capped = with_settings(runtime, max_subjects_per_case=3, max_messages_per_request=3)
    police, platform, _outsider = await three_agencies(world)
    async with serving(capped) as http:
        case_id = await open_case(http, police.token)
        requests = Requests(lambda *a, **k: _gql(http, *a, **k))
        request_id = await requests.draft(police.token, platform.id)
        # Two tokens, each within its limit of operations at once.
        investigators = [police.token, police.tokens["INVESTIGATOR"]] * 4
        liaisons = [police.token, police.tokens["LIAISON_OFFICER"]] * 4
        subjects = await asyncio.gather(
            *(
                payload(http, token, SUBJECT, c=case_id, n=f"S{n}")
                for n, token in enumerate(investigators)
            )
        )
        messages = await asyncio.gather(
            *(requests.message(token, request_id, f"M{n}") for n, token in enumerate(liaisons))
        )
        listed = (await call(http, police.token, LISTS, c=case_id))["node"]
        thread = await requests.snapshot(police.token, request_id)
    for answers in (subjects, messages):
        codes = sorted(error["code"] for answer in answers for error in answer["errors"])
        # A writer that lost a race may also be told to retry (CONFLICT); none got past 3.
        assert sum(1 for answer in answers if answer["errors"] == []) == 3, answers
        assert set(codes) <= {"VALIDATION", "CONFLICT"}, answers
    assert len(listed["subjects"]) == 3
    assert len(thread["messages"]) == 3


async def test_reads_never_return_more_than_the_bound(
    runtime: Runtime, world: Any, sql_counter: SqlCounter
) -> None:
    """Lists stored before a cap was lowered are cut at the cap by the query itself."""
    owner = await world.agency("CUT")
    async with serving(runtime) as http:
        case_id = await open_case(http, owner.token)
        for name in ("A", "B", "C"):
            assert (await payload(http, owner.token, SUBJECT, c=case_id, n=name))["errors"] == []
        every = (await call(http, owner.token, LISTS, c=case_id))["node"]["subjects"]
    lowered = with_settings(runtime, max_subjects_per_case=2)
    async with serving(lowered) as http:
        sql_counter.statements.clear()
        sql_counter.active = True
        try:
            cut = (await call(http, owner.token, LISTS, c=case_id))["node"]["subjects"]
        finally:
            sql_counter.active = False
    assert len(every) == 3
    assert cut == every[:2]  # the oldest two
    [subjects_query] = [sql for sql in sql_counter.statements if "FROM subject" in sql]
    assert "row_number" in subjects_query.lower()


# Lists bounded by construction.

DECRYPTS = """{ auditEvents(first: 10, filter: {action: "field.decrypt", objectType: "Identifier"})
  { edges { node { fieldsRead { objectId } } } } }"""


async def test_decryptions_are_audited_in_events_of_at_most_100_objects(
    runtime: Runtime, world: Any
) -> None:
    owner = await world.agency("AUD")
    identifiers = [{"kind": "EMAIL", "value": f"x{n}@example.org"} for n in range(10)]
    add = """mutation($c: ID!, $i: [IdentifierInput!]!) { addSubject(input: {caseId: $c,
      kind: PERSON, displayName: "P", identifiers: $i}) { errors { code } } }"""
    async with serving(runtime) as http:
        case_id = await open_case(http, owner.token)
        for _ in range(11):
            assert (await payload(http, owner.token, add, c=case_id, i=identifiers))["errors"] == []
        read = (
            "query($c: ID!) { node(id: $c) { ... on Case { subjects { identifiers { value } } } } }"
        )
        subjects = (await call(http, owner.token, read, c=case_id))["node"]["subjects"]
        assert sum(len(subject["identifiers"]) for subject in subjects) == 110
        events = (await call(http, owner.token, DECRYPTS))["auditEvents"]["edges"]
    # The 110 identifiers read: one event of 100 objects and one of 10.
    assert sorted(len(edge["node"]["fieldsRead"]) for edge in events) == [10, 100]


async def test_a_hit_notice_names_at_most_20_of_the_holders_cases(
    runtime: Runtime, world: Any
) -> None:
    holder, asker = await world.agency("HLD"), await world.agency("ASK")
    wallet = {"kind": "EMAIL", "value": "shared@example.org"}
    add = """mutation($c: ID!, $i: [IdentifierInput!]!) { addSubject(input: {caseId: $c,
      kind: PERSON, displayName: "P", identifiers: $i}) { errors { code } } }"""
    check = """mutation($i: [IdentifierInput!]!) { hitCheck(identifiers: $i)
      { results { hits { caseCount } } errors { code } } }"""
    notices = "{ hitNotices(first: 5) { edges { node { cases { id } } } } }"
    # 43 calls with one token: past the default burst of 40.
    async with serving(with_settings(runtime, rate_limit_burst=100)) as http:
        for _ in range(21):
            case_id = await open_case(http, holder.token)
            assert (await payload(http, holder.token, add, c=case_id, i=[wallet]))["errors"] == []
        answer = await call(http, asker.token, check, i=[wallet])
        [notice] = (await call(http, holder.token, notices))["hitNotices"]["edges"]
    assert answer["hitCheck"]["results"] == [{"hits": [{"caseCount": 21}]}]
    assert len(notice["node"]["cases"]) == 20
