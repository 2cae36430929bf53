"""casehub's schema answers the same through its FastExecutor as through strawberry's own
executor, and audits the same decryptions: the check to run on every upgrade of strawberry or
graphql-core, whose internals the fast path reads (casehub.api.execution.fast_path).
tests/unit/test_fast_path.py does the same on a small schema of every kind of leaf."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from casehub import app as app_module
from casehub.api.execution.fast_path import FastExecutor
from casehub.api.ids import to_global_id
from casehub.api.schema import build_schema
from casehub.config import Settings
from casehub.services.runtime import Runtime
from tests.conftest import Agency, GraphQL, World
from tests.support import seed_cases

CASES = """
query($first: Int!) {
  cases(first: $first, filter: {owned: true}) {
    totalCount
    edges { cursor node {
      __typename id reference title summary category status tlp handlingCode version
      createdAt viewerAccess legalHold shreddedAt protectedFieldsReason
      owner { code name }
      subjects { displayName identifiers { kind value } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Case { title summary nope: summary } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Case { title } } }"
VIEWER = "{ viewer { __typename } agencies(first: 5) { edges { node { code name } } } }"
DECRYPTS = """
{ auditEvents(filter: {action: "field.decrypt"}, first: 20) {
    totalCount edges { node { fieldsRead { objectType objectId fields } } }
} }
"""


async def seed(runtime: Runtime, agency: Agency) -> list[str]:
    """Three cases of `agency`, each with a subject and its identifiers; their global ids."""
    ids = await seed_cases(runtime, agency.token, 3, "P")
    return [to_global_id("Case", case_id) for case_id in ids]


async def decryptions(graphql: GraphQL, token: str) -> tuple[int, list[Any]]:
    """How many decryptions were audited, and what the newest events name (newest first)."""
    body = await graphql(token, DECRYPTS)
    events = body["data"]["auditEvents"]
    return events["totalCount"], [edge["node"]["fieldsRead"] for edge in events["edges"]]


@pytest.fixture
async def strawberrys(
    settings: Settings, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[GraphQL]:
    """The same app, whose schema executes with strawberry's own execution context."""

    def with_strawberrys_executor(**options: Any) -> strawberry.Schema:
        schema = build_schema(**options)
        assert schema.execution_context_class is FastExecutor
        schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
        return schema

    monkeypatch.setattr(app_module, "build_schema", with_strawberrys_executor)
    app = app_module.create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield GraphQL(http)


async def test_the_fast_executor_answers_and_audits_like_strawberrys(
    world: World, runtime: Runtime, gql: GraphQL, strawberrys: GraphQL
) -> None:
    agency = await world.agency()
    ids = await seed(runtime, agency)
    operations: list[tuple[str, dict[str, Any]]] = [
        (CASES, {"first": 2}),
        (CASES, {"first": 10}),
        (NODE, {"id": ids[1]}),
        (NODE, {"id": "not an id"}),  # an error, located as strawberry locates it
        (NODES, {"ids": [*ids, ids[0]]}),
        (VIEWER, {}),
    ]
    audited = 0
    for query, variables in operations:
        before, _ = await decryptions(gql, agency.token)
        fast = await gql(agency.token, query, variables)
        middle, events = await decryptions(gql, agency.token)
        fast_reads = events[: middle - before]
        standard = await strawberrys(agency.token, query, variables)
        after, events = await decryptions(strawberrys, agency.token)
        assert fast == standard, query
        assert fast_reads == events[: after - middle], query
        audited += len(fast_reads)
    assert audited >= 3  # each page (its cases and subjects) and the node decrypt
