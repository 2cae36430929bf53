"""Helpers for the tests of the HTTP gate, the query limits and the rate limits: an app built
with other settings and a hand-driven clock, and spies proving that a refusal ran nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from graphql.execution import Executor
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from starlette.types import ASGIApp

from casehub.app import create_app
from casehub.persistence.tables import AuditEventRow
from casehub.services.runtime import Runtime, open_scope
from tests.support import nothing_written

if TYPE_CHECKING:
    from tests.conftest import SqlCounter


class Clock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def with_settings(runtime: Runtime, **overrides: Any) -> Runtime:
    """The test runtime (same database and keys) with some settings changed."""
    return dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=overrides))


def app_of(runtime: Runtime, clock: Clock | None = None) -> Starlette:
    """A fresh app (fresh rate limiters) on this runtime and clock."""
    return create_app(runtime.settings, runtime=runtime, monotonic=clock or Clock())


@asynccontextmanager
async def calling(app: Starlette, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app calling from `address`; an exception escaping the app becomes the
    500 a server would send."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 123))
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@asynccontextmanager
async def serving(runtime: Runtime, clock: Clock | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh app on this runtime."""
    async with calling(app_of(runtime, clock)) as http:
        yield http


class Socket:
    """A graphql-transport-ws client on one websocket."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws

    async def init(self, token: str) -> dict[str, Any] | int:
        """The server's answer to connection_init: its message, or the code it closed with."""
        await self.ws.send_json({"type": "connection_init", "payload": {"token": token}})
        try:
            message: dict[str, Any] = await self.ws.receive_json(timeout=5)
        except WebSocketDisconnect as closed:
            return closed.code
        return message

    async def subscribe(self, query: str) -> dict[str, Any]:
        """Subscribe (as operation "1"); the server's first answer."""
        payload = {"query": query}
        await self.ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        message: dict[str, Any] = await self.ws.receive_json(timeout=5)
        return message


@asynccontextmanager
async def socket(app: ASGIApp, headers: dict[str, str] | None = None) -> AsyncIterator[Socket]:
    """A websocket to the app, speaking graphql-transport-ws (`headers` on its upgrade)."""
    transport = ASGIWebSocketTransport(app=app)
    ws: AsyncWebSocketSession
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as client,
        aconnect_ws(
            "http://casehub.test/graphql",
            client,
            subprotocols=["graphql-transport-ws"],
            keepalive_ping_interval_seconds=None,
            headers=headers or {},
        ) as ws,
    ):
        yield Socket(ws)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


class ResolverCalls:
    """Counts the fields graphql-core resolves (each one calls a resolver)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        resolve = Executor.execute_field

        def counting(executor: Executor[Any], *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return resolve(executor, *args, **kwargs)

        monkeypatch.setattr(Executor, "execute_field", counting)


async def audit_rows(runtime: Runtime) -> int:
    """Rows in the audit log."""
    async with open_scope(runtime) as scope:
        return await scope.store.count_rows(AuditEventRow)


@contextmanager
def statements(sql_counter: SqlCounter) -> Iterator[list[str]]:
    """The SQL statements sent inside the block."""
    sql_counter.statements.clear()
    sql_counter.active = True
    try:
        yield sql_counter.statements
    finally:
        sql_counter.active = False


def only_authentication(sent: list[str]) -> bool:
    """Whether the statements are the token look-up alone."""
    return len(sent) == 1 and "api_token" in sent[0]


@asynccontextmanager
async def nothing_run(
    runtime: Runtime, resolvers: ResolverCalls, sql_counter: SqlCounter, *, authenticated: bool
) -> AsyncIterator[None]:
    """Assert that the block resolved no field, wrote no row (audit log included) and sent no
    SQL but, when `authenticated`, the token look-up."""
    audit_before = await audit_rows(runtime)
    async with nothing_written(runtime):
        before = resolvers.count
        with statements(sql_counter) as sent:
            yield
        assert resolvers.count == before, "a resolver ran"
        assert only_authentication(sent) if authenticated else sent == [], sent
    assert await audit_rows(runtime) == audit_before
