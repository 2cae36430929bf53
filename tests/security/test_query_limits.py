"""Query limits: a document over a limit is refused before any resolver runs and before any SQL
but the token look-up, with a typed error; the document at the limit is served; every GraphQL
response reports its cost in `extensions.cost`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from casehub.api.execution import limits
from casehub.services.runtime import Runtime
from tests.security.gate_support import (
    ResolverCalls,
    app_of,
    bearer,
    nothing_run,
    serving,
    socket,
    with_settings,
)

if TYPE_CHECKING:
    from tests.conftest import SqlCounter

MAX_COST = 60_000
PAGE = "edges { node { id } }"  # 2 a node: the edge and the node
# 1 + 11 * (1 + 1 + 100 evidence items * (1 + 50 custody entries)): the default list bounds.
CUSTODY = "big: cases(first: 11) { edges { node { evidence { custody { id } } } } }"
CUSTODY_COST = 1 + 11 * (2 + 100 * (1 + 50))


async def post(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def deep(levels: int) -> str:
    """A document `levels` objects deep; its fields are unknown, so only the depth limit can
    refuse it before validation does."""
    return "{ " + "a { " * levels + "b" + " }" * levels + " }"


def aliases(count: int, field: str = "viewer { name }") -> str:
    return "{ " + " ".join(f"a{number}: {field}" for number in range(count)) + " }"


def directives(count: int) -> str:
    """`count` directives, on fields none of which is repeated past the limit (ten times)."""
    fields = ("id", "code", "name", "jurisdiction", "kind", "timezone")
    marked = " ".join(f"{fields[n % len(fields)]} @include(if: true)" for n in range(count))
    return f"{{ viewer {{ agency {{ {marked} }} }} }}"


def cases(first: int, alias: str) -> str:
    return f"{alias}: cases(first: {first}) {{ {PAGE} }}"


def costing(total: int) -> str:
    """The custody of 11 cases' evidence, cases with their subjects (1 + 102 a case), agencies
    to reach `total` - 1 (1 + 2 an agency), and the viewer (1)."""
    rest = total - CUSTODY_COST - 1
    with_subjects = (rest - 4) // 102
    agencies = (rest - 2 - 102 * with_subjects) // 2
    assert rest == (1 + 102 * with_subjects) + (1 + 2 * agencies), total
    assert 1 <= with_subjects <= 100, total
    assert 1 <= agencies <= 100, total
    subjects = f"cases(first: {with_subjects}) {{ edges {{ node {{ subjects {{ id }} }} }} }}"
    return f"{{ {CUSTODY} {subjects} agencies(first: {agencies}) {{ {PAGE} }} viewer {{ name }} }}"


def refused_by(body: dict[str, Any], limit: str) -> None:
    """No data; a LIMIT_EXCEEDED error names `limit`, and no other kind of error is mixed in."""
    assert body.get("data") is None, body
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"LIMIT_EXCEEDED"}, body
    named = [error for error in body["errors"] if error["extensions"]["limit"] == limit]
    assert named, body
    assert all(error["message"] and error["extensions"]["max"] >= 0 for error in named), body


OVER_THE_LIMITS: list[Any] = [
    pytest.param(deep(11), None, "depth", id="depth-11"),
    pytest.param(aliases(16), None, "aliases", id="aliases-16"),
    pytest.param(directives(51), None, "directives", id="directives-51"),
    pytest.param("{ cases(first: 101) { totalCount } }", None, "pageSize", id="first-101"),
    pytest.param("{ cases(first: 0) { totalCount } }", None, "pageSize", id="first-0"),
    pytest.param("{ agencies(first: -1) { edges { cursor } } }", None, "pageSize", id="first-neg"),
    pytest.param("{ cases(last: 101) { totalCount } }", None, "pageSize", id="last-101"),
    pytest.param(
        "query($n: Int) { cases(first: $n) { totalCount } }",
        {"n": 101},
        "pageSize",
        id="first-variable",
    ),
    pytest.param(
        "query($n: Int) { cases(first: $n) { totalCount } }",
        {"n": 101.0},
        "pageSize",
        id="first-variable-float",
    ),
    pytest.param(
        "query($n: Int = 500) { cases(first: $n) { totalCount } }",
        None,
        "pageSize",
        id="first-variable-default",
    ),
    pytest.param(
        "{ cases(first: " + "9" * 10_000 + ") { totalCount } }",
        None,
        "numberLength",
        id="first-10000-digits",
    ),
    pytest.param(costing(MAX_COST + 2), None, "cost", id="cost-60002"),
    pytest.param(
        # 22,061 once, within the limit; spread three times, over it.
        "fragment F on Query { cases(first: 20) { edges { node { id owner { id } "
        "subjects { identifiers { id } } } } } } { ...F ...F ...F }",
        None,
        "cost",
        id="cost-by-fragments",
    ),
    pytest.param(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Case { owner { id } "
        "subjects { identifiers { id } } evidence { custody { id } } shares { id } } "
        "... on Evidence { custody { actorAgency { id } } } "
        "... on CooperationRequest { events { receipt { digest } } messages { id } "
        "evidence { id } } } }",
        {"ids": [f"id-{number}" for number in range(100)]},
        "cost",
        id="cost-by-ids",
    ),
    pytest.param(
        " ".join(
            ["{ ...F20 } fragment F0 on Query { viewer { name } }"]
            + [f"fragment F{n} on Query {{ {f'...F{n - 1} ' * 10}}}" for n in range(1, 21)]
        ),
        None,
        "cost",
        id="cost-10^20-by-fragments",
    ),
    pytest.param(
        "{ viewer { " + "name " * 11 + "} }", None, "duplicateFields", id="field-11-times"
    ),
    pytest.param(
        "{ viewer { name " + "... on Viewer { name } " * 10 + "} }",
        None,
        "duplicateFields",
        id="field-11-times-with-inline-fragments",
    ),
    pytest.param(
        "fragment F on Viewer { name } { viewer { " + "...F " * 11 + "} }",
        None,
        "duplicateFields",
        id="spread-11-times",
    ),
    pytest.param(
        "mutation { "
        + " ".join(
            f'm{number}: openCase(input: {{reference: "A-{number}", title: "t", summary: "s", '
            "category: FRAUD}) { errors { code } }"
            for number in range(16)
        )
        + " }",
        None,
        "aliases",
        id="mutations-16-aliases",
    ),
]


@pytest.mark.parametrize(("query", "variables", "limit"), OVER_THE_LIMITS)
async def test_over_a_limit_is_refused_before_any_resolver_or_sql(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    query: str,
    variables: dict[str, Any] | None,
    limit: str,
) -> None:
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        body = await post(http, token, query, variables)
    refused_by(body, limit)
    cost = body["extensions"]["cost"]
    assert cost["maxQueryCost"] == MAX_COST
    if limit == "cost":
        assert cost["requestedQueryCost"] > MAX_COST


AT_THE_LIMITS: list[Any] = [
    pytest.param(aliases(15), None, id="aliases-15"),
    pytest.param(directives(50), None, id="directives-50"),
    pytest.param("{ cases(first: 100) { totalCount } }", None, id="first-100"),
    pytest.param(
        "query($n: Int = 1) { cases(first: $n) { totalCount } }", {"n": 100.0}, id="first-100.0"
    ),
    pytest.param(costing(MAX_COST), None, id="cost-60000"),
    pytest.param("{ viewer { " + "name " * 10 + "} }", None, id="field-10-times"),
]


@pytest.mark.parametrize(("query", "variables"), AT_THE_LIMITS)
async def test_at_a_limit_is_served(
    http: httpx.AsyncClient,
    token: str,
    resolvers: ResolverCalls,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    body = await post(http, token, query, variables)
    assert "errors" not in body, body
    assert body["data"], body
    assert resolvers.count > 0  # the spy sees resolvers when they run
    assert body["extensions"]["cost"]["requestedQueryCost"] <= MAX_COST


async def test_ten_levels_deep_passes_the_depth_limit(
    http: httpx.AsyncClient, token: str, runtime: Runtime, resolvers: ResolverCalls, sql_counter
) -> None:
    """Ten levels pass the limit and reach validation (which refuses the unknown fields)."""
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        body = await post(http, token, deep(10))
    assert body.get("data") is None, body
    assert {error["extensions"]["code"] for error in body["errors"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ viewer { name } }", None, 1),
        ("{ cases(first: 10) { totalCount } }", None, 1),
        ("{ cases { edges { node { id } } } }", None, 1 + 20 * 2),
        ("{ cases(first: 100) { edges { node { id owner { code } } } } }", None, 301),
        ("query($n: Int) { cases(first: $n) { edges { cursor } } }", {"n": 7}, 1 + 7),
        ("query($n: Int) { cases(first: $n) { edges { cursor } } }", {"n": None}, 1 + 20),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Case { owner { id } } } }",
            {"ids": ["x", "y", "z"]},
            3 * (1 + 1),
        ),
        ('{ nodes(ids: ["x", "y"]) { id } }', None, 2),
        # 100 subjects a case, 10 identifiers a subject: each one object.
        ('{ node(id: "x") { ... on Case { subjects { identifiers { id } } } } }', None, 1101),
        ('{ node(id: "x") { ... on Case { subjects { id } shares { id } } } }', None, 151),
        (
            "fragment V on Viewer { agency { id } } { a: viewer { ...V } b: viewer { ...V } }",
            None,
            4,
        ),
        (
            'mutation { openCase(input: {reference: "", title: "t", summary: "s", '
            "category: FRAUD}) { case { id } errors { code } } }",
            None,
            1 + 1 + 10,  # a payload lists at most 10 errors
        ),
    ],
)
async def test_the_cost_is_reported_as_documented(
    http: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any] | None,
    cost: int,
) -> None:
    body = await post(http, token, query, variables)
    assert body["extensions"] == {"cost": {"requestedQueryCost": cost, "maxQueryCost": MAX_COST}}, (
        body
    )


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ viewr { name } }", 1),  # refused by validation, measured all the same
        ("{ viewer { name } ", None),  # cannot be parsed: nothing to measure
        ("query A { viewer { name } } query B { viewer { name } }", None),  # which one?
    ],
)
async def test_refused_documents_report_their_cost_too(
    http: httpx.AsyncClient, token: str, query: str, cost: int | None
) -> None:
    body = await post(http, token, query)
    assert body.get("data") is None, body
    assert body["errors"], body
    assert body["extensions"] == {"cost": {"requestedQueryCost": cost, "maxQueryCost": MAX_COST}}


async def test_too_many_tokens_is_refused_before_any_resolver_or_sql(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
) -> None:
    fields = " ".join(["name"] * 2000)  # 2,000 names and 6 more tokens
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        body = await post(http, token, f"{{ viewer {{ {fields} }} }}")
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", body
    assert "2000 tokens" in error["message"], body
    # Comments count too (cheaper to serve than 1,994 fields to merge): 6 + 1,994 tokens.
    served = await post(http, token, "{ viewer { name } }" + "\n# note" * 1994)
    assert served["data"]["viewer"]["name"], served
    refused = await post(http, token, "{ viewer { name } }" + "\n# note" * 1995)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", refused


async def test_a_document_over_100000_characters_is_refused(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
) -> None:
    query = "{ viewer { name } }\n#"
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        body = await post(http, token, query + "x" * (100_001 - len(query)))
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", body
    assert "100000 code points" in error["message"], body
    served = await post(http, token, query + "x" * (100_000 - len(query)))
    assert served["data"]["viewer"]["name"], served


@pytest.mark.parametrize(
    ("query", "mention"),
    [
        ("{ viewer @skip(if: false) @skip(if: false) { name } }", "only be used once"),
        ("{ viewer @include(if: true) @include(if: true) { name } }", "only be used once"),
        ("{ viewer @banana { name } }", "Unknown directive"),
        ("query @skip(if: true) { viewer { name } }", "may not be used on query"),
        ("{ viewer @deprecated { name } }", "may not be used on field"),
        ("{ viewer @skip { name } }", "'@skip(if:)' of type 'Boolean!' is required"),
    ],
)
async def test_repeated_unknown_or_misplaced_directives_are_refused(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    query: str,
    mention: str,
) -> None:
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        body = await post(http, token, query)
    assert body.get("data") is None, body
    assert {error["extensions"]["code"] for error in body["errors"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }
    assert mention in " ".join(error["message"] for error in body["errors"]), body


async def test_different_directives_on_one_field_are_served(
    http: httpx.AsyncClient, token: str
) -> None:
    body = await post(http, token, "{ viewer @include(if: true) @skip(if: false) { name } }")
    assert body["data"]["viewer"]["name"], body


@pytest.mark.parametrize(
    "batch",
    [
        [{"query": "{ viewer { name } }"}, {"query": "{ viewer { name } }"}],
        [
            {"query": "{ viewer { name } }"},
            {
                "query": 'mutation { openCase(input: {reference: "B-1", title: "t", '
                'summary: "s", category: FRAUD}) { errors { code } } }'
            },
        ],
        [{"query": "{ viewer { name } }"}],
    ],
    ids=["two-queries", "query-and-mutation", "one-in-a-list"],
)
async def test_batched_requests_are_refused(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    batch: list[dict[str, str]],
) -> None:
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        response = await http.post(
            "/graphql",
            content=json.dumps(batch),
            headers={**bearer(token), "content-type": "application/json"},
        )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "Batched requests" in error["message"]


async def test_the_limits_are_settings(
    runtime: Runtime, world: Any, resolvers: ResolverCalls, sql_counter: SqlCounter
) -> None:
    """Lower limits refuse queries that are valid, before their resolvers run."""
    strict = with_settings(
        runtime, max_query_depth=3, max_page_size=10, max_query_cost=50, max_duplicate_fields=2
    )
    token = (await world.agency("QS")).token
    refused = [
        ("{ cases(first: 1) { edges { node { owner { id } } } } }", "depth"),
        ("{ cases(first: 11) { totalCount } }", "pageSize"),
        (f"{{ {cases(10, 'a')} {cases(10, 'b')} {cases(10, 'c')} }}", "cost"),
        ("{ viewer { name name name } }", "duplicateFields"),
    ]
    served = [
        "{ cases(first: 1) { edges { node { id } } } }",
        "{ cases(first: 10) { totalCount } }",
        f"{{ {cases(10, 'a')} {cases(10, 'b')} }}",
        "{ viewer { name name } }",
    ]
    async with serving(strict) as http:
        for query, limit in refused:
            async with nothing_run(strict, resolvers, sql_counter, authenticated=True):
                body = await post(http, token, query)
            refused_by(body, limit)
            assert body["extensions"]["cost"]["maxQueryCost"] == 50
        for query in served:
            body = await post(http, token, query)
            assert "errors" not in body, body


async def test_subscriptions_are_held_to_the_limits_too(
    runtime: Runtime, token: str, resolvers: ResolverCalls
) -> None:
    events = "cooperationRequestEvents(since: null) { seq }"
    async with socket(app_of(runtime)) as sock:
        assert await sock.init(token) == {"type": "connection_ack"}
        refused = await sock.subscribe(aliases(16, events).replace("{", "subscription {", 1))
    assert (refused["type"], refused["id"]) == ("error", "1"), refused
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "aliases", "max": 15}
    assert resolvers.count == 0


PAGE_OF = "query($n: Int) { cases(first: $n) { totalCount } }"


async def test_a_document_that_passed_is_not_walked_again_for_the_same_variables(
    http: httpx.AsyncClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[Any] = []
    analyse = limits.analyse

    def counting(*args: Any) -> Any:
        walked.append(args[3])
        return analyse(*args)

    monkeypatch.setattr(limits, "analyse", counting)
    first = await post(http, token, PAGE_OF, {"n": 7})
    again = await post(http, token, PAGE_OF, {"n": 7})
    assert first == again
    assert "errors" not in first, first
    assert walked == [{"n": 7}]
    # Other variables are walked anew, and refused where they are over a limit, every time.
    for _ in range(2):
        refused_by(await post(http, token, PAGE_OF, {"n": 101}), "pageSize")
    assert walked == [{"n": 7}, {"n": 101}, {"n": 101}]
    # So is a refused document, however often it comes.
    for _ in range(2):
        refused_by(await post(http, token, deep(11)), "depth")
    assert len(walked) == 5
    # What a string says never keys it: a new id is no slower than one asked about before.
    node = "query($id: ID!) { node(id: $id) { id } }"
    for given in ("Q2FzZTox", "Q2FzZToy", "another"):
        await post(http, token, node, {"id": given})
    assert len(walked) == 6
