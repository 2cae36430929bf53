"""Rate limits: each API token draws from a token bucket (429 RATE_LIMITED with a retry-after
hint once it is empty), and an address that keeps failing authentication is refused before its
token is even looked up; the clock is the test's, so nothing sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from starlette.applications import Starlette

from casehub.config import Settings
from casehub.domain.errors import RateLimited
from casehub.services.agencies import agencies
from casehub.services.runtime import Runtime
from tests.security.gate_support import (
    Clock,
    ResolverCalls,
    app_of,
    audit_rows,
    bearer,
    calling,
    nothing_run,
    socket,
    statements,
    with_settings,
)

if TYPE_CHECKING:
    from tests.conftest import SqlCounter

VIEWER = "{ viewer { name } }"
OPEN_CASE = (
    'mutation { openCase(input: {reference: "RL-1", title: "t", summary: "s", category: FRAUD})'
    " { case { id } errors { code } } }"
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def tokens(world: Any) -> dict[str, str]:
    agency = await world.agency("RL")
    found: dict[str, str] = agency.tokens
    return found


@pytest.fixture
def app(runtime: Runtime, clock: Clock) -> Starlette:
    """One call a second per token, three at once; a failed authentication every ten seconds
    per address, two at once."""
    tight = with_settings(
        runtime,
        rate_limit_per_second=1,
        rate_limit_burst=3,
        auth_failures_per_minute=6,
        auth_failure_burst=2,
    )
    return app_of(tight, clock)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with calling(app) as client:
        yield client


async def viewer(http: httpx.AsyncClient, token: str | None) -> httpx.Response:
    headers = bearer(token) if token else {}
    return await http.post("/graphql", json={"query": VIEWER}, headers=headers)


def assert_rate_limited(response: httpx.Response, message: str, seconds: int) -> None:
    """429 with the documented body, the Retry-After header and the request id."""
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(seconds)
    assert response.headers["x-request-id"]
    assert response.json() == {
        "errors": [
            {
                "message": f"{message} Retry in {seconds} s.",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds},
            }
        ]
    }


TOO_MANY_CALLS = "Too many requests with this token."
TOO_MANY_FAILURES = "Too many failed authentications from your address."


async def test_a_token_gets_its_burst_then_waits_for_its_bucket(
    http: httpx.AsyncClient,
    tokens: dict[str, str],
    clock: Clock,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
) -> None:
    token = tokens["all"]
    for _ in range(3):
        assert (await viewer(http, token)).status_code == 200
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        refused = await viewer(http, token)
    async with nothing_run(runtime, resolvers, sql_counter, authenticated=True):
        refused_write = await http.post(
            "/graphql", json={"query": OPEN_CASE}, headers=bearer(token)
        )
    assert_rate_limited(refused, TOO_MANY_CALLS, 1)
    assert_rate_limited(refused_write, TOO_MANY_CALLS, 1)
    clock.advance(0.5)
    assert_rate_limited(await viewer(http, token), TOO_MANY_CALLS, 1)  # half a call: round up
    clock.advance(0.5)
    assert (await viewer(http, token)).status_code == 200
    assert_rate_limited(await viewer(http, token), TOO_MANY_CALLS, 1)
    # Another token of the same agency has a bucket of its own.
    assert (await viewer(http, tokens["READER"])).status_code == 200
    # A long pause refills the burst, no more.
    clock.advance(3600)
    for _ in range(3):
        assert (await viewer(http, token)).status_code == 200
    assert (await viewer(http, token)).status_code == 429


async def test_retry_after_is_whole_seconds_rounded_up(
    runtime: Runtime, tokens: dict[str, str], clock: Clock
) -> None:
    slow = with_settings(runtime, rate_limit_per_second=0.25, rate_limit_burst=1)
    async with calling(app_of(slow, clock)) as http:
        assert (await viewer(http, tokens["all"])).status_code == 200
        assert_rate_limited(await viewer(http, tokens["all"]), TOO_MANY_CALLS, 4)
        clock.advance(3.5)
        assert_rate_limited(await viewer(http, tokens["all"]), TOO_MANY_CALLS, 1)
        clock.advance(0.5)
        assert (await viewer(http, tokens["all"])).status_code == 200


async def test_an_address_failing_authentication_is_refused_before_any_look_up(
    app: Starlette,
    tokens: dict[str, str],
    clock: Clock,
    runtime: Runtime,
    resolvers: ResolverCalls,
    sql_counter: SqlCounter,
) -> None:
    async with calling(app, "10.0.0.1") as failing, calling(app, "10.0.0.2") as elsewhere:
        for attempt in (None, "chb_not-a-token"):
            before = await audit_rows(runtime)
            assert (await viewer(failing, attempt)).status_code == 401
            assert await audit_rows(runtime) == before + 1  # each failure is audited
        # Even a valid token: the address is refused before its token is looked up.
        async with nothing_run(runtime, resolvers, sql_counter, authenticated=False):
            refused = await viewer(failing, tokens["all"])
        assert_rate_limited(refused, TOO_MANY_FAILURES, 10)
        assert (await viewer(elsewhere, tokens["all"])).status_code == 200
        assert (await viewer(elsewhere, None)).status_code == 401
        clock.advance(10)
        assert (await viewer(failing, tokens["all"])).status_code == 200
        assert (await viewer(failing, tokens["all"])).status_code == 200  # success costs nothing
        assert (await viewer(failing, "chb_still-not-a-token")).status_code == 401
        assert_rate_limited(await viewer(failing, tokens["all"]), TOO_MANY_FAILURES, 10)


async def test_websocket_authentication_failures_count_against_the_address(
    app: Starlette, http: httpx.AsyncClient, tokens: dict[str, str], clock: Clock
) -> None:
    async with socket(app) as sock:
        assert await sock.init("chb_not-a-token") == 4401
    assert (await viewer(http, None)).status_code == 401
    async with socket(app) as sock:
        assert await sock.init(tokens["all"]) == 4429
    assert_rate_limited(await viewer(http, tokens["all"]), TOO_MANY_FAILURES, 10)
    clock.advance(10)
    async with socket(app) as sock:
        assert await sock.init(tokens["all"]) == {"type": "connection_ack"}


async def test_a_token_holds_at_most_its_websockets(
    runtime: Runtime, tokens: dict[str, str], clock: Clock
) -> None:
    app = app_of(with_settings(runtime, max_websockets_per_token=2), clock)
    async with AsyncExitStack() as held:
        for _ in range(2):
            sock = await held.enter_async_context(socket(app))
            assert await sock.init(tokens["all"]) == {"type": "connection_ack"}
        async with socket(app) as third:
            assert await third.init(tokens["all"]) == 4429
        # Another token of the same agency has sockets of its own.
        async with socket(app) as other:
            assert await other.init(tokens["READER"]) == {"type": "connection_ack"}
    # Closed sockets give their places back.
    async with socket(app) as again:
        assert await again.init(tokens["all"]) == {"type": "connection_ack"}


async def test_the_defaults_give_a_token_a_burst_of_40(
    runtime: Runtime, tokens: dict[str, str], clock: Clock, sql_counter: SqlCounter
) -> None:
    settings = Settings()
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (20, 40)
    assert (settings.auth_failures_per_minute, settings.auth_failure_burst) == (10, 20)
    async with calling(app_of(runtime, clock)) as http:
        for _ in range(40):
            assert (await viewer(http, tokens["all"])).status_code == 200
        assert_rate_limited(await viewer(http, tokens["all"]), TOO_MANY_CALLS, 1)
        clock.advance(0.1)  # two calls at 20 a second
        assert (await viewer(http, tokens["all"])).status_code == 200
        for attempt in range(20):
            assert (await viewer(http, f"chb_wrong-{attempt}")).status_code == 401
        with statements(sql_counter) as sent:
            refused = await viewer(http, tokens["all"])
        assert_rate_limited(refused, TOO_MANY_FAILURES, 6)
        assert sent == []


async def test_a_service_refusing_for_rate_is_a_top_level_error_with_retry_after(
    http: httpx.AsyncClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service's own allowance (hit checks per agency) answers like the gate, in the body."""

    async def exhausted(*_args: object, **_kwargs: object) -> None:
        raise RateLimited("Your agency used its allowance.", retry_after=2.2)

    monkeypatch.setattr(agencies, "list_agencies", exhausted)
    response = await http.post(
        "/graphql",
        json={"query": "{ agencies { edges { cursor } } }"},
        headers=bearer(tokens["all"]),
    )
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["message"] == "Your agency used its allowance."
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 3}
