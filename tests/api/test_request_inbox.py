"""The live inbox over a real websocket (graphql-transport-ws, in process): who receives which
request events, authentication at connection_init, protocol and limits, resuming with since."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from casehub.api.http.routes import MAX_SUBSCRIPTIONS_PER_CONNECTION
from casehub.app import create_app
from casehub.config import Settings
from casehub.services.agencies import auth
from casehub.services.requests import inbox
from casehub.services.runtime import Runtime, open_scope

PROTOCOL = "graphql-transport-ws"
URL = "http://casehub.test/graphql"
SUBSCRIPTION = """subscription($since: Int) { cooperationRequestEvents(since: $since) {
  seq number action fromStatus toStatus requestId actorAgency { code } receipt { digest } } }"""
CREATE = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i) {
  request { id status } errors { code field message } } }"""
STEP = """mutation($id: ID!) { %s(input: {id: $id}) { request { status } errors { code } } }"""
MESSAGE = """mutation($id: ID!) { addCooperationMessage(input: {id: $id, body: "Any update?"}) {
  errors { code } } }"""
WAIT = 5.0  # seconds an expected message may take
QUIET = 1.0  # seconds of silence that show nothing more is coming


@pytest.fixture
def app(settings: Settings, runtime: Runtime) -> Starlette:
    """The real ASGI app, to open websockets to in process."""
    return create_app(settings, runtime=runtime)


class Socket:
    """A graphql-transport-ws client on one websocket."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def receive(self, within: float = WAIT) -> dict[str, Any]:
        message: dict[str, Any] = await self.ws.receive_json(timeout=within)
        return message

    async def init(self, payload: dict[str, Any]) -> None:
        await self.send({"type": "connection_init", "payload": payload})
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(self, op_id: str = "1", since: int | None = None) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": SUBSCRIPTION, "variables": {"since": since}},
            }
        )

    async def event(self, op_id: str = "1") -> dict[str, Any]:
        message = await self.receive()
        assert (message["type"], message["id"]) == ("next", op_id), message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["cooperationRequestEvents"]
        return event

    async def silent(self, seconds: float = QUIET) -> None:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")

    async def close_code(self) -> int:
        """The code the server closes with (it must close within WAIT seconds)."""
        try:
            message = await self.receive()
        except WebSocketDisconnect as closed:
            return closed.code
        raise AssertionError(f"expected the server to close, got {message}")


@asynccontextmanager
async def socket(app: Starlette, subprotocols: list[str] | None = None) -> AsyncIterator[Socket]:
    """A websocket to the app (its transport's task group lives in this task)."""
    transport = ASGIWebSocketTransport(app=app)
    ws: AsyncWebSocketSession
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as client,
        aconnect_ws(
            URL,
            client,
            subprotocols=[PROTOCOL] if subprotocols is None else subprotocols,
            keepalive_ping_interval_seconds=None,
        ) as ws,
    ):
        yield Socket(ws)


@asynccontextmanager
async def inbox_of(app: Starlette, token: str, since: int | None) -> AsyncIterator[Socket]:
    async with socket(app) as sock:
        await sock.init({"Authorization": f"Bearer {token}"})
        await sock.subscribe(since=since)
        yield sock


async def latest_seq(runtime: Runtime, token: str) -> int:
    """The newest event's seq right now (subscribing after it is deterministic)."""
    async with open_scope(runtime) as scope:
        scope.principal = await auth.authenticate(runtime, scope, f"Bearer {token}")
        return await inbox.latest_seq(scope)


async def create(gql, token: str, requested_id: str) -> str:
    body = await gql(
        token,
        CREATE,
        {
            "i": {
                "requestedAgencyId": requested_id,
                "kind": "INFORMATION_REQUEST",
                "priority": "ROUTINE",
                "title": "Subscriber of the channel admin",
                "body": "Who registered the account?",
            }
        },
    )
    payload = body["data"]["createCooperationRequest"]
    assert payload["errors"] == [], payload
    request_id: str = payload["request"]["id"]
    return request_id


async def step(gql, token: str, name: str, request_id: str) -> None:
    body = await gql(token, STEP % name, {"id": request_id})
    assert body["data"][name]["errors"] == [], body


async def test_each_party_receives_what_it_may_see_and_a_third_agency_nothing(world, gql, app):
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    other = await world.agency("OTH", "FR")
    since = await latest_seq(world.runtime, police.token)
    async with (
        inbox_of(app, police.tokens["READER"], since) as requester,
        inbox_of(app, platform.tokens["LIAISON_OFFICER"], since) as requested,
        inbox_of(app, other.token, 0) as third,  # even from the beginning: nothing of theirs
    ):
        request_id = await create(gql, police.token, platform.id)
        await step(gql, police.token, "submitCooperationRequest", request_id)

        created, submitted = await requester.event(), await requester.event()
        assert (created["action"], created["toStatus"]) == ("CREATE", "DRAFT")
        assert (submitted["action"], submitted["fromStatus"]) == ("SUBMIT", "DRAFT")
        assert created["requestId"] == submitted["requestId"] == request_id
        assert submitted["actorAgency"]["code"] == police.code
        assert submitted["seq"] > created["seq"] > since

        # The requested agency never learns of the draft: its first event is the submission.
        first = await requested.event()
        assert first == submitted
        await requested.silent()
        await requester.silent(0.1)
        await third.silent(0.1)


async def test_since_null_means_from_now_on(world, gql, app):
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    request_id = await create(gql, police.token, platform.id)  # before subscribing
    async with inbox_of(app, police.token, None) as requester:
        await requester.silent(0.5)  # the draft's CREATE is history, not news
        await step(gql, police.token, "submitCooperationRequest", request_id)
        assert (await requester.event())["action"] == "SUBMIT"
        await requester.silent(0.2)


async def test_reconnecting_with_since_misses_nothing_and_repeats_nothing(world, gql, app):
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    since = await latest_seq(world.runtime, police.token)
    request_id = await create(gql, police.token, platform.id)
    async with inbox_of(app, platform.token, since) as requested:
        await step(gql, police.token, "submitCooperationRequest", request_id)
        last = await requested.event()
        assert last["action"] == "SUBMIT"
    # Disconnected: two steps happen meanwhile.
    body = await gql(police.token, MESSAGE, {"id": request_id})
    assert body["data"]["addCooperationMessage"]["errors"] == [], body
    await step(gql, platform.token, "acknowledgeCooperationRequest", request_id)
    async with inbox_of(app, platform.token, last["seq"]) as requested:
        missed = [await requested.event(), await requested.event()]
        assert [event["action"] for event in missed] == ["MESSAGE", "ACKNOWLEDGE"]
        await step(gql, platform.token, "acceptCooperationRequest", request_id)
        live = await requested.event()
        assert live["action"] == "ACCEPT"
        await requested.silent()
    seqs = [last["seq"]] + [event["seq"] for event in [*missed, live]]
    assert seqs == sorted(set(seqs)), seqs
    assert [event["number"] for event in [*missed, live]] == [3, 4, 5]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer chb_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"token": ""},
        {"token": 42},
    ],
    ids=["none", "unknown", "not-bearer", "empty", "not-a-string"],
)
async def test_connection_init_without_a_valid_token_is_closed_4401(app, payload):
    async with socket(app) as sock:
        await sock.send({"type": "connection_init", "payload": payload})
        assert await sock.close_code() == 4401


async def test_every_documented_payload_shape_authenticates(world, app):
    police = await world.agency("POL", "MY")
    for payload in (
        {"Authorization": f"Bearer {police.token}"},
        {"authorization": f"Bearer {police.token}"},
        {"token": police.token},
    ):
        async with socket(app) as sock:
            await sock.init(payload)


async def test_subscribing_before_connection_init_is_closed_4401(app):
    async with socket(app) as sock:
        await sock.subscribe()
        assert await sock.close_code() == 4401


async def test_a_token_without_an_agency_role_is_closed_4403(world, app):
    hub = await world.agency("HUB", "INT")
    async with socket(app) as sock:
        await sock.send({"type": "connection_init", "payload": {"token": hub.tokens["HUB_ADMIN"]}})
        assert await sock.close_code() == 4403


async def test_a_revoked_token_ends_the_subscription(world, gql, app, runtime):
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    token = police.tokens["READER"]
    async with inbox_of(app, token, await latest_seq(runtime, token)) as requester:
        async with open_scope(runtime) as scope:
            await auth.revoke_token(scope, token_or_id=token)
        await create(gql, police.token, platform.id)  # wakes the subscriber
        message = await requester.receive()
        assert message["type"] == "next", message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await requester.receive() == {"id": "1", "type": "complete"}


@pytest.mark.parametrize("subprotocols", [["graphql-ws"], []], ids=["legacy", "none"])
async def test_only_graphql_transport_ws_is_spoken(app, subprotocols):
    async with socket(app, subprotocols) as sock:
        assert await sock.close_code() == 4406


async def test_at_most_ten_subscriptions_per_connection(world, app):
    police = await world.agency("POL", "MY")
    async with socket(app) as sock:
        await sock.init({"token": police.token})
        for number in range(1, MAX_SUBSCRIPTIONS_PER_CONNECTION + 1):
            await sock.subscribe(str(number))
        await sock.subscribe("11")
        refused = await sock.receive()
        assert (refused["type"], refused["id"]) == ("error", "11"), refused
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        await sock.silent(0.2)  # the ten others stay
    assert MAX_SUBSCRIPTIONS_PER_CONNECTION == 10


async def test_subscribing_spends_the_token_bucket_http_requests_spend(world, settings, runtime):
    """Issue 11 item 9: 300 subscribe/complete cycles went through in 5.5 s on one connection.
    Each `subscribe` now draws from the token's bucket: on a clock that never refills it, the
    burst passes, every later subscribe is refused alone (RATE_LIMITED, retryAfter) while the
    connection lives on, and HTTP requests with the token are refused too (the same bucket)."""
    police = await world.agency("POL", "MY")
    app = create_app(settings, runtime=runtime, monotonic=lambda: 0.0)
    burst, extra = settings.rate_limit_burst, 20
    outcomes, refusals = [], []
    async with socket(app) as sock:
        await sock.init({"token": police.token})
        for number in range(burst + extra):
            op_id = f"op{number}"
            await sock.subscribe(op_id)
            await sock.send({"type": "ping"})  # answered after the subscribe is handled
            first = await sock.receive()
            if first["type"] == "error":
                assert first["id"] == op_id, first
                refusals.append(first["payload"])
                assert await sock.receive() == {"type": "pong"}
                outcomes.append("refused")
            else:
                assert first == {"type": "pong"}, first
                await sock.send({"id": op_id, "type": "complete"})
                outcomes.append("served")
        await sock.send({"type": "ping"})  # still open
        assert await sock.receive() == {"type": "pong"}
    assert outcomes == ["served"] * burst + ["refused"] * extra
    assert refusals[0] == [
        {
            "message": "Too many requests with this token. Retry in 1 s.",
            "extensions": {"code": "RATE_LIMITED", "retryAfter": 1},
        }
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://casehub.test"
    ) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": f"Bearer {police.token}"},
        )
    assert response.status_code == 429, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_subscription_over_http_is_refused(world, gql):
    police = await world.agency("POL", "MY")
    body = await gql(police.token, SUBSCRIPTION, {"since": 0})
    assert "graphql-transport-ws" in body["errors"][0]["message"], body


async def test_a_negative_since_is_a_validation_error(world, app):
    police = await world.agency("POL", "MY")
    async with inbox_of(app, police.token, -1) as sock:
        message = await sock.receive()
        assert message["payload"]["errors"][0]["extensions"]["code"] == "VALIDATION", message
        assert await sock.receive() == {"id": "1", "type": "complete"}


async def test_the_wait_is_bounded_by_a_recheck(world, gql, runtime, monkeypatch):
    """A lost wake-up (another process wrote, nothing announced) delays, never drops."""
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    async with open_scope(runtime) as scope:
        scope.principal = await auth.authenticate(runtime, scope, f"Bearer {police.token}")
        principal, since = scope.principal, await inbox.latest_seq(scope)

    async def no_announcement(_seq: int) -> None:
        return None

    monkeypatch.setattr(runtime.bus, "published", no_announcement)
    feed = inbox.follow(runtime, principal, since=since, recheck=0.2)
    try:
        reader = asyncio.ensure_future(anext(feed))
        await asyncio.sleep(0.1)
        await create(gql, police.token, platform.id)
        _scope, events = await asyncio.wait_for(reader, WAIT)
        assert [event.action.value for event in events] == ["CREATE"]
    finally:
        await feed.aclose()
