"""graphql-cop's checks (https://github.com/dolevf/graphql-cop), each by its graphql-cop name with
the request that probes it and how casehub refuses it, in one table. The detailed tests of each
refusal live beside the code that makes it (test_query_limits, test_http_safety, test_http);
here every probe also shows nothing of the server's insides: no tracing, no exception, no
suggestion, no IDE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from casehub.config import Environment
from casehub.services.agencies import agencies
from casehub.services.runtime import Runtime
from tests.security.gate_support import (
    ResolverCalls,
    bearer,
    nothing_run,
    serving,
    with_settings,
)

if TYPE_CHECKING:
    from tests.conftest import SqlCounter

DEVELOPMENT = {"env": Environment.DEVELOPMENT}  # introspection on, to probe past it
SECRET = "secret-marker /casehub/x.py SELECT"
# What graphql-cop looks for in an answer, besides the data it asked for.
IDE_WORDS = ("graphiql", "graphql playground", "graphql-playground")
ERROR_EXTENSIONS = {"code", "limit", "max", "requestId"}  # never exception, stacktrace ...
RESPONSE_EXTENSIONS = {"cost"}  # never tracing


class Reach(Enum):
    """How far a probe gets into the server."""

    GATE = "refused before authentication: no SQL"
    TOKEN = "refused after the token look-up: no other SQL, no resolver, no write"
    RESOLVERS = "reaches the resolvers"


def post(query: str) -> dict[str, Any]:
    """POST /graphql with a JSON body."""
    return {"method": "POST", "url": "/graphql", "json": {"query": query}}


def get(query: str) -> dict[str, Any]:
    """GET /graphql with the document in the query string."""
    return {"method": "GET", "url": "/graphql", "params": {"query": query}}


def page(path: str) -> dict[str, Any]:
    """What a browser asks for when it opens `path`."""
    return {"method": "GET", "url": path, "headers": {"accept": "text/html"}}


@dataclass(frozen=True)
class Probe:
    """One graphql-cop check: its request, and the answer that refuses it."""

    check: str
    request: dict[str, Any]
    status: int
    code: str | None  # of every error; None: no GraphQL error body
    reach: Reach
    limit: str | None = None  # of a LIMIT_EXCEEDED refusal
    settings: dict[str, Any] = field(default_factory=dict)
    breaks: tuple[ModuleType, str] | None = None  # a service function made to fail


PROBES = [
    Probe(
        "Alias Overloading",
        post("query { " + " ".join(f"alias{n}:__typename" for n in range(101)) + " }"),
        200,
        "LIMIT_EXCEEDED",
        Reach.TOKEN,
        limit="aliases",
    ),
    Probe(
        "Array-based Query Batching",
        {
            "method": "POST",
            "url": "/graphql",
            "content": json.dumps([{"query": "query { __typename }"}] * 10),
            "headers": {"content-type": "application/json"},
        },
        400,
        "BAD_REQUEST",
        Reach.TOKEN,
    ),
    Probe(
        "Field Duplication",
        post("query { " + "__typename \n" * 500 + "} "),
        200,
        "LIMIT_EXCEEDED",
        Reach.TOKEN,
        limit="duplicateFields",
    ),
    Probe(
        "Directive Overloading",
        post("query { __typename " + "@aa" * 51 + " }"),
        200,
        "LIMIT_EXCEEDED",
        Reach.TOKEN,
        limit="directives",
    ),
    # graphql-cop's own probe holds 10 directives, under the limit: validation refuses them.
    Probe(
        "Directive Overloading",
        post("query { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
        Reach.TOKEN,
    ),
    Probe(
        "Introspection-based Circular Query",
        post(
            "query { __schema { types { fields { type { fields { type { fields { type { fields "
            "{ type { name } } } } } } } } } } }"
        ),
        200,
        "GRAPHQL_VALIDATION_FAILED",
        Reach.TOKEN,
        settings=DEVELOPMENT,
    ),
    Probe(
        "Circular Fragment",
        post(
            "query { __schema { ...A } } fragment A on __Schema { __typename ...B } "
            "fragment B on __Schema { ...A }"
        ),
        200,
        "GRAPHQL_VALIDATION_FAILED",
        Reach.TOKEN,
        settings=DEVELOPMENT,
    ),
    Probe(
        "Introspection",
        post("query { __schema { types { name fields { name } } } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
        Reach.TOKEN,
    ),
    Probe(
        "Field Suggestions",
        post("query { __schema { directive } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
        Reach.TOKEN,
    ),
    *(
        Probe("GraphQL IDE", page(path), 404, None, Reach.GATE)
        for path in ("/graphiql", "/playground", "/console")
    ),
    Probe("GraphQL IDE", page("/graphql"), 405, "METHOD_NOT_ALLOWED", Reach.GATE),
    Probe("GET Method Query Support", get("{__typename}"), 405, "METHOD_NOT_ALLOWED", Reach.GATE),
    Probe(
        "Mutation is allowed over GET (possible CSRF)",
        get("mutation {__typename}"),
        405,
        "METHOD_NOT_ALLOWED",
        Reach.GATE,
    ),
    Probe(
        "Mutation is allowed over GET (possible CSRF)",
        get("mutation {__typename}"),
        405,
        "METHOD_NOT_ALLOWED",
        Reach.TOKEN,
        settings={"allow_get_queries": True},
    ),
    Probe(
        "POST based url-encoded query (possible CSRF)",
        {
            "method": "POST",
            "url": "/graphql",
            "data": {"query": "query {__typename}"},
        },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        Reach.GATE,
    ),
    Probe(
        "POST based url-encoded query (possible CSRF)",
        {"method": "POST", "url": "/graphql", "params": {"query": "query {__typename}"}},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        Reach.GATE,
    ),
    # Served: the point is what the answer does not carry.
    Probe("Trace Mode", post("query { __typename }"), 200, None, Reach.RESOLVERS),
    Probe(
        "Unhandled Errors Detection",
        post("qwerty cop { abc }"),
        200,
        "GRAPHQL_PARSE_FAILED",
        Reach.TOKEN,
    ),
    Probe(
        "Unhandled Errors Detection",
        post("{ agencies { edges { cursor } } }"),
        200,
        "INTERNAL",
        Reach.RESOLVERS,
        breaks=(agencies, "list_agencies"),
    ),
]


@pytest.mark.parametrize(
    "probe",
    PROBES,
    ids=[f"{p.check}: {p.request['method']} {p.request['url']} {p.status}" for p in PROBES],
)
async def test_graphql_cop_finds_nothing(
    probe: Probe,
    token: str,
    runtime: Runtime,
    sql_counter: SqlCounter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each probe gets the refusal of its row, and nothing of the server's insides."""
    if probe.breaks:
        module, name = probe.breaks

        async def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError(SECRET)

        monkeypatch.setattr(module, name, broken)
    resolvers = ResolverCalls(monkeypatch)
    served = with_settings(runtime, **probe.settings)
    request = {**probe.request, "headers": {**bearer(token), **probe.request.get("headers", {})}}
    async with serving(served) as http:
        if probe.reach is Reach.RESOLVERS:
            response = await http.request(**request)
        else:
            async with nothing_run(
                runtime, resolvers, sql_counter, authenticated=probe.reach is Reach.TOKEN
            ):
                response = await http.request(**request)

    assert response.status_code == probe.status, response.text
    text = response.text.lower()
    assert not [word for word in IDE_WORDS if word in text], response.text
    assert "did you mean" not in text
    if probe.code is None and probe.status == 404:
        return  # no such route: Starlette's plain "Not Found"
    body = response.json()
    assert set(body.get("extensions", {})) <= RESPONSE_EXTENSIONS, body
    if probe.code is None:
        assert body == {"data": {"__typename": "Query"}, "extensions": body["extensions"]}, body
        return
    assert body.get("data") is None, body
    assert {error["extensions"]["code"] for error in body["errors"]} == {probe.code}, body
    for error in body["errors"]:
        assert set(error["extensions"]) <= ERROR_EXTENSIONS, body
    if probe.limit:
        assert [error["extensions"]["limit"] for error in body["errors"]] == [probe.limit], body
    if probe.code == "INTERNAL":
        [error] = body["errors"]
        assert error["message"] == "Unexpected error."
        assert error["extensions"]["requestId"] == response.headers["x-request-id"], body
        assert not [part for part in SECRET.split() if part in response.text], body
