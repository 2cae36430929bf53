"""A compiled plan answers, errs and audits exactly as the standard executor: each document of
the corpus runs both ways on the same app and data (plans on, then off), and the answers, the
audited decryptions and, for the supported ones, the use of the plan are checked. Documents a
plan does not support compile to None (casehub.api.execution.plans)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID, uuid4

import httpx
import pytest
from graphql import parse

from benchmarks.documents import CASES_PAGE, INBOX
from casehub.api.context import Context
from casehub.api.execution.plans import extension
from casehub.api.execution.plans.compile import compile_operation
from casehub.api.ids import to_global_id
from casehub.api.schema import build_schema
from casehub.app import create_app
from casehub.config import Settings
from casehub.domain.documents import ManifestEntry, document_id
from casehub.services.documents import add_manifest
from casehub.services.runtime import Runtime
from tests.conftest import GraphQL, SqlCounter, World
from tests.request_support import Requests
from tests.support import seed_cases

DECRYPTS = """
{ auditEvents(filter: {action: "field.decrypt"}, first: 50) {
    totalCount edges { node { objectType fieldsRead { objectType objectId fields } } }
} }
"""
VARIANT = """query Variant($first: Int, $after: String) {
  __typename
  page: cases(first: $first, after: $after) {
    __typename total: totalCount
    pageInfo { __typename end: endCursor hasNextPage }
    edges { __typename c: cursor node {
      __typename key: id summary status shreddedAt protectedFieldsReason legalHold updatedAt
      owner { __typename id kind timezone }
      people: subjects { createdAt matchable displayName case { id title summary }
        identifiers { __typename value kind } }
    } }
  }
}"""
FILTERED = """query($filter: CaseFilter) {
  cases(filter: $filter, first: 5) { totalCount edges { node { reference summary } } }
}"""
OWNED = "{ cases(filter: {owned: true, status: OPEN}) { edges { node { title } } } }"
FEW = "{ cases(first: 3) { edges { node { id } } } }"
BOTH = """{
  cases(first: 2) { pageInfo { hasNextPage } edges { node { summary } } }
  cooperationRequests { totalCount edges { cursor node { id body viewerSide } } }
}"""
REQUESTS = """query($first: Int!) {
  cooperationRequests(first: $first, filter: {status: [SUBMITTED, ACKNOWLEDGED]}) {
    edges { node {
      id kind priority legalBasis title status outcome version createdAt updatedAt submittedAt
      acknowledgeBy decideBy dueAt holdUntil isOverdue viewerSide body
      requester { code } requested { id name } case { id summary }
      events { id seq number action fromStatus toStatus occurredAt requestId
        actorAgency { code } receipt { digest prevDigest signature keyId eventJson } }
    } }
    pageInfo { endCursor }
  }
}"""
UNSUPPORTED = [
    "{ cases { edges { node { ...F } } } } fragment F on Case { id }",
    "{ cases { edges { node { id ... on Case { title } } } } }",
    "query($x: Boolean!) { cases { edges { node { id @include(if: $x) } } } }",
    "{ cases { edges { node { evidence { id } } } } }",
    "{ cases { edges { node { id id } } } }",
    "{ viewer { name } }",
    "{ cases { edges { node { id } } } viewer { name } }",
    'mutation { revokeShare(input: {id: "x"}) { errors { code } } }',
]


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, without the per-token rate limit (each document runs four requests)."""
    unlimited = settings.model_copy(
        update={"rate_limit_per_second": 1e6, "rate_limit_burst": 10**6}
    )
    transport = httpx.ASGITransport(app=create_app(unlimited, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@pytest.fixture
def plans_switch() -> Iterator[None]:
    """Plans on at the start and at the end of the test, whatever it switched."""
    extension.ENABLED = True
    yield
    extension.ENABLED = True


async def decryptions(graphql: GraphQL, token: str) -> tuple[int, list[Any]]:
    """How many decryption events were audited, and the newest ones (newest first)."""
    body = await graphql(token, DECRYPTS)
    events = body["data"]["auditEvents"]
    return events["totalCount"], [edge["node"] for edge in events["edges"]]


async def registered(
    runtime: Runtime, gql: GraphQL, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Register the document (as `casehub documents add` does) and run it by its id: only
    registered documents are planned."""
    entry = ManifestEntry(document_id(query), None, query)
    await add_manifest(runtime, [entry])
    response = await gql.http.post(
        "/graphql",
        json={"documentId": entry.id, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def one_way(
    runtime: Runtime,
    gql: GraphQL,
    token: str,
    auditor: str,
    query: str,
    variables: dict[str, Any],
    planned: bool,
) -> tuple[dict[str, Any], list[Any], int]:
    """The answer, the decryption events it added and how many operations plans answered."""
    extension.ENABLED = True
    before, _ = await decryptions(gql, auditor)
    answered = extension.STATS["planned"]
    extension.ENABLED = planned
    body = await registered(runtime, gql, token, query, variables)
    extension.ENABLED = True
    answered = extension.STATS["planned"] - answered
    after, events = await decryptions(gql, auditor)
    return body, events[: after - before], answered


async def assert_same(
    runtime: Runtime,
    gql: GraphQL,
    token: str,
    auditor: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    supported: bool = True,
) -> dict[str, Any]:
    """Both ways give the same body and audit; a supported document is answered by its plan
    (unless it errs), an unsupported one never."""
    given = variables or {}
    planned, planned_reads, used = await one_way(runtime, gql, token, auditor, query, given, True)
    standard, standard_reads, unused = await one_way(
        runtime, gql, token, auditor, query, given, False
    )
    assert planned == standard, query
    assert planned_reads == standard_reads, query
    assert unused == 0
    assert used == (1 if supported and "errors" not in standard else 0), (query, standard)
    return planned


async def test_plans_answer_and_audit_like_the_standard_executor(
    world: World, runtime: Runtime, gql: GraphQL, plans_switch: None
) -> None:
    owner = await world.agency("OWN")
    partner = await world.agency("PAR")
    ids = await seed_cases(runtime, owner.token, 7, "C")
    # The partner sees one case in METADATA only, another in FULL (revealed fields: null, text).
    for case_id, scope in ((ids[1], "METADATA"), (ids[2], "FULL")):
        shared = await gql(
            owner.token,
            "mutation($i: ShareCaseInput!) { shareCase(input: $i) { errors { code } } }",
            {
                "i": {
                    "caseId": to_global_id("Case", case_id),
                    "agencyId": partner.id,
                    "scope": scope,
                }
            },
        )
        assert shared["data"]["shareCase"]["errors"] == [], shared
    requests = Requests(gql)
    for title in ("First", "Second"):
        request_id = await requests.draft(owner.token, partner.id, title=title)
        await requests.moved(owner.token, "submit", request_id)
    await requests.moved(partner.token, "acknowledge", request_id)

    page = await assert_same(runtime, gql, owner.token, owner.token, CASES_PAGE, {"first": 50})
    assert len(page["data"]["cases"]["edges"]) == 7
    first = await assert_same(runtime, gql, owner.token, owner.token, VARIANT, {"first": 3})
    after = first["data"]["page"]["pageInfo"]["end"]
    await assert_same(runtime, gql, owner.token, owner.token, VARIANT, {"first": 3, "after": after})
    await assert_same(runtime, gql, owner.token, owner.token, VARIANT, {"after": after})
    for given in ({"owned": True}, {"status": "OPEN", "tlp": "AMBER"}, {"category": "CSAM"}, None):
        await assert_same(runtime, gql, owner.token, owner.token, FILTERED, {"filter": given})
    await assert_same(runtime, gql, owner.token, owner.token, OWNED)
    await assert_same(runtime, gql, owner.token, owner.token, FEW)
    await assert_same(runtime, gql, owner.token, owner.token, BOTH)
    await assert_same(runtime, gql, owner.token, owner.token, REQUESTS, {"first": 10})
    # The partner: a METADATA share (summary and names null, nothing audited) and a FULL one.
    shared_page = await assert_same(
        runtime, gql, partner.token, owner.token, VARIANT, {"first": 10}
    )
    summaries = [edge["node"]["summary"] for edge in shared_page["data"]["page"]["edges"]]
    assert sorted(summaries, key=str) == [None, "summary 2"]
    await assert_same(runtime, gql, partner.token, owner.token, INBOX, {"first": 50})
    await assert_same(runtime, gql, partner.token, owner.token, REQUESTS, {"first": 1})
    await assert_same(runtime, gql, partner.token, owner.token, BOTH)
    # Errors: a token without access, a bad cursor, a page too large, a missing variable.
    await assert_same(
        runtime, gql, owner.tokens["HUB_ADMIN"], owner.token, CASES_PAGE, {"first": 5}
    )
    await assert_same(runtime, gql, owner.tokens["READER"], owner.token, CASES_PAGE, {"first": 5})
    await assert_same(runtime, gql, owner.token, owner.token, VARIANT, {"after": "not a cursor"})
    await assert_same(runtime, gql, owner.token, owner.token, VARIANT, {"first": -1})
    await assert_same(runtime, gql, owner.token, owner.token, CASES_PAGE, {})
    # Unsupported documents run the standard way only.
    for query in UNSUPPORTED[:5]:
        await assert_same(runtime, gql, owner.token, owner.token, query, supported=False)


@pytest.mark.parametrize("query", UNSUPPORTED)
def test_documents_a_plan_does_not_do_compile_to_none(query: str) -> None:
    schema = build_schema(development=True)._schema
    assert compile_operation(schema, parse(query), None) is None


@pytest.mark.parametrize("query", [CASES_PAGE, INBOX, VARIANT, FILTERED, BOTH, REQUESTS])
def test_the_corpus_compiles(query: str) -> None:
    schema = build_schema(development=True)._schema
    assert compile_operation(schema, parse(query), None) is not None


class _Scope:
    """The part of a scope a plan's attempt touches."""

    def __init__(self) -> None:
        self.reads: dict[UUID, dict[tuple[str, UUID], set[str]]] = {}

    def note_read(self, owner: UUID, object_type: str, object_id: UUID, name: str) -> None:
        self.reads.setdefault(owner, {}).setdefault((object_type, object_id), set()).add(name)


class _Loader:
    cleared = 0

    def clear_all(self) -> None:
        self.cleared += 1


async def test_a_run_that_fails_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, plans_switch: None
) -> None:
    """The reads it noted are forgotten (those noted before it kept), its loaders cleared."""
    plan = compile_operation(build_schema(development=True)._schema, parse(CASES_PAGE), None)
    assert plan is not None
    owner, case = uuid4(), uuid4()
    scope = _Scope()
    scope.note_read(owner, "Case", case, "summary")

    async def failing(*_: Any) -> dict[str, Any]:
        scope.note_read(owner, "Case", case, "title")
        scope.note_read(uuid4(), "Subject", uuid4(), "displayName")
        raise RuntimeError("half way")

    monkeypatch.setattr(extension, "run", failing)
    loaders = SimpleNamespace(**{name: _Loader() for name in plan.loaders})
    context = cast(Context, SimpleNamespace(scope=scope, loaders=loaders))
    fallbacks = extension.STATS["fallback"]
    assert await extension.answer(plan, context, {"first": 5}) is None
    assert scope.reads == {owner: {("Case", case): {"summary"}}}
    assert all(getattr(loaders, name).cleared == 1 for name in plan.loaders)
    assert extension.STATS["fallback"] == fallbacks + 1


async def test_a_document_sent_as_unregistered_text_is_not_planned(
    world: World, runtime: Runtime, gql: GraphQL, plans_switch: None
) -> None:
    owner = await world.agency("TXT")
    await seed_cases(runtime, owner.token, 2, "T")
    text = "{ cases(first: 2) { edges { node { id title } } } } # " + uuid4().hex
    planned = extension.STATS["planned"]
    body = await gql(owner.token, text)
    assert len(body["data"]["cases"]["edges"]) == 2
    assert extension.STATS["planned"] == planned
    by_id = await registered(runtime, gql, owner.token, text, {})
    assert by_id == body
    assert extension.STATS["planned"] == planned + 1


@pytest.mark.parametrize(
    ("query", "sealed"),
    [
        (INBOX, False),
        ("{ cooperationRequests { edges { node { title body } } } }", True),
        ("{ cases(first: 5) { edges { node { title owner { code } } } } }", False),
        ("{ cases(first: 5) { edges { node { title summary } } } }", True),
    ],
)
async def test_a_plan_reads_data_keys_only_for_the_protected_fields_it_selects(
    world: World,
    runtime: Runtime,
    gql: GraphQL,
    sql_counter: SqlCounter,
    plans_switch: None,
    query: str,
    sealed: bool,
) -> None:
    """A page whose plan reveals nothing reads no key wraps (the inbox): the same answer as the
    standard executor, which does; one that reveals a field reads them."""
    owner = await world.agency("KEY")
    partner = await world.agency("KEP")
    await seed_cases(runtime, owner.token, 2, "K")
    requests = Requests(gql)
    request_id = await requests.draft(owner.token, partner.id, title="Keys")
    await requests.moved(owner.token, "submit", request_id)
    await assert_same(runtime, gql, owner.token, owner.token, query, {"first": 50})
    sql_counter.active = True
    planned = extension.STATS["planned"]
    body = await registered(runtime, gql, owner.token, query, {"first": 50})
    sql_counter.active = False
    assert "errors" not in body, body
    assert extension.STATS["planned"] == planned + 1
    wraps = [statement for statement in sql_counter.statements if "data_key_wrap" in statement]
    assert bool(wraps) is sealed, sql_counter.statements
