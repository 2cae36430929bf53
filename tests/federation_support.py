"""Peer hubs for federation tests: a real `casehub serve` with a hub identity, and a small
loopback HTTP server that misbehaves on purpose (too large, redirects, trickles, forges)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from casehub.crypto import create_keyring
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.rotation import add_hub_identity
from casehub.persistence import migrate
from tests.integration.servers import Hub


@dataclass
class Answer:
    """What the fake peer answers every GET with."""

    body: bytes = b"{}"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    content_length: bool = True
    # Seconds between bytes (a peer that trickles its answer), 0 for all at once.
    trickle: float = 0.0


def signed_body(identity: HubIdentity) -> bytes:
    """The identity document as /federation/v1/identity serves it."""
    return json.dumps(identity.signed_document()).encode()


@contextmanager
def fake_peer(answer: Answer) -> Iterator[str]:
    """A loopback HTTP server answering every GET with `answer`; its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            if answer.content_length:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            try:
                if not answer.trickle:
                    self.wfile.write(answer.body)
                    return
                for byte in answer.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.trickle)
            except OSError:
                pass  # the client gave up, as it should

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PeerHub:
    """A real `casehub serve` with a hub identity, its own keyring and database."""

    hub: Hub
    base: str
    identity: HubIdentity


@contextmanager
def serving_peer(root: Path, url: str, name: str) -> Iterator[PeerHub]:
    """Migrate `url`, make a keyring with a hub identity named `name` in `root`, and serve it."""
    root.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)
    create_keyring(root / "keyring.json")
    identity = add_hub_identity(root / "keyring.json", name)
    hub = Hub(root, url)
    try:
        base = hub.serve()
        hub.wait_ready(base)
        yield PeerHub(hub, base, identity)
    finally:
        hub.stop()
