"""An exhausted connection pool (PostgreSQL, one connection, no overflow, a short checkout
timeout): a request that finds no connection is answered SERVICE_UNAVAILABLE with a time to
retry, never an unexplained 500 or INTERNAL, whether it waited at authentication (HTTP 503 and
Retry-After), inside execution (a typed field error with retryAfter) or over the websocket; once
the connection is free, requests succeed again. A request holds a connection only while it talks
to the database: a slow upload or a slow download does not starve the others."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from graphql import GraphQLError
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.types import Message

from casehub.api.http.answers import coded
from casehub.app import build_runtime, create_app
from casehub.config import Environment, Settings
from casehub.domain.errors import Unavailable
from casehub.persistence import Database, migrate
from casehub.services.runtime import Runtime
from tests.conftest import World
from tests.security.gate_support import Clock, bearer, calling, socket

pytestmark = pytest.mark.postgres

AGENCIES = "{ agencies(first: 5) { edges { node { code } } } }"  # read from the database
TIMEOUT = 0.5  # the pool's checkout timeout in these tests
WAIT = 5.0


@pytest.fixture(scope="module")
def migrated(postgres_url: str) -> str:
    """The session's PostgreSQL database, at head."""
    migrate.upgrade(postgres_url)
    return postgres_url


@pytest.fixture
async def tiny(migrated: str, keyring_path: Path) -> AsyncIterator[Runtime]:
    """A runtime whose pool holds one connection, no overflow, and waits TIMEOUT for it."""
    settings = Settings(
        env=Environment.PRODUCTION, database_url=migrated, keyring=keyring_path, metrics=True
    )
    base = build_runtime(settings)
    await base.database.dispose()  # only its keys and buses are kept
    database = Database(migrated, pool_size=1, max_overflow=0, pool_timeout=TIMEOUT)
    runtime = dataclasses.replace(base, database=database)
    yield runtime
    await database.dispose()


@pytest.fixture
async def token(tiny: Runtime) -> str:
    """A token of a new agency, with every agency role."""
    return (await World(tiny).agency("OVL")).token


@asynccontextmanager
async def holding(runtime: Runtime) -> AsyncIterator[None]:
    """The pool's only connection, held in an open transaction until the block ends."""
    async with runtime.database.session() as session:
        await session.execute(text("SELECT 1"))
        assert runtime.database.pool_use() == (1, 1)
        yield


def app_of(runtime: Runtime) -> Starlette:
    return create_app(runtime.settings, runtime=runtime, monotonic=Clock())


def json_headers(token: str, accept: str = "application/json") -> dict[str, str]:
    return {**bearer(token), "content-type": "application/json", "accept": accept}


def assert_served(response: httpx.Response) -> None:
    """A 200 answer without errors."""
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text


def assert_unavailable(error: dict[str, Any], request_id: str | None = None) -> None:
    """The typed error: its message, code, retryAfter and request id, nothing of the cause."""
    extensions = error["extensions"]
    assert error["message"] == "The service is unavailable: retry later."
    assert extensions["code"] == "SERVICE_UNAVAILABLE"
    assert extensions["retryAfter"] == 5
    if request_id is not None:
        assert extensions["requestId"] == request_id
    assert "QueuePool" not in orjson.dumps(error).decode()


async def test_a_full_pool_at_authentication_is_503_with_retry_after(
    tiny: Runtime, token: str
) -> None:
    app = app_of(tiny)
    async with calling(app) as http:
        async with holding(tiny):
            refused = await http.post("/graphql", json={"query": AGENCIES}, headers=bearer(token))
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        assert refused.json() == {
            "errors": [
                {
                    "message": "The service is unavailable: retry later.",
                    "extensions": {
                        "code": "SERVICE_UNAVAILABLE",
                        "requestId": refused.headers["x-request-id"],
                    },
                }
            ]
        }
        served = await http.post("/graphql", json={"query": AGENCIES}, headers=bearer(token))
        assert_served(served)
        scraped = (await http.get("/metrics")).text
    assert 'casehub_requests_total{operation="-",outcome="SERVICE_UNAVAILABLE"} 1.0' in scraped


async def paused_post(
    http: httpx.AsyncClient, headers: dict[str, str], query: str
) -> tuple[asyncio.Event, asyncio.Event, asyncio.Task[httpx.Response]]:
    """A POST whose client sends its body only when told: (reading, go, the response's task).
    The gate authenticates before it reads the body, so `reading` is set between the
    authentication and the execution of the operation."""
    reading, go = asyncio.Event(), asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        reading.set()
        await go.wait()
        yield orjson.dumps({"query": query})

    task = asyncio.create_task(http.post("/graphql", content=body(), headers=headers))
    await asyncio.wait_for(reading.wait(), WAIT)
    return reading, go, task


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_full_pool_during_execution_is_a_typed_field_error(
    tiny: Runtime, token: str, accept: str
) -> None:
    async with calling(app_of(tiny)) as http:
        _reading, go, task = await paused_post(http, json_headers(token, accept), AGENCIES)
        async with holding(tiny):  # authenticated, not yet executed: now the pool is full
            go.set()
            answered = await asyncio.wait_for(task, WAIT)
        # The operation ran (its field failed): 200, as for any field error.
        assert answered.status_code == 200, answered.text
        body = answered.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["path"] == ["agencies"]
        assert_unavailable(error, answered.headers["x-request-id"])
        served = await http.post("/graphql", json={"query": AGENCIES}, headers=bearer(token))
    assert served.json()["data"]["agencies"]["edges"], served.text


async def ws_run(sock: Any, op_id: str, query: str) -> dict[str, Any]:
    await sock.ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query}})
    message: dict[str, Any] = await sock.ws.receive_json(timeout=WAIT)
    return message


async def test_a_full_pool_over_the_websocket_is_a_typed_error(tiny: Runtime, token: str) -> None:
    app = app_of(tiny)
    async with socket(app, bearer(token)) as sock:
        await sock.ws.send_json({"type": "connection_init", "payload": {}})
        assert await sock.ws.receive_json(timeout=WAIT) == {"type": "connection_ack"}
        async with holding(tiny):
            refused = await ws_run(sock, "1", AGENCIES)
        assert refused["type"] == "error", refused
        [error] = refused["payload"]
        assert_unavailable(error)
        served = await ws_run(sock, "2", AGENCIES)  # the socket lives on
        assert served["type"] == "next", served
        assert served["payload"]["data"]["agencies"]["edges"]
        assert await sock.ws.receive_json(timeout=WAIT) == {"id": "2", "type": "complete"}


async def test_a_full_pool_at_connection_init_closes_try_again_later(
    tiny: Runtime, token: str
) -> None:
    app = app_of(tiny)
    async with holding(tiny), socket(app, bearer(token)) as sock:
        assert await sock.init(token) == 1013


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (
            sa_exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached"),
            "SERVICE_UNAVAILABLE",
        ),
        (Unavailable(), "SERVICE_UNAVAILABLE"),
        (RuntimeError("a bug"), "INTERNAL"),
    ],
)
def test_an_uncoded_error_of_an_extension_is_typed_by_its_cause(
    raised: Exception, code: str
) -> None:
    # An extension's hook (e.g. the audit of decrypted fields) fails outside the error policy.
    [error] = coded([GraphQLError(str(raised), original_error=raised)], "req-1") or []
    assert error.extensions is not None
    assert error.extensions["code"] == code
    assert error.extensions["requestId"] == "req-1"
    if code == "SERVICE_UNAVAILABLE":
        assert error.message == "The service is unavailable: retry later."
        assert error.extensions["retryAfter"] == 5
    else:
        assert error.message == "Unexpected error."
        assert "retryAfter" not in error.extensions


async def test_slow_uploads_hold_no_connection(tiny: Runtime, token: str) -> None:
    async with calling(app_of(tiny)) as http:
        # Two requests authenticated and waiting for their bodies: the one connection went
        # back to the pool after each authentication.
        _one, go_one, first = await paused_post(http, json_headers(token), AGENCIES)
        _two, go_two, second = await paused_post(http, json_headers(token), AGENCIES)
        assert tiny.database.pool_use() == (0, 1)
        assert_served(await http.post("/graphql", json={"query": AGENCIES}, headers=bearer(token)))
        go_one.set()
        go_two.set()
        for slow in (first, second):
            assert_served(await asyncio.wait_for(slow, WAIT))


async def test_a_slow_download_holds_no_connection(tiny: Runtime, token: str) -> None:
    app = app_of(tiny)
    payload = orjson.dumps({"query": AGENCIES})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"casehub.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 123),
        "server": ("casehub.test", 80),
    }
    sent: list[Message] = []
    sending, read = asyncio.Event(), asyncio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError  # pragma: no cover

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            sending.set()
            await read.wait()  # a client that reads its answer slowly
        sent.append(message)

    slow: asyncio.Task[None] = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(sending.wait(), WAIT)
    assert tiny.database.pool_use() == (0, 1)  # the answer is built: nothing is checked out
    async with calling(app) as http:
        other = await http.post("/graphql", json={"query": AGENCIES}, headers=bearer(token))
    assert_served(other)
    read.set()
    await asyncio.wait_for(slow, WAIT)
    assert sent[0]["status"] == 200
    assert orjson.loads(sent[1]["body"])["data"]["agencies"]["edges"]
