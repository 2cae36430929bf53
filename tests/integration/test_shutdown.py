"""Graceful shutdown of a real `casehub serve`: on SIGTERM a request in flight finishes, a live
subscription is closed with 1012 (service restart), the process exits by itself, and after a
restart every acknowledged write is there, whole (its data-key wrap and audit event with it),
and the audit chain verifies."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from casehub.app import build_runtime, create_app
from casehub.persistence.audit.queries import AuditQueries
from tests.integration.test_cli import CASEHUB, free_port
from tests.integration.test_key_lifecycle import OPEN, READ, SUMMARY, KeyHome, make_home
from tests.postgres import fresh_postgres, require_postgres

WRITES = 300  # most writes the client loops send
BEFORE_SIGTERM = 20  # acknowledged writes before the signal
WAIT = 20.0  # seconds anything here may take
SUBSCRIPTION = "subscription { cooperationRequestEvents { seq } }"
SERVICE_RESTART = 1012


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def home(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyHome]:
    """A keyring, a migrated database (SQLite, or PostgreSQL of its own) and a token."""
    if request.param == "sqlite":
        yield await make_home(tmp_path / "home")
        return
    require_postgres("the shutdown test on PostgreSQL")
    with fresh_postgres("casehub_shutdown") as url:
        yield await make_home(tmp_path / "home", url)


class Server:
    """`casehub serve` on a free loopback port, logging to a file."""

    def __init__(self, home: KeyHome, name: str) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = home.root / f"{name}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(CASEHUB), "serve", "--port", str(port)],
                env=home.env(),
                cwd=home.root,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(self.log.read_text())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)


@pytest.fixture
def servers(home: KeyHome) -> Iterator[list[Server]]:
    """The servers a test starts, killed at the end should one still run."""
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


async def write_loop(http: httpx.AsyncClient, name: str, acknowledged: dict[str, str]) -> None:
    """openCase after openCase until the server stops answering (or WRITES in all)."""
    for n in range(WRITES):
        if len(acknowledged) >= WRITES:
            return
        reference = f"{name}-{n}"
        data = {"reference": reference, "title": "T", "summary": SUMMARY, "category": "FRAUD"}
        try:
            response = await http.post(
                "/graphql", json={"query": OPEN, "variables": {"input": data}}
            )
        except httpx.TransportError:
            return  # refused or cut before an answer: not acknowledged
        # An answer is always a whole one: never a 5xx, never a half-done write.
        assert response.status_code == 200, response.text
        payload = response.json()["data"]["openCase"]
        assert payload["errors"] == [], payload
        acknowledged[reference] = payload["case"]["id"]


async def slow_write(http: httpx.AsyncClient, reference: str, midway: asyncio.Event) -> str:
    """An openCase whose body arrives in two parts, the second after `midway` is set."""
    body = json.dumps(
        {
            "query": OPEN,
            "variables": {
                "input": {
                    "reference": reference,
                    "title": "T",
                    "summary": SUMMARY,
                    "category": "FRAUD",
                }
            },
        }
    ).encode()

    async def parts() -> AsyncIterator[bytes]:
        yield body[:40]
        await midway.wait()
        await asyncio.sleep(0.5)  # well into the shutdown
        yield body[40:]

    response = await http.post(
        "/graphql", content=parts(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["openCase"]
    assert payload["errors"] == [], payload
    case_id: str = payload["case"]["id"]
    return case_id


async def open_subscription(server: Server, token: str) -> ClientConnection:
    """A websocket with a running subscription (the metrics say so)."""
    ws = await connect(
        server.base.replace("http://", "ws://") + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        open_timeout=WAIT,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"type": "connection_ack"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    async with httpx.AsyncClient(base_url=server.base) as http:
        for _ in range(int(WAIT / 0.05)):
            if "casehub_subscriptions_open 1.0" in (await http.get("/metrics")).text:
                return ws
            await asyncio.sleep(0.05)
    raise AssertionError("the subscription did not start")


async def close_code(ws: ClientConnection) -> int | None:
    """The code of the close frame the server sends."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def test_sigterm_loses_no_acknowledged_write(home: KeyHome, servers: list[Server]) -> None:
    server = Server(home, "first")
    servers.append(server)
    await asyncio.to_thread(server.wait_ready)
    ws = await open_subscription(server, home.token)
    acknowledged: dict[str, str] = {}
    midway = asyncio.Event()
    headers = {"Authorization": f"Bearer {home.token}"}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=WAIT) as http:
        slow = asyncio.create_task(slow_write(http, "SLOW", midway))
        loops = [asyncio.create_task(write_loop(http, f"W{n}", acknowledged)) for n in range(3)]
        for _ in range(int(WAIT / 0.01)):
            if len(acknowledged) >= BEFORE_SIGTERM:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"only {len(acknowledged)} writes answered")
        server.process.send_signal(signal.SIGTERM)
        midway.set()
        code = await close_code(ws)
        acknowledged["SLOW"] = await slow  # in flight at the signal: answered all the same
        await asyncio.gather(*loops)
    assert code == SERVICE_RESTART, server.log.read_text()
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit status -15).
    assert await asyncio.to_thread(server.process.wait, WAIT) in (0, -signal.SIGTERM)
    log = server.log.read_text()
    assert "Application shutdown complete" in log, log
    assert len(acknowledged) < WRITES, "the server stopped answering mid-loop"

    restarted = Server(home, "second")
    servers.append(restarted)
    await asyncio.to_thread(restarted.wait_ready)
    async with httpx.AsyncClient(base_url=restarted.base, headers=headers, timeout=WAIT) as http:
        for case_id in acknowledged.values():
            response = await http.post(
                "/graphql", json={"query": READ, "variables": {"id": case_id}}
            )
            assert response.json()["data"] == {"node": {"id": case_id, "summary": SUMMARY}}
    assert await half_written(home) == []
    verified = await asyncio.to_thread(home.run, "audit", "verify")
    assert verified.returncode == 0, verified.stderr


async def half_written(home: KeyHome) -> list[Any]:
    """Cases without a data-key wrap or without their audit event, and audit events of cases
    that are not there."""
    runtime = build_runtime(home.settings())
    try:
        async with runtime.database.engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT c.reference, count(DISTINCT w.id), count(DISTINCT a.id)"
                    " FROM case_file c LEFT JOIN data_key_wrap w ON w.scope_id = c.id"
                    " LEFT JOIN audit_event a ON a.object_id = c.id AND a.action = 'case.open'"
                    " GROUP BY c.reference HAVING count(DISTINCT w.id) = 0"
                    " OR count(DISTINCT a.id) <> 1"
                    " UNION ALL SELECT 'orphan event', 0, count(*) FROM audit_event a"
                    " WHERE a.action = 'case.open' AND a.outcome = 'OK' AND NOT EXISTS"
                    " (SELECT 1 FROM case_file c WHERE c.id = a.object_id) HAVING count(*) > 0"
                )
            )
            return list(rows)
    finally:
        await runtime.database.dispose()


async def test_stopping_lets_the_audit_sequencers_round_commit(
    home: KeyHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutdown begins while the sequencer holds its transaction: the round commits, and the
    database is free for another writer at once (a round cancelled inside a database call
    could leave SQLite's write lock with an abandoned connection)."""
    entered = asyncio.Event()
    pending = AuditQueries.pending_audit_events

    async def slow_round(self: AuditQueries, limit: int) -> list[Any]:
        rows = await pending(self, limit)
        entered.set()
        await asyncio.sleep(0.3)
        return rows

    monkeypatch.setattr(AuditQueries, "pending_audit_events", slow_round)
    app = create_app(home.settings())
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(entered.wait(), WAIT)
    monkeypatch.undo()

    runtime = build_runtime(home.settings())
    try:
        async with runtime.database.engine.begin() as connection:
            entries = (await connection.execute(text("SELECT count(*) FROM audit_event"))).scalar()
            head = await connection.execute(text("SELECT max(tree_size) FROM audit_tree_head"))
            assert entries
            assert head.scalar() == entries
            # A write goes through at once: no lock is left behind.
            await connection.execute(text("UPDATE audit_tree_head SET tree_size = tree_size"))
    finally:
        await runtime.database.dispose()
