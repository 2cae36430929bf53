"""Queries and mutations over the websocket (graphql-transport-ws), and its authentication by the
upgrade request's Authorization header: served as over HTTP, within the same limits, audited
the same way, drawing on the same per-token allowance."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import orjson
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from casehub.api.ids import to_global_id
from casehub.domain.enums import Role
from casehub.persistence.tables import AuditEventRow
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope
from tests.api.conftest import CASE_TREE
from tests.security.gate_support import (
    Clock,
    Socket,
    app_of,
    bearer,
    calling,
    socket,
    with_settings,
)

if TYPE_CHECKING:
    from tests.api.conftest import Api
    from tests.conftest import World

VIEWER = "{ viewer { name agency { code } } }"
READ_CASE = f"query($id: ID!) {{ node(id: $id) {{ ... on Case {{ {CASE_TREE} }} }} }}"
OPEN_CASE = """mutation($i: OpenCaseInput!) { openCase(input: $i) {
  case { id title } errors { code field message } } }"""
WAIT = 5.0


class Operations:
    """Queries and mutations over one graphql-transport-ws socket."""

    def __init__(self, sock: Socket) -> None:
        self.ws = sock.ws
        self.ids = itertools.count(1)

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any] | int:
        """The answer to connection_init: its message, or the code the server closed with."""
        await self.ws.send_json({"type": "connection_init", "payload": payload or {}})
        try:
            message: dict[str, Any] = await self.ws.receive_json(timeout=WAIT)
        except WebSocketDisconnect as closed:
            return closed.code
        return message

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The operation's answer: the `next` message (then `complete`) or the `error` one."""
        op_id = str(next(self.ids))
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
        answer: dict[str, Any] = await self.ws.receive_json(timeout=WAIT)
        assert answer["id"] == op_id, answer
        if answer["type"] == "next":
            assert await self.ws.receive_json(timeout=WAIT) == {"id": op_id, "type": "complete"}
        return answer

    async def result(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The `next` payload of an operation that ran."""
        answer = await self.run(query, variables)
        assert answer["type"] == "next", answer
        return answer["payload"]


@asynccontextmanager
async def operations(
    app: Starlette, token: str | None = None, init: dict[str, Any] | None = None
) -> AsyncIterator[Operations]:
    """An acknowledged socket, authenticated by the upgrade header (`token`) and/or `init`."""
    async with socket(app, bearer(token) if token else None) as sock:
        ops = Operations(sock)
        assert await ops.init(init) == {"type": "connection_ack"}
        yield ops


async def closed_with(app: Starlette, headers: dict[str, str] | None, init: dict[str, Any]) -> Any:
    async with socket(app, headers) as sock:
        return await Operations(sock).init(init)


async def latest_seq(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        chain = await scope.store.audit_log()
        return (chain[-1].seq or 0) if chain else 0


async def events_since(runtime: Runtime, seq: int) -> list[AuditEventRow]:
    async with open_scope(runtime) as scope:
        return list(await scope.store.audit_log(after_seq=seq))


def of_agency(events: list[AuditEventRow], agency: Any) -> list[tuple[Any, ...]]:
    """What the agency's principals did, as an audit reader sees it (sequence and time aside)."""
    return [
        (e.action, e.outcome, e.object_type, e.object_agency_id, e.actor_principal_id, e.details)
        for e in events
        if e.actor_agency_id == agency.uuid
    ]


async def test_the_upgrade_header_authenticates_the_socket(world: World, runtime: Runtime) -> None:
    police = await world.agency("POL")
    async with operations(app_of(runtime), police.token) as ops:
        payload = await ops.result(VIEWER)
    assert payload["data"]["viewer"]["agency"] == {"code": police.code}


async def test_header_and_connection_init_must_name_the_same_token(
    world: World, runtime: Runtime
) -> None:
    police, other = await world.agency("POL"), await world.agency("OTH")
    app = app_of(runtime)
    async with operations(app, police.token, {"token": police.token}) as ops:
        assert (await ops.result(VIEWER))["data"]["viewer"]["agency"]["code"] == police.code
    seq = await latest_seq(runtime)
    assert await closed_with(app, bearer(police.token), {"token": other.token}) == 4401
    failures = [e for e in await events_since(runtime, seq) if e.action == "auth.fail"]
    assert [json.loads(e.details)["reason"] for e in failures] == ["conflicting"]
    assert await closed_with(app, None, {}) == 4401  # neither: refused as before


async def test_a_wrong_or_revoked_header_token_is_refused_and_counts_as_a_failed_authentication(
    world: World, runtime: Runtime
) -> None:
    police = await world.agency("POL")
    async with open_scope(runtime) as scope:
        _id, revoked = await auth.issue_token(scope, agency_code=police.code, roles=[Role.READER])
        await auth.revoke_token(scope, token_or_id=revoked)
    app = app_of(with_settings(runtime, auth_failure_burst=2), Clock())
    seq = await latest_seq(runtime)
    assert await closed_with(app, bearer("chb_not_a_token"), {}) == 4401
    assert await closed_with(app, bearer(revoked), {}) == 4401
    reasons = [json.loads(e.details) for e in await events_since(runtime, seq)]
    assert {"reason": "unknown", "client": "127.0.0.1"} in reasons
    assert {"reason": "revoked", "client": "127.0.0.1"} in reasons
    # The address has spent its failures: even a valid token is turned away, on both transports.
    assert await closed_with(app, bearer(police.token), {}) == 4429
    async with calling(app) as http:
        response = await http.post("/graphql", json={"query": VIEWER}, headers=bearer(police.token))
    assert response.status_code == 429, response.text


async def test_a_token_revoked_since_connection_init_runs_nothing_more(
    world: World, runtime: Runtime
) -> None:
    police = await world.agency("POL")
    async with open_scope(runtime) as scope:
        _id, token = await auth.issue_token(scope, agency_code=police.code, roles=[Role.READER])
    async with socket(app_of(runtime), bearer(token)) as sock:
        ops = Operations(sock)
        assert await ops.init() == {"type": "connection_ack"}
        assert (await ops.result(VIEWER))["data"]["viewer"]["agency"]["code"] == police.code
        async with open_scope(runtime) as scope:
            await auth.revoke_token(scope, token_or_id=token)
        await sock.ws.send_json({"id": "x", "type": "subscribe", "payload": {"query": VIEWER}})
        try:
            answer = await sock.ws.receive_json(timeout=WAIT)
        except WebSocketDisconnect as closed:
            answer = closed.code
    assert answer == 4401


async def test_a_query_over_the_socket_answers_as_over_http(
    world: World, api: Api, runtime: Runtime
) -> None:
    police = await world.agency("POL")
    case_id = (await api.open_case(police.token))["id"]
    await api.populate(police.token, case_id)
    app = app_of(runtime)
    async with calling(app) as http:
        response = await http.post(
            "/graphql",
            json={"query": READ_CASE, "variables": {"id": case_id}},
            headers=bearer(police.token),
        )
    async with operations(app, police.token) as ops:
        payload = await ops.result(READ_CASE, {"id": case_id})
    assert payload == response.json()
    assert payload["data"]["node"]["summary"] == api.sample.summary


async def test_a_mutation_over_the_socket_is_written_and_audited_as_over_http(
    world: World, runtime: Runtime
) -> None:
    police = await world.agency("POL")
    app = app_of(runtime)
    case = {"reference": "WS-1", "title": "Over the socket", "summary": "-", "category": "FRAUD"}
    variables = {"i": case}
    seq = await latest_seq(runtime)
    async with calling(app) as http:
        response = await http.post(
            "/graphql",
            json={"query": OPEN_CASE, "variables": variables},
            headers=bearer(police.token),
        )
    over_http = of_agency(await events_since(runtime, seq), police)
    seq = await latest_seq(runtime)
    case["reference"] = "WS-2"
    async with operations(app, police.token) as ops:
        payload = await ops.result(OPEN_CASE, variables)
    over_socket = of_agency(await events_since(runtime, seq), police)
    assert response.json()["data"]["openCase"]["errors"] == []
    assert payload["data"]["openCase"]["errors"] == [], payload
    assert [event[:3] for event in over_socket] == [event[:3] for event in over_http]
    assert [event[0] for event in over_socket] == ["case.open"]
    async with operations(app, police.token) as ops:
        written = await ops.result(READ_CASE, {"id": payload["data"]["openCase"]["case"]["id"]})
    assert written["data"]["node"]["title"] == "Over the socket"


async def test_fields_decrypted_over_the_socket_are_in_the_read_audit_as_over_http(
    world: World, api: Api, runtime: Runtime
) -> None:
    owner, partner = await world.agency("OWN"), await world.agency("PRT")
    case_id = (await api.open_case(owner.token))["id"]
    await api.populate(owner.token, case_id)
    await api.shared(owner.token, case_id, partner.id, "FULL")
    app = app_of(runtime)
    seq = await latest_seq(runtime)
    async with calling(app) as http:
        response = await http.post(
            "/graphql",
            json={"query": READ_CASE, "variables": {"id": case_id}},
            headers=bearer(partner.token),
        )
    assert response.json()["data"]["node"]["summary"] == api.sample.summary
    over_http = of_agency(await events_since(runtime, seq), partner)
    seq = await latest_seq(runtime)
    async with operations(app, partner.token) as ops:
        payload = await ops.result(READ_CASE, {"id": case_id})
    assert payload["data"]["node"]["summary"] == api.sample.summary
    over_socket = of_agency(await events_since(runtime, seq), partner)
    assert over_socket == over_http
    assert {event[0] for event in over_socket} == {"field.decrypt"}


async def test_the_token_bucket_is_shared_by_http_and_the_socket(
    world: World, runtime: Runtime
) -> None:
    first, second = (await world.agency("ONE")).token, (await world.agency("TWO")).token
    app = app_of(with_settings(runtime, rate_limit_burst=3), Clock())  # the clock never refills
    async with calling(app) as http, operations(app, first) as ops:
        for _ in range(3):
            assert (
                await http.post("/graphql", json={"query": VIEWER}, headers=bearer(first))
            ).status_code == 200
        refused = await ops.run(VIEWER)
    assert refused["type"] == "error", refused
    assert refused["payload"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}

    async with calling(app) as http, operations(app, second) as ops:
        for _ in range(3):
            await ops.result(VIEWER)
        assert (await ops.run(VIEWER))["type"] == "error"
        response = await http.post("/graphql", json={"query": VIEWER}, headers=bearer(second))
    assert response.status_code == 429, response.text


async def test_operations_running_over_http_count_against_the_socket(
    world: World, runtime: Runtime
) -> None:
    police = await world.agency("POL")
    app = app_of(with_settings(runtime, max_concurrent_operations_per_token=1))
    release, reading = asyncio.Event(), asyncio.Event()
    body = orjson.dumps({"query": VIEWER})

    async def receive() -> dict[str, Any]:
        reading.set()  # past the gate, holding the token's one place
        await release.wait()
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(_message: MutableMapping[str, Any]) -> None:
        pass

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
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {police.token}".encode()),
        ],
        "client": ("127.0.0.1", 123),
        "server": ("casehub.test", 80),
    }
    async with operations(app, police.token) as ops:
        held = asyncio.create_task(app(scope, receive, send))
        await asyncio.wait_for(reading.wait(), WAIT)
        refused = await ops.run(VIEWER)
        release.set()
        await held
        served = await ops.result(VIEWER)  # the place is given back
    assert refused["type"] == "error", refused
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
    assert "operations running" in error["message"]
    assert served["data"]["viewer"]["agency"]["code"] == police.code


async def test_an_over_cost_query_is_refused_with_the_code_http_gives(
    world: World, runtime: Runtime
) -> None:
    police = await world.agency("POL")
    app = app_of(with_settings(runtime, max_query_cost=50))
    costly = "{ cases(first: 100) { edges { node { id title } } } }"
    async with calling(app) as http:
        response = await http.post("/graphql", json={"query": costly}, headers=bearer(police.token))
    [over_http] = response.json()["errors"]
    async with operations(app, police.token) as ops:
        refused = await ops.run(costly)
    assert refused["type"] == "error", refused
    [over_socket] = refused["payload"]
    assert over_socket["extensions"] == over_http["extensions"]
    assert over_socket["extensions"]["code"] == "LIMIT_EXCEEDED"


async def test_an_answer_over_the_response_cap_is_not_sent(world: World, runtime: Runtime) -> None:
    police = await world.agency("POL")
    app = app_of(with_settings(runtime, max_response_bytes=2048))
    many = {"ids": [to_global_id("Case", uuid4())] * 100}
    query = (
        "query($ids: [ID!]!) { "
        + " ".join(f"a{n}: nodes(ids: $ids) {{ id }}" for n in range(5))
        + " }"
    )
    async with operations(app, police.token) as ops:
        payload = await ops.result(query, many)
        small = await ops.result(VIEWER)
    assert payload["data"] is None
    [error] = payload["errors"]
    assert error["extensions"] == {
        "code": "RESPONSE_TOO_LARGE",
        "limit": "responseBytes",
        "max": 2048,
    }
    assert small["data"]["viewer"]["agency"]["code"] == police.code


async def test_another_agency_sees_nothing_of_a_case_over_the_socket(
    world: World, api: Api, runtime: Runtime
) -> None:
    owner, outsider = await world.agency("OWN"), await world.agency("OUT")
    case_id = (await api.open_case(owner.token))["id"]
    async with operations(app_of(runtime), outsider.token) as ops:
        payload = await ops.result(READ_CASE, {"id": case_id})
    assert payload == {"data": {"node": None}, "extensions": payload["extensions"]}


async def test_uploads_stay_on_http(world: World, api: Api, runtime: Runtime) -> None:
    police = await world.agency("POL")
    case_id = (await api.open_case(police.token))["id"]
    document = """mutation($i: AddEvidenceInput!) { addEvidence(input: $i) {
      evidence { id } errors { code field message } } }"""
    variables = {"i": {"caseId": case_id, "kind": "DOCUMENT", "title": "x", "content": "aGk="}}
    async with operations(app_of(runtime), police.token) as ops:
        payload = await ops.result(document, variables)
    [error] = payload["data"]["addEvidence"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["content"]), error
    assert "multipart upload" in error["message"]
