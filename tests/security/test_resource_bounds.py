"""What one token can make the service spend (issue 11, item 2 and the runtime bounds): a JSON
body over its own limit is refused before it is parsed; a list over its bound, in the variables
or in the document, before graphql-core coerces it; an operation past its time budget is cut
with a typed error and rolled back; an answer over the response cap is not sent; a token has at
most a few operations running at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import httpx
import orjson
import pytest
from sqlalchemy import event

from casehub.api.ids import to_global_id
from casehub.domain.deconfliction.matching import HIT_CHECK_MAX
from casehub.services.cases.subjects import IDENTIFIERS_MAX
from casehub.services.runtime import Runtime
from tests.security.gate_support import (
    ResolverCalls,
    app_of,
    bearer,
    calling,
    nothing_run,
    serving,
    socket,
    with_settings,
)
from tests.support import nothing_written

if TYPE_CHECKING:
    from tests.conftest import SqlCounter

HIT_CHECK = (
    "mutation($i: [IdentifierInput!]!) { hitCheck(identifiers: $i) { results { kind } "
    "errors { code } } }"
)
HIT_CHECK_QUERY = HIT_CHECK.replace("mutation(", "query(", 1)  # deprecated, bounded alike
ADD_SUBJECT = (
    "mutation($i: AddSubjectInput!) { addSubject(input: $i) { subject { id } errors { code } } }"
)
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
OPEN_CASE = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } errors { code } } }"
CASE = {"reference": "RB-1", "title": "Bounds", "summary": "s", "category": "FRAUD"}
MISSING = to_global_id("Case", uuid4())  # a well-formed id of nothing
LITERAL_PHONE = '{kind: PHONE, value: "+60123456789"}'
PHONE = {"kind": "PHONE", "value": "+60123456789"}


async def post(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(token)
    )


def refused(response: httpx.Response, code: str, status: int = 200) -> dict[str, Any]:
    """The one top-level error of a refused request, with no data."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, body
    assert error["message"], body
    extensions: dict[str, Any] = error["extensions"]
    return extensions


# 1. A JSON body has a limit of its own, far below the upload limit


async def test_json_body_over_its_limit_is_413_before_parsing(runtime: Runtime) -> None:
    bounded = with_settings(runtime, max_json_bytes=8 * 1024, max_request_bytes=256 * 1024)
    body = orjson.dumps({"query": HIT_CHECK, "variables": {"i": [PHONE] * 400}})
    assert 8 * 1024 < len(body) < 256 * 1024
    async with serving(bounded) as http:
        # Before authentication: no token needed to be turned away, nothing read past the limit.
        response = await http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    extensions = refused(response, "TOO_LARGE", 413)
    assert extensions["max"] == 8 * 1024
    assert "multipart" in response.json()["errors"][0]["message"]


async def test_chunked_json_body_over_its_limit_is_413(runtime: Runtime, token: str) -> None:
    bounded = with_settings(runtime, max_json_bytes=8 * 1024)

    async def chunks() -> Any:
        yield b'{"query": "{ viewer { name } }", "pad": "'
        for _ in range(4):
            yield b"x" * 4096
        yield b'"}'

    async with serving(bounded) as http:
        response = await http.post(
            "/graphql",
            content=chunks(),
            headers={"content-type": "application/json", **bearer(token)},
        )
    refused(response, "TOO_LARGE", 413)


async def test_multipart_keeps_the_upload_limit(runtime: Runtime, token: str) -> None:
    bounded = with_settings(runtime, max_json_bytes=8 * 1024)
    content = b"\x01" * (16 * 1024)  # over the JSON limit, under the upload limit
    operations = {
        "query": 'mutation($f: Upload!) { addEvidence(input: {caseId: "eA", kind: DOCUMENT, '
        'title: "t", content: $f}) { errors { code } } }',
        "variables": {"f": None},
    }
    async with serving(bounded) as http:
        response = await http.post(
            "/graphql",
            data={"operations": orjson.dumps(operations).decode(), "map": '{"0": ["variables.f"]}'},
            files={"0": ("a.bin", content, "application/octet-stream")},
            headers={**bearer(token), "x-casehub-csrf": "1"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["addEvidence"]["errors"], response.text


# 2. Lists are measured before they are coerced


@pytest.mark.parametrize(
    ("query", "variables", "maximum"),
    [
        pytest.param(HIT_CHECK, {"i": [PHONE] * 5000}, 100, id="hitCheck-5000"),
        pytest.param(
            HIT_CHECK, {"i": [PHONE] * (HIT_CHECK_MAX + 1)}, HIT_CHECK_MAX, id="hitCheck-51"
        ),
        pytest.param(
            HIT_CHECK_QUERY,
            {"i": [PHONE] * (HIT_CHECK_MAX + 1)},
            HIT_CHECK_MAX,
            id="hitCheck-query-51",
        ),
        pytest.param(NODES, {"ids": [MISSING] * 4000}, 100, id="nodes-4000"),
        pytest.param(NODES, {"ids": [MISSING] * 101}, 100, id="nodes-101"),
        pytest.param(
            ADD_SUBJECT,
            {"i": {"caseId": MISSING, "displayName": "S", "identifiers": [PHONE] * 5000}},
            100,
            id="addSubject-5000",
        ),
        pytest.param(
            ADD_SUBJECT,
            {
                "i": {
                    "caseId": MISSING,
                    "displayName": "S",
                    "identifiers": [PHONE] * (IDENTIFIERS_MAX + 1),
                }
            },
            IDENTIFIERS_MAX,
            id="addSubject-over-its-bound",
        ),
        pytest.param(
            "{ viewer { name } }", {"unused": [[0] * 5] * 1000}, 100, id="unused-variable"
        ),
    ],
)
async def test_long_list_in_the_variables_is_refused_before_coercion(
    http: httpx.AsyncClient,
    world: Any,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    query: str,
    variables: dict[str, Any],
    maximum: int,
) -> None:
    # A READER token, as in the report: refused for the list's length, not for the role.
    # `listItems` is the check that runs before graphql-core coerces the variables.
    reader = (await world.agency("LB")).tokens["READER"]
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        response = await post(http, reader, query, variables)
    extensions = refused(response, "LIMIT_EXCEEDED")
    assert extensions == {"code": "LIMIT_EXCEEDED", "limit": "listItems", "max": maximum}


@pytest.mark.parametrize(
    ("query", "maximum"),
    [
        pytest.param(
            "mutation { hitCheck(identifiers: ["
            + ", ".join([LITERAL_PHONE] * 51)
            + "]) { errors { code } } }",
            50,
            id="hitCheck",
        ),
        pytest.param(
            "{ hitCheck(identifiers: ["
            + ", ".join([LITERAL_PHONE] * 51)
            + "]) { errors { code } } }",
            50,
            id="hitCheck-query",
        ),
        pytest.param(
            "{ nodes(ids: [" + ", ".join([f'"{MISSING}"'] * 101) + "]) { id } }", 100, id="nodes"
        ),
        pytest.param(
            "query($s: [ID!] = [" + ", ".join(['"a"'] * 101) + "]) { viewer { name } }",
            100,
            id="default-value",
        ),
    ],
)
async def test_long_list_literal_is_refused(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    query: str,
    maximum: int,
) -> None:
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        response = await post(http, token, query)
    assert refused(response, "LIMIT_EXCEEDED")["max"] == maximum


async def test_lists_at_their_bound_are_served(http: httpx.AsyncClient, token: str) -> None:
    body = (await post(http, token, NODES, {"ids": [MISSING] * 100})).json()
    assert body["data"]["nodes"] == [None] * 100, body
    body = (await post(http, token, HIT_CHECK, {"i": [PHONE] * 50})).json()
    assert "errors" not in body, body


async def test_long_list_over_the_websocket_is_refused(
    runtime: Runtime, token: str, resolvers: ResolverCalls
) -> None:
    subscription = "subscription($x: [ID!]) { cooperationRequestEvents { seq } }"
    async with socket(app_of(runtime)) as sock:
        assert await sock.init(token) == {"type": "connection_ack"}
        payload = {"query": subscription, "variables": {"x": ["a"] * 5000}}
        await sock.ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        answer: dict[str, Any] = await sock.ws.receive_json(timeout=5)
    assert (answer["type"], answer["id"]) == ("error", "1"), answer
    [error] = answer["payload"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "listItems", "max": 100}
    assert resolvers.count == 0


# 3. The time budget


@contextmanager
def slow_statements(runtime: Runtime, starting: str, seconds: float) -> Iterator[None]:
    """Statements that start with `starting` take `seconds` longer (a database under load)."""
    engine = runtime.database.engine.sync_engine

    def pause(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(starting):
            time.sleep(seconds)

    event.listen(engine, "before_cursor_execute", pause)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", pause)


async def test_mutation_past_the_time_budget_is_cut_and_rolled_back(
    runtime: Runtime, token: str
) -> None:
    budgeted = with_settings(runtime, operation_time_budget_seconds=0.2)
    async with serving(budgeted) as http:
        async with nothing_written(runtime):
            with slow_statements(runtime, "INSERT INTO CASE_FILE", 0.5):
                response = await post(http, token, OPEN_CASE, {"i": CASE})
        extensions = refused(response, "OPERATION_TIMEOUT")
        assert extensions == {"code": "OPERATION_TIMEOUT", "limit": "timeBudget", "max": 0.2}
        # The service goes on: the same token opens the case within the budget.
        body = (await post(http, token, OPEN_CASE, {"i": CASE})).json()
        assert body["data"]["openCase"]["errors"] == [], body


async def test_query_past_the_time_budget_is_cut(runtime: Runtime, token: str) -> None:
    budgeted = with_settings(runtime, operation_time_budget_seconds=0.2)
    async with serving(budgeted) as http:
        with slow_statements(runtime, "SELECT", 0.3):
            response = await post(http, token, "{ cases(first: 5) { edges { node { id } } } }")
        refused(response, "OPERATION_TIMEOUT")
        body = (await post(http, token, "{ viewer { name } }")).json()
        assert body["data"]["viewer"]["name"], body


# 4. The response cap


async def test_answer_over_the_response_cap_is_not_sent(runtime: Runtime, token: str) -> None:
    capped = with_settings(runtime, max_response_bytes=2048)
    many = {"ids": [MISSING] * 100}
    query = (
        "query($ids: [ID!]!) { "
        + " ".join(f"a{n}: nodes(ids: $ids) {{ id }}" for n in range(5))
        + " }"
    )
    async with serving(capped) as http:
        response = await post(http, token, query, many)
        small = (await post(http, token, "{ viewer { name } }")).json()
    extensions = refused(response, "RESPONSE_TOO_LARGE")
    assert extensions["max"] == 2048
    assert len(response.content) < 2048
    assert small["data"]["viewer"]["name"], small


# 5. Operations running at once, per token


async def test_a_token_runs_at_most_its_share_of_operations_at_once(
    runtime: Runtime, world: Any
) -> None:
    limited = with_settings(runtime, max_concurrent_operations_per_token=2)
    agency = await world.agency("CC")
    other = (await world.agency("CO")).token
    app = app_of(limited)
    release = asyncio.Event()
    waiting: list[str] = []  # requests inside the gate, reading their body
    body = orjson.dumps({"query": "{ viewer { name } }"})

    async def held(token: str) -> dict[str, Any]:
        """A request whose body arrives only when released: it runs until then."""
        sent: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            waiting.append(token)
            await release.wait()
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"casehub.test"),
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {token}".encode()),
            ],
            "client": ("127.0.0.1", 123),
            "server": ("casehub.test", 80),
        }
        await app(scope, receive, send)
        return sent

    async with calling(app) as http:
        running = [asyncio.create_task(held(agency.token)) for _ in range(2)]
        for _ in range(500):  # until both are past the gate, reading their bodies
            if len(waiting) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(waiting) == 2
        third = await post(http, agency.token, "{ viewer { name } }")
        extensions = refused(third, "RATE_LIMITED", 429)
        assert extensions["retryAfter"] >= 1
        assert third.headers["retry-after"]
        # Another token, even of the same agency, is not held back by this one.
        assert (await post(http, agency.tokens["READER"], "{ viewer { name } }")).status_code == 200
        assert (await post(http, other, "{ viewer { name } }")).status_code == 200
        release.set()
        assert [(await task)["status"] for task in running] == [200, 200]
        # Done: the token may run operations again.
        assert (await post(http, agency.token, "{ viewer { name } }")).status_code == 200


def test_every_list_bound_names_an_argument_or_input_field_of_the_schema() -> None:
    """A renamed argument or input field would silently lose its bound: each must exist, and
    be a list."""
    from graphql import GraphQLInputObjectType, GraphQLList, GraphQLObjectType, get_nullable_type

    from casehub.api.execution.list_bounds import BOUNDS, NODES
    from casehub.api.schema import build_schema

    schema = build_schema(development=False)._schema
    for coordinate in [*BOUNDS, NODES]:
        parts = coordinate.split(".")
        kind = schema.get_type(parts[0])
        if len(parts) == 3:
            assert isinstance(kind, GraphQLObjectType), coordinate
            target = kind.fields[parts[1]].args[parts[2]].type
        else:
            assert isinstance(kind, GraphQLInputObjectType), coordinate
            target = kind.fields[parts[1]].type
        assert isinstance(get_nullable_type(target), GraphQLList), coordinate
