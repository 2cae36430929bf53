"""Two real hubs for the delivery tests (MY sends, FR receives), each with its own keyring and
database, identities made and peered with `casehub federation` commands, and a loopback relay
between them that counts, delays or replaces what passes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

from casehub.persistence.database import sqlite_path
from tests.integration.servers import Hub
from tests.integration.test_cli import CASEHUB as CASEHUB_BINARY


def casehub(hub: Hub, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `casehub ARGS` for this hub; never raises on a non-zero exit."""
    return subprocess.run(
        [str(CASEHUB_BINARY), *args],
        env=hub.env,
        cwd=hub.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(hub: Hub, *args: str) -> Any:
    """Run a command that must succeed with --json; its JSON."""
    result = casehub(hub, *args, "--json")
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def refused(hub: Hub, code: int, *args: str) -> str:
    """Run a command that must fail with `code`; its one-line error."""
    result = casehub(hub, *args)
    assert result.returncode == code, (args, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "a bug" not in lines[0]
    return lines[0]


def serve_at(hub: Hub, port: int) -> str:
    """Start `casehub serve` for the hub on this port (a peer restarts where it was pinned)
    and wait until it is ready; its base URL."""
    log = hub.root / f"serve-{port}-{time.monotonic_ns()}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(CASEHUB_BINARY), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=hub.env,
            cwd=hub.root,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    hub.servers[base] = (process, log)
    hub.wait_ready(base)
    return base


def inbox(database_url: str) -> list[tuple[UUID, UUID, int, str, str]]:
    """FR's inbox (a SQLite file): (message id, conversation, sequence, digest, ack) in the
    order received."""
    path = sqlite_path(database_url)
    assert path is not None
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT message_id, conversation, sequence, digest, ack FROM federation_inbox "
            "ORDER BY received_at, rowid"
        ).fetchall()
    return [(UUID(m), UUID(c), int(s), str(d), str(a)) for m, c, s, d, a in rows]


@dataclass
class Relay:
    """A loopback HTTP server between MY and FR: forwards each POST to `target` after
    `delay` seconds (counting those in flight at once), or answers `answer` instead."""

    target: str = ""
    delay: float = 0.0
    answer: tuple[int, bytes, tuple[tuple[str, str], ...]] | None = None
    posts: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    base: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _enter(self) -> None:
        with self._lock:
            self.posts += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def forward(self, path: str, body: bytes) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
        """What the relay answers a POST of `body` to `path`."""
        self._enter()
        try:
            time.sleep(self.delay)
            if self.answer is not None:
                return self.answer
            request = urllib.request.Request(  # noqa: S310 - the test's loopback hub
                self.target + path,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    return response.status, response.read(), ()
            except urllib.error.HTTPError as error:
                return error.code, error.read(), ()
        finally:
            self._leave()


@contextmanager
def relay(target: str = "", delay: float = 0.0) -> Iterator[Relay]:
    """A running Relay; its base URL in `.base`."""
    state = Relay(target=target, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer, headers = state.forward(self.path, body)
            try:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the sender gave up waiting, as it should

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def new_hub(root: Path, url: str, name: str) -> tuple[Hub, dict[str, str]]:
    """A hub with a keyring, a migrated database and an identity (`casehub federation init`);
    the identity as printed."""
    root.mkdir(parents=True, exist_ok=True)
    hub = Hub(root, url)
    hub.cli("keys", "init")
    hub.cli("db", "upgrade")
    return hub, ok(hub, "federation", "init", "--name", name)
