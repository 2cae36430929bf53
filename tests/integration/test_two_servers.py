"""Two `casehub serve` processes sharing one PostgreSQL database: a request submitted through
process A reaches a live subscriber on process B within 2 seconds (LISTEN/NOTIFY fan-out)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from casehub.crypto import create_keyring
from casehub.persistence import migrate
from tests.postgres import fresh_postgres, require_postgres

pytestmark = pytest.mark.postgres

CASEHUB = Path(sys.executable).parent / "casehub"
# The same server the rest of the PostgreSQL suite uses (see tests/conftest.py).
LATENCY = 2.0  # seconds from sending the mutation to A until B's subscriber has the event
ROUNDS = 3  # several rounds, so that a periodic re-check cannot pass for a notification
SUBSCRIPTION = """subscription { cooperationRequestEvents(since: 0) {
  seq action toStatus requestId actorAgency { code } } }"""
CREATE = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i) {
  request { id } errors { code message } } }"""
SUBMIT = """mutation($id: ID!) { submitCooperationRequest(input: {id: $id}) {
  request { status } errors { code message } } }"""


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test only, dropped at the end."""
    require_postgres("the two-server test")
    with fresh_postgres("casehub_two") as url:
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Hub:
    """The keyring and database both servers and the CLI share."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.env = {key: value for key, value in os.environ.items() if key[:8] != "CASEHUB_"}
        self.env.update(CASEHUB_DATABASE_URL=url, CASEHUB_KEYRING=str(root / "keyring.json"))
        self.servers: list[tuple[subprocess.Popen[bytes], Path]] = []

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [str(CASEHUB), *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout.strip()

    def serve(self) -> str:
        """Start `casehub serve` on a free loopback port; returns its base URL."""
        port = free_port()
        log = self.root / f"serve-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(CASEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=self.env,
                cwd=self.root,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.servers.append((process, log))
        return f"http://127.0.0.1:{port}"

    def wait_ready(self, base: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for process, log in self.servers:
                assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{base} did not become ready: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(log.read_text() for _process, log in self.servers)

    def stop(self) -> None:
        for process, _log in self.servers:
            if process.poll() is None:
                process.terminate()
        for process, _log in self.servers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


async def receive(ws: ClientConnection, within: float) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


async def post(client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def submit_through_a_and_watch_b(
    base_a: str, base_b: str, police_token: str, platform_token: str, platform_id: str
) -> list[float]:
    latencies = []
    ws_url = base_b.replace("http://", "ws://") + "/graphql"
    async with (
        connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10) as ws,
        httpx.AsyncClient(base_url=base_a, timeout=10) as server_a,
    ):
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": platform_token}}))
        assert await receive(ws, 10) == {"type": "connection_ack"}
        await ws.send(
            json.dumps({"id": "inbox", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        )
        for round_number in range(ROUNDS):
            created = await post(
                server_a,
                police_token,
                CREATE,
                {
                    "i": {
                        "requestedAgencyId": platform_id,
                        "kind": "INFORMATION_REQUEST",
                        "priority": "URGENT",
                        "title": f"Channel admin, round {round_number}",
                        "body": "Who registered the account?",
                    }
                },
            )
            request_id = created["createCooperationRequest"]["request"]["id"]
            sent = time.monotonic()
            submitted = await post(server_a, police_token, SUBMIT, {"id": request_id})
            assert submitted["submitCooperationRequest"]["errors"] == [], submitted
            message = await receive(ws, LATENCY + 1)
            latencies.append(time.monotonic() - sent)
            assert message["type"] == "next", message
            event = message["payload"]["data"]["cooperationRequestEvents"]
            # The draft's CREATE never reached the requested agency; its SUBMIT did.
            assert (event["action"], event["toStatus"]) == ("SUBMIT", "SUBMITTED"), event
            assert event["requestId"] == request_id
    return latencies


def test_a_mutation_on_server_a_reaches_a_subscriber_on_server_b(
    database: str, tmp_path: Path
) -> None:
    create_keyring(tmp_path / "keyring.json")
    migrate.upgrade(database)
    hub = Hub(tmp_path, database)
    hub.cli(
        "agency",
        "add",
        "--code",
        "MY-PDRM",
        "--name",
        "Royal Malaysia Police",
        "--jurisdiction",
        "MY",
        "--kind",
        "LAW_ENFORCEMENT",
    )
    platform_id = hub.cli(  # printed as the API's global id
        "agency",
        "add",
        "--code",
        "RELAYGRAM",
        "--name",
        "Relaygram Messenger",
        "--jurisdiction",
        "AE",
        "--kind",
        "SERVICE_PROVIDER",
    )
    police_token = hub.cli("token", "issue", "--agency", "MY-PDRM", "--role", "LIAISON_OFFICER")
    platform_token = hub.cli("token", "issue", "--agency", "RELAYGRAM", "--role", "LIAISON_OFFICER")
    try:
        base_a, base_b = hub.serve(), hub.serve()
        hub.wait_ready(base_a)
        hub.wait_ready(base_b)
        latencies = asyncio.run(
            submit_through_a_and_watch_b(
                base_a,
                base_b,
                police_token,
                platform_token,
                platform_id,
            )
        )
        assert max(latencies) <= LATENCY, (latencies, hub.logs())
    finally:
        hub.stop()
