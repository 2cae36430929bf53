"""The HTTP edge of /graphql in production mode: malformed requests get a JSON 4xx (never a
500 or a stack trace), limits are enforced, introspection and suggestions are off, and the
health routes answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from casehub.app import create_app
from casehub.config import Settings
from casehub.services.runtime import Runtime
from tests.support import nothing_written

REQUEST_LIMIT = 256 * 1024  # max_request_bytes of the test settings
LEAKS = ("Traceback", "sqlalchemy", 'File "', "psycopg", "aiosqlite", "KeyError", "AttributeError")
OPEN_CASE = """
mutation($input: OpenCaseInput!) {
  openCase(input: $input) { case { id } errors { code field message } }
}
"""


@pytest.fixture
async def http(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The production app over HTTP; an exception escaping the app becomes the 500 a real
    server would send instead of being raised into the test."""
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as client:
        yield client


@pytest.fixture
async def token(world: Any) -> str:
    agency = await world.agency("HT")
    value: str = agency.token
    return value


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def assert_no_leak(response: httpx.Response) -> None:
    for marker in LEAKS:
        assert marker not in response.text, response.text


def assert_json_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx (or this status) whose JSON body lists typed errors and leaks nothing."""
    if status is None:
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
    else:
        assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert_no_leak(response)
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    for error in body["errors"]:
        assert error["message"], body
        assert error["extensions"]["code"], body
    return body


# Malformed requests


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"query": ', id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe\x00", id="utf16-bom-odd-length"),
        pytest.param(b'{"query": "{ viewer { name } }", "x": "\xc3("}', id="invalid-utf8"),
        pytest.param(b"{'query': '{ viewer { name } }'}", id="single-quotes"),
        pytest.param(b'{"query": 5}', id="query-not-string"),
        pytest.param(b'{"query": "{ viewer { name } }", "variables": []}', id="variables-list"),
        pytest.param(b'{"query": "{ viewer { name } }", "variables": "{}"}', id="variables-str"),
        pytest.param(b'{"query": "{ viewer { name } }", "extensions": 5}', id="extensions-int"),
        pytest.param(b"{}", id="no-query"),
        pytest.param(b"[]", id="empty-batch"),
        pytest.param(b'[{"query": "{ viewer { name } }"}]', id="batch"),
        pytest.param(b'"{ viewer { name } }"', id="json-string"),
        pytest.param(b"123", id="json-number"),
        pytest.param(b"null", id="json-null"),
        pytest.param(b"true", id="json-true"),
    ],
)
async def test_malformed_json_body_is_a_json_400(
    http: httpx.AsyncClient, token: str, runtime: Runtime, content: bytes
) -> None:
    async with nothing_written(runtime):
        response = await http.post(
            "/graphql",
            content=content,
            headers=bearer(token, **{"content-type": "application/json"}),
        )
    assert_json_error(response, 400)
    assert response.headers.get("x-request-id"), response.headers


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        pytest.param("text/plain", b"{ viewer { name } }", id="text-plain"),
        pytest.param("text/plain", b'{"query": "{ viewer { name } }"}', id="text-plain-json"),
        pytest.param("application/graphql", b"{ viewer { name } }", id="application-graphql"),
        pytest.param(
            "application/x-www-form-urlencoded", b"query=%7Bviewer%7Bname%7D%7D", id="form"
        ),
        pytest.param("application/xml", b"<query/>", id="xml"),
        pytest.param(
            "multipart/form-data; boundary=xyz",
            b"--xyz\r\nnot a part\r\n--xyz--\r\n",
            id="multipart-garbage",
        ),
        pytest.param("multipart/form-data", b"no boundary at all", id="multipart-no-boundary"),
    ],
)
async def test_wrong_content_type_is_a_json_4xx(
    http: httpx.AsyncClient, token: str, content_type: str, content: bytes
) -> None:
    response = await http.post(
        "/graphql", content=content, headers=bearer(token, **{"content-type": content_type})
    )
    assert_json_error(response)


async def test_missing_content_type_is_a_json_4xx(http: httpx.AsyncClient, token: str) -> None:
    request = http.build_request(
        "POST", "/graphql", content=b'{"query": "{ viewer { name } }"}', headers=bearer(token)
    )
    request.headers.pop("content-type", None)
    response = await http.send(request)
    assert_json_error(response)


@pytest.mark.parametrize(
    "query", ["{viewer{name}}", 'mutation{openCase(input:{reference:"G"}){errors{code}}}']
)
async def test_operations_over_get_are_refused(
    http: httpx.AsyncClient, token: str, runtime: Runtime, query: str
) -> None:
    async with nothing_written(runtime):
        response = await http.get("/graphql", params={"query": query}, headers=bearer(token))
    assert_json_error(response)


async def test_get_is_refused_before_authentication(http: httpx.AsyncClient) -> None:
    """GET queries are off unless a setting enables them (tests/security/test_http_safety.py)."""
    response = await http.get("/graphql", params={"query": "{viewer{name}}"})
    body = assert_json_error(response, 405)
    assert body["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/graphql", "/graphql?variables=%7B%7D", "/graphql?QUERY=x"])
@pytest.mark.parametrize("authenticated", [False, True])
async def test_get_without_query_in_production_is_a_json_4xx(
    http: httpx.AsyncClient, token: str, path: str, authenticated: bool
) -> None:
    """No GraphiQL in production: the bare endpoint answers with an error, not a crash."""
    headers = {"Accept": "text/html"}
    if authenticated:
        headers.update(bearer(token))
    response = await http.get(path, headers=headers)
    assert_json_error(response)
    assert "graphiql" not in response.text.lower()


async def test_several_operations_without_an_operation_name_are_refused(
    http: httpx.AsyncClient, token: str, runtime: Runtime
) -> None:
    """The spec requires operationName when a document holds several operations; guessing
    one would run a write the caller did not single out."""
    document = """
    mutation A { openCase(input: {reference: "OP-A", title: "a", summary: "s", category: FRAUD})
      { errors { code } } }
    mutation B { openCase(input: {reference: "OP-B", title: "b", summary: "s", category: FRAUD})
      { errors { code } } }
    """
    async with nothing_written(runtime):
        response = await http.post("/graphql", json={"query": document}, headers=bearer(token))
    assert response.status_code < 500, response.text
    assert_no_leak(response)
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    chosen = await http.post(
        "/graphql",
        json={"query": document, "operationName": "B"},
        headers=bearer(token),
    )
    assert chosen.json()["data"] == {"openCase": {"errors": []}}


def _nested(levels: int, leaf: str = "1") -> bytes:
    return (b"[" * levels) + leaf.encode() + (b"]" * levels)


CASES_FIRST = "query($n: Int) { cases(first: $n) { totalCount } }"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            b'{"query": "' + CASES_FIRST.encode() + b'", "variables": {"n": 1e400}}',
            "number is infinity",
            id="number-1e400",
        ),
        pytest.param(
            b'{"query": "'
            + CASES_FIRST.encode()
            + b'", "variables": {"n": '
            + b"9" * 10_000
            + b"}}",
            "number is infinity",
            id="number-10000-digits",
        ),
        pytest.param(
            b'{"query": "{ viewer { name } }", "variables": {"v": ' + _nested(10_000) + b"}}",
            "depth limit exceeded",
            id="list-nested-10000-deep",
        ),
        pytest.param(
            b'{"query": "{ viewer { name } }", "variables": '
            + b'{"v": ' * 10_000
            + b"1"
            + b"}" * 10_001,
            "depth limit exceeded",
            id="object-nested-10000-deep",
        ),
        pytest.param(
            b'{"query": "' + CASES_FIRST.encode() + b'", "variables": {"n": NaN}}',
            "expected a JSON value",
            id="nan",
        ),
        pytest.param(b'{"query": "{ viewer { name } }"}\x00', "after document", id="nul-after"),
        pytest.param(b'{"query": "{ viewer {\x00 name } }"}', "control character", id="nul-raw"),
        pytest.param(b'{"query": "\\ud800"}', "surrogate", id="lone-surrogate"),
        pytest.param(b'\xef\xbb\xbf{"query": "{ viewer { name } }"}', "byte order mark", id="bom"),
    ],
)
async def test_bad_json_is_a_400_saying_what_is_wrong(
    http: httpx.AsyncClient, token: str, runtime: Runtime, content: bytes, reason: str
) -> None:
    async with nothing_written(runtime):
        response = await http.post(
            "/graphql",
            content=content,
            headers=bearer(token, **{"content-type": "application/json"}),
        )
    body = assert_json_error(response, 400)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert reason in error["message"], error


NUL = "\u0000"


@pytest.mark.parametrize(
    ("query", "variables", "operation_name"),
    [
        pytest.param("{ viewer { name } }" + NUL, None, None, id="nul-in-document"),
        pytest.param('{ node(id: "\\u0000") { id } }', None, None, id="nul-in-literal"),
        pytest.param("query($id: ID!) { node(id: $id) { id } }", {"id": NUL}, None, id="nul-in-id"),
        pytest.param(
            "query($a: String) { cases(first: 1, after: $a) { totalCount } }",
            {"a": "x" + NUL},
            None,
            id="nul-in-cursor",
        ),
        pytest.param(
            "query($v: IdentifierInput) { cases(filter: {identifier: $v}) { totalCount } }",
            {"v": {"kind": "EMAIL", "value": "a" + NUL + "@example.org"}},
            None,
            id="nul-in-filter",
        ),
        pytest.param(
            OPEN_CASE,
            {"input": {"reference": "N-1", "title": NUL, "summary": "s", "category": "FRAUD"}},
            None,
            id="nul-in-input",
        ),
        pytest.param("query Q { viewer { name } }", None, "Q" + NUL, id="nul-in-operation-name"),
        pytest.param(CASES_FIRST, {"n": 10**30}, None, id="huge-variable"),
        pytest.param(CASES_FIRST, {"n": 2.5}, None, id="fractional-variable"),
        pytest.param(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            b'{"ids": ' + _nested(1000, '"x"') + b"}",
            None,
            id="ids-nested-1000-deep",
        ),
        pytest.param(
            OPEN_CASE,
            b'{"input": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1001,
            None,
            id="input-nested-1000-deep",
        ),
        pytest.param(
            "{ cases(filter: " + "{owned: " * 150 + "true" + "}" * 150 + ") { totalCount } }",
            None,
            None,
            id="literal-nested-150-deep",
        ),
    ],
)
async def test_hostile_values_get_typed_errors_never_a_500(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    query: str,
    variables: dict[str, Any] | bytes | None,
    operation_name: str | None,
) -> None:
    """Null bytes, huge and fractional numbers, deep nesting: refused as the caller's error
    (never INTERNAL), by HTTP (400) or in the GraphQL body, and nothing is written."""
    # Nesting past Python's recursion limit travels as ready-made JSON.
    raw = variables if isinstance(variables, bytes) else json.dumps(variables).encode()
    content = b'{"query": %b, "variables": %b, "operationName": %b}' % (
        json.dumps(query).encode(),
        raw,
        json.dumps(operation_name).encode(),
    )
    async with nothing_written(runtime):
        response = await http.post(
            "/graphql",
            content=content,
            headers=bearer(token, **{"content-type": "application/json"}),
        )
    assert response.status_code in (200, 400), response.text
    assert_no_leak(response)
    body = response.json()
    errors = body.get("errors") or [
        {"extensions": error} for payload in body["data"].values() for error in payload["errors"]
    ]
    assert errors, body
    assert all(error["extensions"]["code"] not in ("INTERNAL", None) for error in errors), body


# Limits


async def test_body_over_the_limit_is_413(
    http: httpx.AsyncClient, token: str, runtime: Runtime
) -> None:
    data = {
        "reference": "BIG-1",
        "title": "t",
        "summary": "x" * (REQUEST_LIMIT + 1),
        "category": "FRAUD",
    }
    async with nothing_written(runtime):
        response = await http.post(
            "/graphql",
            json={"query": OPEN_CASE, "variables": {"input": data}},
            headers=bearer(token),
        )
    body = assert_json_error(response, 413)
    assert body["errors"][0]["extensions"]["code"] == "TOO_LARGE"


async def test_body_over_the_limit_is_413_before_authentication(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", content=b" " * (REQUEST_LIMIT + 1), headers={"content-type": "application/json"}
    )
    body = assert_json_error(response, 413)
    assert body["errors"][0]["extensions"]["code"] == "TOO_LARGE"


async def test_chunked_body_over_the_limit_is_413(
    http: httpx.AsyncClient, token: str, runtime: Runtime
) -> None:
    prefix = json.dumps({"query": OPEN_CASE, "variables": {"input": {"summary": ""}}})[:-4]

    async def chunks() -> AsyncIterator[bytes]:
        yield prefix.encode()
        for _ in range(REQUEST_LIMIT // 8192 + 2):
            yield b"x" * 8192
        yield b'"}}}'

    async with nothing_written(runtime):
        response = await http.post(
            "/graphql",
            content=chunks(),
            headers=bearer(token, **{"content-type": "application/json"}),
        )
    assert "content-length" not in response.request.headers
    body = assert_json_error(response, 413)
    assert body["errors"][0]["extensions"]["code"] == "TOO_LARGE"


async def test_body_just_under_the_limit_is_served(http: httpx.AsyncClient, token: str) -> None:
    query = "{ viewer { name } }"
    padding = REQUEST_LIMIT - len(json.dumps({"query": query, "variables": {}, "p": ""})) - 1
    response = await http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": {}, "p": " " * padding}).encode(),
        headers=bearer(token, **{"content-type": "application/json"}),
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["name"]


# Authentication


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz"]
)
async def test_missing_or_bad_token_is_401(
    http: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await http.post("/graphql", json={"query": "{ viewer { name } }"}, headers=headers)
    body = assert_json_error(response, 401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


# Nothing internal leaks


async def test_error_responses_never_show_internals(
    http: httpx.AsyncClient, token: str, world: Any
) -> None:
    agency = await world.agency("HL")
    opened = await http.post(
        "/graphql",
        json={
            "query": OPEN_CASE,
            "variables": {
                "input": {"reference": "L-1", "title": "t", "summary": "s", "category": "FRAUD"}
            },
        },
        headers=bearer(agency.token),
    )
    case_id = opened.json()["data"]["openCase"]["case"]["id"]
    naive_date = (
        'mutation($c: ID!) { addEvidence(input: {caseId: $c, kind: DOCUMENT, title: "t", '
        'contentBase64: "eA==", collectedAt: "2024-01-01T00:00:00"}) { errors { code } } }'
    )
    attempts: list[dict[str, Any]] = [
        {"content": b'{"query": ', "headers": {"content-type": "application/json"}},
        {"content": b"null", "headers": {"content-type": "application/json"}},
        {"content": b"{ viewer { name } }", "headers": {"content-type": "text/plain"}},
        {"json": {"query": '{ node(id: "\\u0000") { id } }'}},
        {"json": {"query": '{ node(id: "garbage") { id } }'}},
        {"json": {"query": "{ viewer { name } "}},
        {"json": {"query": "{ cases(first: 100000) { totalCount } }"}},
        {"json": {"query": '{ cases(after: "!!") { totalCount } }'}},
        {"json": {"query": naive_date, "variables": {"c": case_id}}},
        {
            "json": {
                "query": OPEN_CASE,
                "variables": {"input": {"reference": "x", "category": "BANANA"}},
            }
        },
    ]
    problems = []
    for attempt in attempts:
        headers = {**bearer(agency.token), **attempt.pop("headers", {})}
        response = await http.post("/graphql", headers=headers, **attempt)
        if response.status_code >= 500 or any(marker in response.text for marker in LEAKS):
            problems.append((attempt, response.status_code, response.text[:200]))
    assert problems == []


# Health


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}


# Production: no introspection, no suggestions


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { name } } }",
        '{ __type(name: "Case") { fields { name } } }',
        "query { viewer { name } __schema { queryType { name } } }",
    ],
)
async def test_introspection_is_refused_in_production(
    http: httpx.AsyncClient, token: str, query: str
) -> None:
    response = await http.post("/graphql", json={"query": query}, headers=bearer(token))
    assert response.status_code < 500, response.text
    assert_no_leak(response)
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert "Case" not in json.dumps(body.get("data"))


async def test_typename_still_works_in_production(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ __typename viewer { __typename } }"}, headers=bearer(token)
    )
    assert response.json()["data"] == {"__typename": "Query", "viewer": {"__typename": "Viewer"}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ viewr { name } }", None),
        ("{ viewer { nmae } }", None),
        ('{ node(idd: "x") { id } }', None),
        ("{ cases(filter: {stauts: OPEN}) { totalCount } }", None),
        ("{ cases(filter: {status: OPNE}) { totalCount } }", None),
        ("{ cases(firts: 1) { totalCount } }", None),
        (
            "query($f: CaseFilter) { cases(filter: $f) { totalCount } }",
            {"f": {"status": "OPNE"}},
        ),
        (
            "query($f: CaseFilter) { cases(filter: $f) { totalCount } }",
            {"f": {"stauts": "OPEN"}},
        ),
        ("query($f: CaseFiltr) { cases(filter: $f) { totalCount } }", None),
    ],
)
async def test_misspellings_get_an_error_without_suggestions(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None
) -> None:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(token)
    )
    assert response.status_code < 500, response.text
    assert_no_leak(response)
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert "Did you mean" not in response.text
    assert "did you mean" not in response.text.lower()


# Request ids


async def test_graphql_responses_carry_a_request_id(http: httpx.AsyncClient, token: str) -> None:
    responses = [
        await http.post("/graphql", json={"query": "{ viewer { name } }"}, headers=bearer(token)),
        await http.post(
            "/graphql",
            json={
                "query": OPEN_CASE,
                "variables": {
                    "input": {"reference": "", "title": "t", "summary": "s", "category": "FRAUD"}
                },
            },
            headers=bearer(token),
        ),
        await http.post("/graphql", json={"query": "{ viewr { name } }"}, headers=bearer(token)),
        await http.post(
            "/graphql",
            content=b'{"query": ',
            headers=bearer(token, **{"content-type": "application/json"}),
        ),
    ]
    assert responses[1].json()["data"]["openCase"]["errors"][0]["code"] == "VALIDATION"
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), ids
