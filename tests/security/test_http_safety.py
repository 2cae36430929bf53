"""HTTP safety: POST only unless GET queries are enabled (never mutations), no request a
browser could send cross-site without a preflight (CSRF), security headers on every response,
GraphiQL's own content security policy, CORS only for listed origins, developer conveniences
only in development, and unexpected failures masked behind a request id the log carries."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from graphql import get_introspection_query
from pydantic import ValidationError

from casehub.api.execution import limits
from casehub.api.http import ide
from casehub.config import Environment, Settings
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

VIEWER = "{ viewer { name } }"
OPEN_CASE = (
    'mutation { openCase(input: {reference: "H-1", title: "t", summary: "s", category: FRAUD})'
    " { case { id } errors { code } } }"
)
STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ORIGIN = "https://tool.agency.example"


def error_code(response: httpx.Response, status: int) -> str:
    """The code of the single JSON error of a response with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    [error] = response.json()["errors"]
    assert error["message"], error
    code: str = error["extensions"]["code"]
    return code


# Methods


@pytest.mark.parametrize("query", [VIEWER, OPEN_CASE])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_get_is_refused_before_anything_when_not_enabled(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    method: str,
    query: str,
) -> None:
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=False):
        response = await http.request(
            method, "/graphql", params={"query": query}, headers=bearer(token)
        )
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    if method == "GET":
        assert error_code(response, 405) == "METHOD_NOT_ALLOWED"


async def test_get_serves_queries_only_when_enabled(
    runtime: Runtime, token: str, resolvers: ResolverCalls, sql_counter: SqlCounter
) -> None:
    async with serving(with_settings(runtime, allow_get_queries=True)) as http:
        served = await http.get("/graphql", params={"query": VIEWER}, headers=bearer(token))
        assert served.status_code == 200, served.text
        assert served.json()["data"]["viewer"]["name"]
        async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
            refused = await http.get("/graphql", params={"query": OPEN_CASE}, headers=bearer(token))
        assert error_code(refused, 405) == "METHOD_NOT_ALLOWED"
        assert refused.headers["allow"] == "POST"
        head = await http.head("/graphql", params={"query": VIEWER}, headers=bearer(token))
        assert head.status_code == 405
        assert head.headers["allow"] == "GET, POST"


# Cross-site request forgery: only what a browser must preflight


@pytest.mark.parametrize(
    ("content_type", "content", "status", "code"),
    [
        ("text/plain", json.dumps({"query": OPEN_CASE}), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            "application/x-www-form-urlencoded",
            "query=" + OPEN_CASE,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (None, json.dumps({"query": OPEN_CASE}), 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("application/graphql", OPEN_CASE, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            + json.dumps({"query": OPEN_CASE})
            + '\r\n--x\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--x--\r\n',
            400,
            "PREFLIGHT_REQUIRED",
        ),
    ],
    ids=["text-plain", "form", "none", "application-graphql", "multipart-without-header"],
)
async def test_requests_a_page_could_forge_are_refused_before_anything(
    http: httpx.AsyncClient,
    token: str,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
    content_type: str | None,
    content: str,
    status: int,
    code: str,
) -> None:
    request = http.build_request(
        "POST", "/graphql", content=content.encode(), headers=bearer(token)
    )
    if content_type is not None:
        request.headers["content-type"] = content_type
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=False):
        response = await http.send(request)
    assert error_code(response, status) == code


@pytest.mark.parametrize(
    "header", ["Apollo-Require-Preflight", "X-Casehub-Csrf"], ids=["apollo", "casehub"]
)
async def test_multipart_with_a_preflight_header_is_served(
    http: httpx.AsyncClient, token: str, header: str
) -> None:
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps({"query": VIEWER}), "map": "{}"},
        files={"unused": ("x.txt", b"x", "text/plain")},
        headers={**bearer(token), header: "1"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["name"]


async def test_json_with_a_charset_is_served(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}).encode(),
        headers={**bearer(token), "content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["name"]


# Security headers


def assert_security_headers(response: httpx.Response, cache: str = "no-store") -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", headers
    assert headers["x-frame-options"] == "DENY", headers
    assert headers["referrer-policy"] == "no-referrer", headers
    assert headers["content-security-policy"] == STRICT_POLICY, headers
    assert headers["cache-control"] == cache, headers


async def test_every_response_carries_the_security_headers(runtime: Runtime, world: Any) -> None:
    tokens = (await world.agency("HH")).tokens
    tight = with_settings(runtime, rate_limit_burst=1)
    async with serving(tight) as http:
        once = bearer(tokens["READER"])
        responses = {
            "served": await http.post("/graphql", json={"query": VIEWER}, headers=once),
            "rate limited": await http.post("/graphql", json={"query": VIEWER}, headers=once),
            "bad json": await http.post(
                "/graphql",
                content=b"{",
                headers={**bearer(tokens["INVESTIGATOR"]), "content-type": "application/json"},
            ),
            "unauthenticated": await http.post("/graphql", json={"query": VIEWER}),
            "get": await http.get("/graphql", params={"query": VIEWER}),
            "media type": await http.post("/graphql", content=b"x"),
            "too large": await http.post(
                "/graphql",
                content=b" " * (runtime.settings.max_request_bytes + 1),
                headers={"content-type": "application/json"},
            ),
            "healthz": await http.get("/healthz"),
            "readyz": await http.get("/readyz"),
            "not found": await http.get("/nowhere"),
            "options": await http.options("/graphql", headers={"Origin": ORIGIN}),
        }
        keys = await http.get("/.well-known/casehub-receipts.json")
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "served": 200,
        "rate limited": 429,
        "bad json": 400,
        "unauthenticated": 401,
        "get": 405,
        "media type": 415,
        "too large": 413,
        "healthz": 200,
        "readyz": 200,
        "not found": 404,
        "options": 405,
    }
    for response in responses.values():
        assert_security_headers(response)
    # The public keys may be cached; everything else about them is as strict.
    assert_security_headers(keys, cache="max-age=300")


# Development only: GraphiQL (under its own policy), introspection, suggestions


async def test_graphiql_is_served_in_development_under_a_strict_policy(
    runtime: Runtime,
) -> None:
    development = with_settings(runtime, env=Environment.DEVELOPMENT)
    async with serving(development) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        # GraphiQL keeps the document it edits in the address (reloading shows it again).
        reloaded = await http.get("/graphql?q=%7B%7D", headers={"Accept": "text/html"})
        query = await http.get("/graphql?query=%7B%7D", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert reloaded.text == page.text
    assert error_code(query, 405) == "METHOD_NOT_ALLOWED"
    assert "graphiql" in page.text.lower()
    policy = page.headers["content-security-policy"]
    directives = {
        name: sources
        for name, _space, sources in (part.strip().partition(" ") for part in policy.split(";"))
    }
    # Casehub's own page: no inline script, every asset from the package (offline).
    assert re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL) == []
    assert "https://" not in page.text
    assert policy == ide.POLICY
    assert directives["script-src"] == "'self'", policy
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_graphiql_is_not_served_in_production(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert error_code(page, 405) == "METHOD_NOT_ALLOWED"
    assert "graphiql" not in page.text.lower()


async def test_introspection_and_suggestions_work_in_development_only(
    runtime: Runtime, token: str
) -> None:
    """GraphiQL's own introspection query (deeper than the depth limit) passes the limits in
    development; production refuses it, and drops the "did you mean" hints."""
    for env, introspects in ((Environment.DEVELOPMENT, True), (Environment.PRODUCTION, False)):
        async with serving(with_settings(runtime, env=env)) as http:
            schema = await http.post(
                "/graphql", json={"query": get_introspection_query()}, headers=bearer(token)
            )
            typo = await http.post(
                "/graphql", json={"query": "{ viewr { name } }"}, headers=bearer(token)
            )
        body = schema.json()
        if introspects:
            assert "errors" not in body, body
            assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        else:
            assert body.get("data") is None, body
        assert ("Did you mean" in typo.text) is introspects, typo.text


# CORS


async def test_no_cors_headers_without_listed_origins(http: httpx.AsyncClient, token: str) -> None:
    preflight = await http.options(
        "/graphql",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    call = await http.post(
        "/graphql", json={"query": VIEWER}, headers={**bearer(token), "Origin": ORIGIN}
    )
    assert call.status_code == 200, call.text
    for response in (preflight, call):
        assert not [name for name in response.headers if name.startswith("access-control-")]


async def test_cors_answers_listed_origins_only(runtime: Runtime, token: str) -> None:
    listed = with_settings(runtime, cors_origins=[ORIGIN])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with serving(listed) as http:
        allowed = await http.options("/graphql", headers={"Origin": ORIGIN, **preflight})
        other = await http.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        call = await http.post(
            "/graphql", json={"query": VIEWER}, headers={**bearer(token), "Origin": ORIGIN}
        )
        stranger = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={**bearer(token), "Origin": "https://evil.example"},
        )
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-methods"] == "POST"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert call.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in call.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers
    assert_security_headers(allowed)


def test_cors_origins_come_comma_separated_and_must_be_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASEHUB_CORS_ORIGINS", f"{ORIGIN}, http://localhost:5173")
    assert Settings().cors_origins == [ORIGIN, "http://localhost:5173"]
    monkeypatch.delenv("CASEHUB_CORS_ORIGINS")
    assert Settings().cors_origins == []
    for bad in ("*", "https://tool.example/app", "tool.example", "ftp://tool.example"):
        with pytest.raises(ValidationError):
            Settings(cors_origins=[bad])


# Unexpected failures


async def test_an_unexpected_failure_is_masked_and_its_log_line_has_the_request_id(
    http: httpx.AsyncClient,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(agencies, "list_agencies", broken)
    caplog.set_level(logging.ERROR, logger="casehub.api")
    response = await http.post(
        "/graphql", json={"query": "{ agencies { edges { cursor } } }"}, headers=bearer(token)
    )
    assert_masked(response, caplog, "secret detail of the failure")


async def test_a_failing_extension_is_masked_too(
    http: httpx.AsyncClient,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """strawberry reports an error raised by an extension's hook past the error policy: the
    view masks it all the same."""

    def broken(*_args: object) -> None:
        raise KeyError("secret detail of the analysis")

    monkeypatch.setattr(limits, "analyse", broken)
    caplog.set_level(logging.ERROR, logger="casehub.api")
    response = await http.post("/graphql", json={"query": VIEWER}, headers=bearer(token))
    assert_masked(response, caplog, "secret detail of the analysis")


def assert_masked(response: httpx.Response, caplog: pytest.LogCaptureFixture, secret: str) -> None:
    assert response.status_code == 200, response.text
    assert secret not in response.text
    [error] = response.json()["errors"]
    request_id = response.headers["x-request-id"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    [record] = [record for record in caplog.records if record.name == "casehub.api"]
    assert record.levelno == logging.ERROR
    assert record.__dict__["request_id"] == request_id
    assert request_id in record.getMessage()
    assert record.exc_info is not None
    assert secret in str(record.exc_info[1])
