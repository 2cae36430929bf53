"""Real `casehub serve` processes on loopback sharing one database and keyring, nginx in front of
them, and the GraphQL-over-HTTP and graphql-transport-ws calls the multi-process tests make."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.integration.test_cli import CASEHUB, free_port

POLICE = ("MY-PDRM", "Royal Malaysia Police", "MY", "LAW_ENFORCEMENT")
PLATFORM = ("RELAYGRAM", "Relaygram Messenger", "AE", "SERVICE_PROVIDER")
CREATE = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i) {
  request { id } errors { code message } } }"""
SUBMIT = """mutation($id: ID!) { submitCooperationRequest(input: {id: $id}) {
  request { status } errors { code message } } }"""
READY_SECONDS = 30


class Hub:
    """The keyring and database every server and CLI call of one test shares."""

    def __init__(self, root: Path, url: str, **settings: str) -> None:
        self.root = root
        self.env = {key: value for key, value in os.environ.items() if key[:8] != "CASEHUB_"}
        self.env.update(CASEHUB_DATABASE_URL=url, CASEHUB_KEYRING=str(root / "keyring.json"))
        # Several servers on one database, and the stock clients: the feeds and the audit log,
        # not agency signatures (a test of those drops this: the default policy then holds).
        self.env.update(CASEHUB_SIGNED_STEPS="none")
        self.env.update(settings)
        self.servers: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    def cli(self, *args: str) -> str:
        """Run a `casehub` command that must succeed; its stdout."""
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

    def agency(self, code: str, name: str, jurisdiction: str, kind: str) -> str:
        """Register an agency; its global id."""
        return self.cli(
            "agency",
            "add",
            "--code",
            code,
            "--name",
            name,
            "--jurisdiction",
            jurisdiction,
            "--kind",
            kind,
        )

    def token(self, agency: str, *roles: str) -> str:
        """Issue a token of the agency with these roles."""
        flags = [part for role in roles for part in ("--role", role)]
        return self.cli("token", "issue", "--agency", agency, *flags)

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
        base = f"http://127.0.0.1:{port}"
        self.servers[base] = (process, log)
        return base

    def wait_ready(self, base: str) -> None:
        """Block until the server answers /readyz (it must not exit meanwhile)."""
        process, log = self.servers[base]
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{base} did not become ready: {self.logs()}")

    def kill(self, base: str) -> None:
        """SIGKILL one server: a crash, with no chance to finish what it was doing."""
        process, _log = self.servers[base]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)

    def logs(self) -> str:
        """Every server's output so far, for failure messages."""
        return "\n".join(log.read_text() for _process, log in self.servers.values())

    def stop(self) -> None:
        """Stop every server still running (terminate, then kill after 15 s)."""
        processes = [process for process, _log in self.servers.values()]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        self.servers.clear()


class Nginx:
    """nginx in the foreground as the current user, with every file it writes under `root`."""

    def __init__(self, binary: str, root: Path, site: str, replicas: list[str]) -> None:
        """Start nginx with the deployed `site` file aimed at these replicas."""
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = root / "nginx.log"
        self.access_log = root / "access.log"
        (root / "site.conf").write_text(proxy_site(site, replicas, self.port))
        (root / "nginx.conf").write_text(self._main_config())
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    binary,
                    "-e",  # the startup log too: the compiled-in /var/log path may be unwritable
                    "stderr",
                    "-p",
                    str(root),
                    "-c",
                    str(root / "nginx.conf"),
                    "-g",
                    f"daemon off; pid {root / 'nginx.pid'}; error_log stderr;",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def _main_config(self) -> str:
        """The main config: every file nginx writes under root, the site in `http`."""
        temp = {
            kind: self.root / kind for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        }
        temp_paths = "\n".join(f"    {kind}_temp_path {path};" for kind, path in temp.items())
        # master_process off: one process, so a crash of the test cannot orphan workers, and as
        # root nothing switches to the `nobody` user, who could not write in pytest's tmp dirs.
        # The temp paths replace the distribution's compiled-in ones under /var/lib/nginx.
        return f"""master_process off;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '$request_method $request_uri $status $upstream_addr';
    access_log {self.access_log} upstreams;
{temp_paths}
    include {self.root / "site.conf"};
}}
"""

    def wait_ready(self) -> None:
        """Block until nginx accepts connections (it must not exit meanwhile)."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx did not listen on {self.port}: {self.log.read_text()}")

    def requests(self) -> list[tuple[str, int, str]]:
        """The access log so far: (method, status, the replica that answered) per request."""
        rows = []
        for line in self.access_log.read_text().splitlines():
            method, _uri, status, upstreams = line.split(" ", 3)
            rows.append((method, int(status), answered_by(upstreams)))
        return rows

    def stop(self) -> None:
        """Stop nginx (SIGTERM: fast shutdown, open websockets included)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def proxy_site(site: str, replicas: list[str], port: int) -> str:
    """The deployed site file aimed at these replicas, on `port`, naming replicas in X-Upstream."""
    upstream = re.search(r"^\s*upstream\s+\S+\s*\{(?P<body>[^}]*)\}", site, flags=re.MULTILINE)
    assert upstream, "the nginx site file has no `upstream NAME { ... }` block"
    # Keep the deployed per-server parameters (max_fails, fail_timeout ...): only the addresses
    # are the test's.
    body, servers = _replace_lines(
        r"^([ \t]*)server[ \t]+\S+([^;]*);[ \t]*\n",
        upstream["body"],
        lambda line: "".join(
            f"{line[1]}server {url.removeprefix('http://')}{line[2]};\n" for url in replicas
        ),
    )
    assert servers, "the nginx site file's upstream block has no `server` line"
    site = site[: upstream.start("body")] + body + site[upstream.end("body") :]
    site, listens = _replace_lines(
        r"^([ \t]*)listen[ \t][^;]*;[ \t]*\n",
        site,
        lambda line: f"{line[1]}listen 127.0.0.1:{port};\n",
    )
    assert listens, "the nginx site file has no `listen` line"
    # Logs go to the test's own files, never to the system's /var/log/nginx.
    site = re.sub(r"^[ \t]*(access_log|error_log)[ \t][^;]*;[ \t]*\n", "", site, flags=re.MULTILINE)
    # `always`: the header is added to the websocket handshake's 101 too.
    return re.sub(
        r"^([ \t]*)(proxy_pass[ \t][^;]*;)",
        r"\1\2\n\1add_header X-Upstream $upstream_addr always;",
        site,
        flags=re.MULTILINE,
    )


def _replace_lines(
    pattern: str, text: str, replacement: Callable[[re.Match[str]], str]
) -> tuple[str, int]:
    """The first line matching `pattern` replaced, the others dropped; and how many matched."""
    matched = 0

    def swap(line: re.Match[str]) -> str:
        nonlocal matched
        matched += 1
        return replacement(line) if matched == 1 else ""

    return re.sub(pattern, swap, text, flags=re.MULTILINE), matched


def answered_by(upstreams: str) -> str:
    """The replica (host:port) that answered, from nginx's $upstream_addr."""
    # "dead, alive" when nginx moved on from a replica it could not reach.
    return upstreams.split(",")[-1].strip()


async def receive(ws: ClientConnection, within: float) -> dict[str, Any]:
    """The next graphql-transport-ws message, within `within` seconds."""
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


def connect_graphql_ws(base: str) -> connect:
    """A graphql-transport-ws connection to the server's /graphql."""
    url = base.replace("http://", "ws://") + "/graphql"
    return connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10)


async def subscribe(
    ws: ClientConnection, token: str, query: str, variables: dict[str, Any] | None = None
) -> None:
    """Authenticate the connection and start one subscription, id `inbox`."""
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert await receive(ws, 10) == {"type": "connection_ack"}
    payload = {"query": query, "variables": variables or {}}
    await ws.send(json.dumps({"id": "inbox", "type": "subscribe", "payload": payload}))


async def post(client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> Any:
    """A GraphQL operation that must succeed without top-level errors; its data."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]
