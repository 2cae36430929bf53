"""Two `casehub serve` replicas behind nginx (deploy/nginx/casehub.conf) sharing one PostgreSQL:
when one replica is killed, a client loop through nginx loses no acknowledged write (only the
requests in flight on it fail, and their retry succeeds), and a subscription through nginx
resumes with `since` on the survivor without missing or repeating an event."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from casehub.crypto import create_keyring
from casehub.persistence import migrate
from tests.integration.servers import (
    CREATE,
    PLATFORM,
    POLICE,
    SUBMIT,
    Hub,
    Nginx,
    answered_by,
    connect_graphql_ws,
    post,
    receive,
    subscribe,
)
from tests.postgres import fresh_postgres, require_postgres

pytestmark = pytest.mark.postgres

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "casehub.conf"
APT_SECONDS = 300
WORKERS = 4  # concurrent writers: at most this many requests are in flight at the kill
WRITES_PER_WORKER = 40
RETRY_PAUSE = 0.3  # seconds before retrying a request the killed replica dropped
WAIT = 10.0  # seconds any single expected event or close may take
TAKEN = "already has a case with this reference"
OPEN_CASE = """mutation($i: OpenCaseInput!) { openCase(input: $i) {
  case { id } errors { code message } } }"""
CASES = """query($after: String) { cases(first: 100, after: $after) {
  edges { node { id reference } } pageInfo { hasNextPage endCursor } } }"""
INBOX = """subscription($since: Int) { cooperationRequestEvents(since: $since) {
  seq action requestId } }"""


def unavailable(reason: str) -> NoReturn:
    """Skip the test where nginx cannot be had, but fail in CI, which must run it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the multi-replica test")
    pytest.skip(f"{reason}; the multi-replica test is skipped")


def find_nginx() -> str | None:
    """nginx's path; /usr/sbin is searched too, since it is not on every user's PATH."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("nginx", path=path)


def apt_get(*args: str) -> str | None:
    """Run apt-get non-interactively; None on success, else why it failed."""
    command = ["apt-get", "-o", "DPkg::Lock::Timeout=120", *args]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=APT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`{' '.join(command)}` failed: {error}"
    if result.returncode != 0:
        return f"`{' '.join(command)}` exited {result.returncode}: {result.stderr[-500:]}"
    return None


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """nginx, installed from Debian's packages when it is missing."""
    require_postgres("the multi-replica test")  # install nothing for a test that cannot run
    found = find_nginx()
    if found:
        return found
    if shutil.which("apt-get") is None:
        unavailable("nginx is not installed and there is no apt-get to install it")
    if os.geteuid() != 0:
        unavailable("nginx is not installed and installing it needs root (apt-get install nginx)")
    install = ("install", "-y", "--no-install-recommends", "nginx")
    failure = apt_get(*install)
    if failure:
        # A fresh image has no package lists yet.
        failure = apt_get("update") or apt_get(*install)
    found = find_nginx()
    if failure or not found:
        unavailable(f"nginx could not be installed: {failure or 'no nginx binary afterwards'}")
    return found


@dataclass
class World:
    """The shared database, keyring and CLI, with a police force and a platform."""

    hub: Hub
    police_token: str
    platform_token: str
    platform_id: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A fresh migrated PostgreSQL database, a keyring and two agencies, for this module."""
    require_postgres("the multi-replica test")
    with fresh_postgres("casehub_replicas") as url:
        root = tmp_path_factory.mktemp("replicas")
        create_keyring(root / "keyring.json")
        migrate.upgrade(url)
        # One client token does all the writes: per-token rate limits are not under test here.
        hub = Hub(
            root,
            url,
            CASEHUB_RATE_LIMIT_PER_SECOND="10000",
            CASEHUB_RATE_LIMIT_BURST="10000",
        )
        hub.agency(*POLICE)
        platform_id = hub.agency(*PLATFORM)
        yield World(
            hub=hub,
            police_token=hub.token(POLICE[0], "INVESTIGATOR", "LIAISON_OFFICER"),
            platform_token=hub.token(PLATFORM[0], "LIAISON_OFFICER"),
            platform_id=platform_id,
        )


@dataclass
class Cluster:
    """Two replicas and nginx in front of them."""

    hub: Hub
    replicas: list[str]
    nginx: Nginx

    def holder(self, ws: ClientConnection) -> str:
        """The replica that took the websocket's handshake: its base URL."""
        # nginx names it in X-Upstream, which the test's copy of the site file adds; a 101 has
        # no body, and the access log is written only when the websocket closes.
        assert ws.response is not None
        base = f"http://{answered_by(ws.response.headers['X-Upstream'])}"
        assert base in self.replicas, (base, self.replicas)
        return base


@pytest.fixture
def cluster(world: World, nginx_binary: str, tmp_path: Path) -> Iterator[Cluster]:
    """Two fresh replicas on the module's database, behind a fresh nginx."""
    assert SITE.is_file(), f"{SITE} is missing: the test runs the deployed nginx site file"
    hub = world.hub
    nginx = None
    try:
        replicas = [hub.serve(), hub.serve()]
        for base in replicas:
            hub.wait_ready(base)
        nginx = Nginx(nginx_binary, tmp_path, SITE.read_text(), replicas)
        nginx.wait_ready()
        yield Cluster(hub, replicas, nginx)
    finally:
        if nginx is not None:
            nginx.stop()
        hub.stop()


class Dropped(Exception):
    """A request that got no answer from a replica: a transport error or nginx's 502/504."""


async def open_case(client: httpx.AsyncClient, token: str, reference: str) -> str | None:
    """Open a case through nginx; its id, or None when the reference is taken already."""
    variables = {
        "i": {
            "reference": reference,
            "title": f"Channel network {reference}",
            "summary": "Deposits routed through a mule wallet.",
            "category": "INVESTMENT_SCAM",
        }
    }
    try:
        response = await client.post(
            "/graphql",
            json={"query": OPEN_CASE, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.TransportError as error:
        raise Dropped(repr(error)) from error
    if response.status_code in (502, 504):
        raise Dropped(f"HTTP {response.status_code}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["openCase"]
    if payload["errors"]:
        assert [TAKEN in error["message"] for error in payload["errors"]] == [True], payload
        return None
    case_id: str = payload["case"]["id"]
    return case_id


@dataclass
class Writes:
    """What the client loop saw: acknowledged writes and the requests that were dropped."""

    total: int
    # reference → case id; None: a dropped try had committed it before its replica died.
    acknowledged: dict[str, str | None] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    halfway: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledge(self, reference: str, case_id: str | None) -> None:
        """Record an acknowledged write."""
        self.acknowledged[reference] = case_id
        if len(self.acknowledged) >= self.total // 2:
            self.halfway.set()


async def write(client: httpx.AsyncClient, token: str, worker: int, writes: Writes) -> None:
    """One writer: its cases one after the other, each dropped one retried once."""
    for number in range(WRITES_PER_WORKER):
        reference = f"MR-{worker}-{number:03}"
        try:
            case_id = await open_case(client, token, reference)
            assert case_id is not None, f"{reference} was taken on the first try"
        except Dropped as error:
            writes.dropped.append(f"{reference}: {error}")
            await asyncio.sleep(RETRY_PAUSE)
            # The dropped try may have committed before the kill: then the reference is taken.
            case_id = await open_case(client, token, reference)
        writes.acknowledge(reference, case_id)


async def kill_midway(cluster: Cluster, victim: str, writes: Writes) -> int:
    """SIGKILL the victim once half the writes are acknowledged; how many were by then."""
    await asyncio.wait_for(writes.halfway.wait(), 60)
    cluster.hub.kill(victim)
    return len(writes.acknowledged)


async def stored_cases(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    """Every case the police force holds, read through nginx: reference → id."""
    cases: dict[str, str] = {}
    after = None
    for _page in range(100):
        data = await post(client, token, CASES, {"after": after})
        cases.update((e["node"]["reference"], e["node"]["id"]) for e in data["cases"]["edges"])
        if not data["cases"]["pageInfo"]["hasNextPage"]:
            return cases
        after = data["cases"]["pageInfo"]["endCursor"]
    raise AssertionError("more pages of cases than the test wrote")


async def test_a_client_loop_loses_no_acknowledged_write_when_a_replica_dies(
    cluster: Cluster, world: World
) -> None:
    total = WORKERS * WRITES_PER_WORKER
    writes = Writes(total)
    victim, survivor = cluster.replicas
    async with httpx.AsyncClient(base_url=cluster.nginx.base, timeout=30) as client:
        killer = asyncio.create_task(kill_midway(cluster, victim, writes))
        try:
            await asyncio.gather(
                *(write(client, world.police_token, worker, writes) for worker in range(WORKERS))
            )
            killed_at = await killer
        finally:
            killer.cancel()  # a no-op unless a writer failed before the kill
        stored = await stored_cases(client, world.police_token)

    answered = cluster.nginx.requests()
    report = (writes.dropped, [row for row in answered if row[1] != 200])
    assert total // 2 <= killed_at < total, report  # the kill came mid-loop
    assert len(writes.acknowledged) == total, report
    # Only the requests in flight on the victim failed: one per writer at most.
    assert len(writes.dropped) <= WORKERS, report
    for reference, case_id in writes.acknowledged.items():
        assert reference in stored, (reference, report)
        assert case_id in (None, stored[reference]), (reference, report)
    assert len(stored) == total, report
    served = {replica for _method, status, replica in answered if status == 200}
    # Both replicas answered writes: the loop really ran through the one that was killed.
    assert {base.removeprefix("http://") for base in (victim, survivor)} <= served, report


async def send_request(client: httpx.AsyncClient, world: World, title: str) -> str:
    """Create and submit an information request to the platform; its id."""
    created = await post(
        client,
        world.police_token,
        CREATE,
        {
            "i": {
                "requestedAgencyId": world.platform_id,
                "kind": "INFORMATION_REQUEST",
                "priority": "URGENT",
                "title": title,
                "body": "Who registered the account?",
            }
        },
    )
    assert created["createCooperationRequest"]["errors"] == [], created
    request_id: str = created["createCooperationRequest"]["request"]["id"]
    submitted = await post(client, world.police_token, SUBMIT, {"id": request_id})
    assert submitted["submitCooperationRequest"]["errors"] == [], submitted
    return request_id


async def send_requests(
    client: httpx.AsyncClient, world: World, label: str, count: int
) -> list[str]:
    """Send `count` requests one after the other; their ids."""
    return [await send_request(client, world, f"{label} {n}") for n in range(count)]


def record(message: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Keep a subscription's event."""
    assert message["type"] == "next", message
    events.append(message["payload"]["data"]["cooperationRequestEvents"])


async def collect(ws: ClientConnection, events: list[dict[str, Any]], ids: list[str]) -> None:
    """Read events until every request in `ids` has had one."""
    deadline = time.monotonic() + WAIT
    while not set(ids) <= {event["requestId"] for event in events}:
        record(await receive(ws, max(0.01, deadline - time.monotonic())), events)


async def drain(ws: ClientConnection, events: list[dict[str, Any]]) -> None:
    """Read what a connection whose replica died still delivers, until nginx closes it."""
    deadline = time.monotonic() + WAIT
    with contextlib.suppress(ConnectionClosed):
        while True:
            record(await receive(ws, max(0.01, deadline - time.monotonic())), events)


async def test_a_subscription_through_nginx_resumes_after_its_replica_dies(
    cluster: Cluster, world: World
) -> None:
    events: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=cluster.nginx.base, timeout=30) as client:
        async with connect_graphql_ws(cluster.nginx.base) as ws:
            holder = cluster.holder(ws)
            await subscribe(ws, world.platform_token, INBOX, {"since": 0})
            sent = await send_requests(client, world, "Before", 3)
            await collect(ws, events, sent)
            # Committed, and perhaps delivered, just before the crash: whatever did not reach
            # the client must come after the resume.
            sent += await send_requests(client, world, "Racing the crash", 2)
            cluster.hub.kill(holder)
            await drain(ws, events)
        before_resume = len(events)
        sent += await send_requests(client, world, "While disconnected", 3)
        async with connect_graphql_ws(cluster.nginx.base) as ws:
            resumed_on = cluster.holder(ws)
            await subscribe(ws, world.platform_token, INBOX, {"since": events[-1]["seq"]})
            await collect(ws, events, sent)
            sent += await send_requests(client, world, "After the resume", 2)
            await collect(ws, events, sent)
            with pytest.raises(TimeoutError):  # nothing further: no event comes twice
                await receive(ws, 1.0)

    assert resumed_on != holder
    assert [event["requestId"] for event in events] == sent, (before_resume, events)
    assert {event["action"] for event in events} == {"SUBMIT"}
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(set(seqs)), seqs  # in commit order, none twice
