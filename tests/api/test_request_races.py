"""Concurrent transitions on one request, through a real `casehub serve` process.

Two HTTP clients fire two steps at the same SUBMITTED request at once, 50 times for accept vs
decline and 50 times for accept vs accept, on SQLite and on PostgreSQL. Each race has exactly one
winner; the loser gets CONFLICT (or INVALID_TRANSITION when it already sees the new state); the
request's event chain holds exactly one step after SUBMIT, numbered without gaps. (When the
scheduler lets an accept commit before the decline starts, there was no race: both hold, in that
order, since an accepted request may still be declined.)
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from casehub.config import Settings
from casehub.domain.enums import AgencyKind

CASEHUB = Path(sys.executable).parent / "casehub"
RACES = 50

CREATE = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i)
  { request { id status } errors { code field message } } }"""
SUBMIT = """mutation($id: ID!) { submitCooperationRequest(input: {id: $id})
  { request { id status } errors { code field message } } }"""
ACCEPT = """mutation($id: ID!) { acceptCooperationRequest(input: {id: $id})
  { request { id status } errors { code field message } } }"""
DECLINE = """mutation($id: ID!) { declineCooperationRequest(input: {id: $id, reason: "No."})
  { request { id status } errors { code field message } } }"""
EVENTS = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  status version events { number action fromStatus toStatus receipt { digest prevDigest } } } } }"""

STEPS = {
    "accept": ("acceptCooperationRequest", ACCEPT, "ACCEPT", "ACCEPTED"),
    "decline": ("declineCooperationRequest", DECLINE, "DECLINE", "DECLINED"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`casehub serve` on a free loopback port, on the database of the engine under test."""
    home = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = dict(os.environ)
    env["CASEHUB_DATABASE_URL"] = settings.database_url
    env["CASEHUB_KEYRING"] = str(settings.keyring)
    # Races measure the state machine, not the per-token rate limit.
    env["CASEHUB_RATE_LIMIT_PER_SECOND"] = "10000"
    env["CASEHUB_RATE_LIMIT_BURST"] = "10000"
    env["CASEHUB_SIGNED_STEPS"] = settings.signed_steps.value
    log_path = home / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CASEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
            yield base
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _client(base: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


async def _submitted(http: httpx.AsyncClient, requested_id: str, count: int) -> list[str]:
    """`count` new SUBMITTED requests to the requested agency."""
    ids = []
    for index in range(count):
        created = await _post(
            http,
            CREATE,
            {
                "i": {
                    "requestedAgencyId": requested_id,
                    "kind": "INFORMATION_REQUEST",
                    "title": f"Race {index}",
                    "body": "Who registered the account?",
                }
            },
        )
        payload = created["createCooperationRequest"]
        assert payload["errors"] == [], payload
        request_id: str = payload["request"]["id"]
        submitted = await _post(http, SUBMIT, {"id": request_id})
        assert submitted["submitCooperationRequest"]["errors"] == [], submitted
        ids.append(request_id)
    return ids


async def _race(world: Any, server: str, first: str, second: str) -> Counter[str]:
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE", AgencyKind.SERVICE_PROVIDER)
    outcomes: Counter[str] = Counter()
    async with (
        _client(server, police.tokens["LIAISON_OFFICER"]) as requester,
        _client(server, platform.tokens["LIAISON_OFFICER"]) as one,
        _client(server, platform.tokens["AGENCY_ADMIN"]) as other,
    ):
        ids = await _submitted(requester, platform.id, RACES)
        # Open both connections before the first race.
        await asyncio.gather(one.get("/healthz"), other.get("/healthz"))
        for request_id in ids:
            (name_a, query_a, action_a, status_a) = STEPS[first]
            (name_b, query_b, action_b, status_b) = STEPS[second]
            got_a, got_b = await asyncio.gather(
                _post(one, query_a, {"id": request_id}),
                _post(other, query_b, {"id": request_id}),
            )
            a, b = got_a[name_a], got_b[name_b]
            winners = [
                (payload, action, status)
                for payload, action, status in ((a, action_a, status_a), (b, action_b, status_b))
                if not payload["errors"]
            ]
            if len(winners) == 2:
                # No race after all: one step committed before the other began, and a request
                # may be declined once accepted. The chain then holds both, in that order.
                assert {action_a, action_b} == {"ACCEPT", "DECLINE"}, (request_id, a, b)
                seen = (await _post(requester, EVENTS, {"id": request_id}))["node"]
                steps = [(e["action"], e["fromStatus"], e["toStatus"]) for e in seen["events"]]
                assert steps[2:] == [
                    ("ACCEPT", "SUBMITTED", "ACCEPTED"),
                    ("DECLINE", "ACCEPTED", "DECLINED"),
                ], seen
                outcomes["ACCEPT then DECLINE"] += 1
                continue
            assert len(winners) == 1, (request_id, a, b)
            won, action, status = winners[0]
            lost = b if won is a else a
            assert won["request"]["status"] == status, won
            assert lost["request"] is None, lost
            assert len(lost["errors"]) == 1, lost
            code = lost["errors"][0]["code"]
            assert code in ("CONFLICT", "INVALID_TRANSITION"), lost
            outcomes[f"{action}:{code}"] += 1

            seen = (await _post(requester, EVENTS, {"id": request_id}))["node"]
            assert seen["status"] == status, seen
            events = seen["events"]
            assert [event["number"] for event in events] == list(range(1, len(events) + 1))
            assert [event["action"] for event in events] == ["CREATE", "SUBMIT", action], seen
            assert events[-1]["fromStatus"] == "SUBMITTED"
            assert events[-1]["toStatus"] == status
            assert all(
                later["receipt"]["prevDigest"] == earlier["receipt"]["digest"]
                for earlier, later in itertools.pairwise(events)
            ), events
    assert sum(outcomes.values()) == RACES
    return outcomes


async def test_accept_vs_decline(world, server):
    outcomes = await _race(world, server, "accept", "decline")
    print("accept vs decline:", dict(outcomes))


async def test_accept_vs_accept(world, server):
    outcomes = await _race(world, server, "accept", "accept")
    print("accept vs accept:", dict(outcomes))
