"""Two `casehub serve` processes sharing one PostgreSQL database: a request submitted through
process A reaches a live subscriber on process B within 2 seconds (LISTEN/NOTIFY fan-out)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from casehub.crypto import create_keyring
from casehub.persistence import migrate
from tests.integration.servers import (
    CREATE,
    PLATFORM,
    POLICE,
    SUBMIT,
    Hub,
    connect_graphql_ws,
    post,
    receive,
    subscribe,
)
from tests.postgres import fresh_postgres, require_postgres

pytestmark = pytest.mark.postgres

LATENCY = 2.0  # seconds from sending the mutation to A until B's subscriber has the event
ROUNDS = 3  # several rounds, so that a periodic re-check cannot pass for a notification
SUBSCRIPTION = """subscription { cooperationRequestEvents(since: 0) {
  seq action toStatus requestId actorAgency { code } } }"""


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test only, dropped at the end."""
    require_postgres("the two-server test")
    with fresh_postgres("casehub_two") as url:
        yield url


async def submit_through_a_and_watch_b(
    base_a: str, base_b: str, police_token: str, platform_token: str, platform_id: str
) -> list[float]:
    latencies = []
    async with (
        connect_graphql_ws(base_b) as ws,
        httpx.AsyncClient(base_url=base_a, timeout=10) as server_a,
    ):
        await subscribe(ws, platform_token, SUBSCRIPTION)
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
    hub.agency(*POLICE)
    platform_id = hub.agency(*PLATFORM)  # printed as the API's global id
    police_token = hub.token(POLICE[0], "LIAISON_OFFICER")
    platform_token = hub.token(PLATFORM[0], "LIAISON_OFFICER")
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
