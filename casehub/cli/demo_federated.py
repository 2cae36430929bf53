"""`casehub demo --federated`: two hubs on loopback, MY and FR, each a real `casehub serve`
process with its own keyring and database, peered as their operators would peer them.

The state lives under one folder (default ./.casehub/federated/, a hub per subfolder) and is
reused by the next run: keyrings, identities, databases, the demo data and the pins stay; a
hub's pin is made again only when the other's fingerprint or URL changed. Each run issues
fresh tokens and queues one more ping each way. Delete the folder to start over.

Requests and shares do not cross between hubs yet (issue 16, item 3): what crosses is each
hub's agency directory and the pings.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar
from uuid import UUID

import typer

from casehub.cli.common import check_database_url, run
from casehub.cli.errors import CONFIG, CliError, database_errors
from casehub.config import Environment, Settings
from casehub.crypto import (
    LocalKeyring,
    add_accreditation_key_if_missing,
    add_index_key_if_missing,
    add_signing_key_if_missing,
    create_keyring,
)
from casehub.crypto.hub_identity import HubPublicIdentity
from casehub.crypto.rotation import add_hub_identity
from casehub.demo import federated
from casehub.demo import loader as demo
from casehub.persistence import migrate
from casehub.services.runtime import Runtime

T = TypeVar("T")

DEFAULT_STATE = Path(".casehub") / "federated"
READY_SECONDS = 90.0  # two servers starting on a busy laptop
DELIVERY_SECONDS = 60.0  # the workers deliver every 2 s; a peer's first answer can be slow
STOP_SECONDS = 30.0  # SIGTERM, then this long for a graceful stop, then SIGKILL
AGENCIES_QUERY = "{ agencies(first: 20) { edges { node { code homeHub { name } } } } }"


class Stopped(Exception):
    """SIGTERM reached the demo: stop both hubs and leave."""


@dataclass
class HubRun:
    """One hub of the demo: its settings, its server process and what the run made."""

    hub: federated.DemoHub
    home: Path
    settings: Settings
    log: Path
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    identity: HubPublicIdentity | None = None
    messages: tuple[UUID, ...] = ()
    log_offset: int = 0  # where this run's output starts in the log (kept across runs)

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def work(self, job: Callable[[Runtime], Awaitable[T]]) -> T:
        return run(self.settings, job)


def _hubs(state: Path, host: str, port: int, fr_database_url: str | None) -> list[HubRun]:
    runs = []
    for offset, hub in enumerate(federated.HUBS):
        home = state / hub.folder
        url = f"sqlite+aiosqlite:///{home / 'casehub.db'}"
        if hub.name == "FR" and fr_database_url:
            url = fr_database_url
        settings = Settings(
            env=Environment.DEVELOPMENT,
            database_url=url,
            keyring=home / "keyring.json",
            host=host,
            port=port + offset,
        )
        runs.append(HubRun(hub, home, settings, home / "serve.log"))
    return runs


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_state(state: Path) -> None:
    """The state folder exists (made if not) and takes files, or the fix."""
    probe = state / ".writable"
    try:
        state.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise CliError(
            f"cannot write the two-hub demo's state under {state}: "
            f"{error.strerror or error} — make it writable, or choose another with --state-dir",
            code=CONFIG,
        ) from None


def _check_port(host: str, port: int, name: str) -> None:
    """Refuse a port something listens on now (as uvicorn binds: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = "is taken" if error.errno == errno.EADDRINUSE else f"cannot be bound ({error})"
            raise CliError(
                f"port {port} on {host}, for hub {name}, {why} — stop what listens there, or "
                "pass another --port (MY takes it, FR the next one)",
                code=CONFIG,
            ) from None


def _prepare(run_: HubRun) -> None:
    """Keyring, hub identity, database and demo data of one hub (each kept if there)."""
    run_.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    keyring = run_.settings.keyring
    if not create_keyring(keyring):
        add_signing_key_if_missing(keyring)
        add_index_key_if_missing(keyring)
        add_accreditation_key_if_missing(keyring)
    if not LocalKeyring.load(keyring).has_hub_identity:
        add_hub_identity(keyring, run_.hub.name)
    run_.identity = LocalKeyring.load(keyring).hub_identity().public
    check_database_url(run_.settings.database_url)
    with database_errors(run_.settings.database_url):
        migrate.upgrade(run_.settings.database_url)

    async def load(runtime: Runtime) -> dict[str, str]:
        return await demo.load(runtime, run_.hub.codes)

    run_.tokens = run_.work(load)


def _server_env(run_: HubRun) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CASEHUB_ENV=Environment.DEVELOPMENT.value,
        CASEHUB_DATABASE_URL=run_.settings.database_url,
        CASEHUB_KEYRING=str(run_.settings.keyring.resolve()),
    )
    return env


def _start(run_: HubRun) -> None:
    """`casehub serve` for the hub, its output in its log; its own session, so that the
    demo alone decides when it stops (one signal: a graceful stop)."""
    settings = run_.settings
    command = [sys.executable, "-c", "from casehub.cli import main; main()", "serve"]
    command += ["--host", settings.host, "--port", str(settings.port)]
    with run_.log.open("ab") as output:
        run_.log_offset = output.tell()
        # This interpreter running casehub itself, with arguments the demo built.
        run_.process = subprocess.Popen(  # noqa: S603
            command,
            env=_server_env(run_),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _last_error(run_: HubRun) -> str:
    """The server's last `error:` line of this run (else its last line)."""
    with run_.log.open("rb") as log:
        log.seek(run_.log_offset)
        text = log.read().decode(errors="replace")
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or ["(no output)"])[-1]


def _exited(run_: HubRun, what: str) -> CliError:
    assert run_.process is not None
    return CliError(
        f"hub {run_.hub.name} {what} (exit {run_.process.returncode}): "
        f"{_last_error(run_)} — its log: {run_.log}"
    )


def _wait_ready(runs: list[HubRun]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    waiting = list(runs)
    while waiting:
        for run_ in list(waiting):
            assert run_.process is not None
            if run_.process.poll() is not None:
                raise _exited(run_, "did not start")
            try:
                with urllib.request.urlopen(f"{run_.url}/readyz", timeout=2) as answer:  # noqa: S310 - loopback http
                    if answer.status == 200:
                        waiting.remove(run_)
            except (urllib.error.URLError, OSError):
                pass  # not serving yet (or 503 while starting: HTTPError is a URLError)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(run_.hub.name for run_ in waiting)
            raise CliError(
                f"hub {names} did not answer /readyz within {READY_SECONDS:.0f} s — "
                f"its log: {waiting[0].log}"
            )
        if waiting:
            time.sleep(0.2)


def _peer(runs: list[HubRun]) -> None:
    """Each hub pins the other; once both did, each queues its directory and a ping to the
    other (a message sent before the other pinned it would wait for the retry's backoff)."""
    pairs = ((runs[0], runs[1]), (runs[1], runs[0]))
    for run_, other in pairs:
        _pin(run_, other)
    for run_, other in pairs:
        assert other.identity is not None
        peer = other.identity.hub_id

        async def queue(
            runtime: Runtime, peer: UUID = peer, name: str = run_.hub.name
        ) -> tuple[UUID, UUID]:
            note = f"Hello from {name}: the demo hubs are peered."
            return (
                await federated.publish(runtime, peer),
                await federated.ping(runtime, peer=peer, note=note),
            )

        run_.messages = run_.work(queue)


def _pin(run_: HubRun, other: HubRun) -> None:
    """Pin `other` under the fingerprint its operator would give out of band (`casehub
    federation identity`, read here from its keyring): `peers add` fetches its signed document
    and pins it only if the fingerprints agree."""
    assert other.identity is not None
    identity = other.identity

    async def pin(runtime: Runtime) -> bool:
        return await federated.pin(
            runtime, hub_id=identity.hub_id, url=other.url, fingerprint=identity.fingerprint()
        )

    done = "pinned" if run_.work(pin) else "already pins"
    typer.echo(
        f"{run_.hub.name} {done} {other.hub.name} at {other.url}, fingerprint "
        f"{identity.fingerprint()}",
        err=True,
    )


def _wait_delivered(runs: list[HubRun]) -> None:
    """Until every message this run queued is DELIVERED (the servers' workers send them)."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        late = []
        for run_ in runs:
            _check_alive(runs)

            async def states(runtime: Runtime, messages: tuple[UUID, ...] = run_.messages) -> Any:
                return await federated.states(runtime, messages)

            for message_id, state in run_.work(states).items():
                if state.startswith("DEAD"):
                    raise CliError(
                        f"hub {run_.hub.name} could not deliver message {message_id}: {state} — "
                        f"see `casehub federation outbox --state dead` and {run_.log}"
                    )
                if state != "DELIVERED":
                    late.append(run_.hub.name)
        if not late:
            return
        if time.monotonic() > deadline:
            raise CliError(
                f"hub {late[0]}'s messages were not delivered within {DELIVERY_SECONDS:.0f} s — "
                "see `casehub federation outbox` on that hub and the logs"
            )
        time.sleep(0.5)


def _check_alive(runs: list[HubRun]) -> None:
    for run_ in runs:
        assert run_.process is not None
        if run_.process.poll() is not None:
            raise _exited(run_, "stopped")


def _listing(run_: HubRun) -> list[tuple[str, str | None]]:
    """(code, home hub name) of every agency the hub lists, through its GraphQL API."""
    token = next(iter(run_.tokens.values()))
    request = urllib.request.Request(  # noqa: S310 - the demo's loopback hub
        f"{run_.url}/graphql",
        data=json.dumps({"query": AGENCIES_QUERY}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer = json.loads(response.read())
    edges = answer["data"]["agencies"]["edges"]
    return [(edge["node"]["code"], (edge["node"]["homeHub"] or {}).get("name")) for edge in edges]


def _stop(runs: list[HubRun]) -> None:
    """SIGTERM every server still running, wait for each, SIGKILL one that hangs."""
    live = [run_.process for run_ in runs if run_.process and run_.process.poll() is None]
    for process in live:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in live:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _terminated_by_sigterm() -> Iterator[None]:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _welcome(runs: list[HubRun], listings: dict[str, list[tuple[str, str | None]]]) -> str:
    my, fr = runs
    lines = ["", "Two casehub hubs, peered with each other:", ""]
    for run_ in runs:
        assert run_.identity is not None
        lines += [
            f"  {run_.hub.name}  {run_.url}/graphql   hub {run_.identity.hub_id}",
            f"      fingerprint {run_.identity.fingerprint()}",
            f"      keyring {run_.settings.keyring}, database {run_.settings.database_url}",
            f"      log {run_.log}",
        ]
    lines += [
        "",
        "Each pinned the other by the fingerprint above. The demo read it from the other hub's "
        "keyring; a real operator gets it from the other operator out of band (a call, a "
        "signed letter) and checks it before `casehub federation peers add`.",
        "",
    ]
    for run_ in runs:
        other = fr if run_ is my else my
        seen = ", ".join(f"{code} ({home or 'local'})" for code, home in listings[run_.hub.name])
        lines.append(f"{run_.hub.name} lists: {seen}")
        lines.append(
            f"  ({other.hub.name}'s agencies came in its signed directory; a ping "
            "went each way, delivered and acknowledged)"
        )
    lines += [
        "",
        "Tokens (valid 30 days; roles READER, INVESTIGATOR, LIAISON_OFFICER, AGENCY_ADMIN):",
    ]
    for run_ in runs:
        lines += [
            f"  {code:<15} {token}   (at {run_.hub.name})" for code, token in run_.tokens.items()
        ]
    query = AGENCIES_QUERY.replace('"', '\\"')
    fr_token = fr.tokens[fr.hub.codes[0]]
    my_token = my.tokens[my.hub.codes[0]]
    lines += [
        "",
        "Try:",
        "  # At FR: every agency it knows, MY's with their home hub",
        f"  curl -s {fr.url}/graphql -H 'Authorization: Bearer {fr_token}' \\",
        f"       -H 'Content-Type: application/json' -d '{{\"query\": \"{query}\"}}'",
        "  # At MY: the same, FR's agencies from FR",
        f"  curl -s {my.url}/graphql -H 'Authorization: Bearer {my_token}' \\",
        f"       -H 'Content-Type: application/json' -d '{{\"query\": \"{query}\"}}'",
        "  # MY's outbox and peers, as its operator sees them",
        f"  CASEHUB_KEYRING={my.settings.keyring} "
        f"CASEHUB_DATABASE_URL={my.settings.database_url} casehub federation outbox",
        f"  CASEHUB_KEYRING={my.settings.keyring} "
        f"CASEHUB_DATABASE_URL={my.settings.database_url} casehub federation peers list",
        "",
        "Requests and shares do not cross between the hubs yet (each hub loaded only the "
        "cases and requests among its own agencies); what crosses today is each hub's agency "
        "directory and pings.",
        f"The state under {my.home.parent} is kept: the next run reuses it (fresh tokens, one "
        "more ping each way). Delete that folder to start over.",
    ]
    return "\n".join(lines)


def federated_demo(
    *,
    host: str,
    port: int,
    state: Path,
    fr_database_url: str | None,
    serve_after: bool,
) -> None:
    """Prepare both hubs, serve them, peer them, wait for the directories and pings, print
    how to use them; then serve until interrupted (or stop at once with serve_after False)."""
    if not _loopback(host):
        raise CliError(
            f"--host {host} is not a loopback address — the two hubs talk plain http, which "
            "peers accept on loopback only: use 127.0.0.1 (for hubs on a network, see "
            "deploy/compose.yaml's profile federated)",
            code=CONFIG,
        )
    if not 1 <= port < 65535:
        raise CliError(f"--port {port} leaves no room for FR's port — use 1 to 65534", code=CONFIG)
    runs = _hubs(state, host, port, fr_database_url)
    for run_ in runs:
        _check_port(host, run_.settings.port, run_.hub.name)
    _check_state(state)
    for run_ in runs:
        typer.echo(f"preparing hub {run_.hub.name} under {run_.home}", err=True)
        _prepare(run_)
    with _terminated_by_sigterm():
        try:
            for run_ in runs:
                _start(run_)
            _wait_ready(runs)
            _peer(runs)
            _wait_delivered(runs)
            listings = {run_.hub.name: _listing(run_) for run_ in runs}
            typer.echo(_welcome(runs, listings))
            if not serve_after:
                typer.echo("\n--no-serve: both hubs stop now; run again without it to serve.")
                return
            typer.echo("\nServing both hubs; Ctrl-C stops them.", err=True)
            while True:
                _check_alive(runs)
                time.sleep(0.5)
        except (KeyboardInterrupt, Stopped):
            typer.echo("stopping both hubs", err=True)
        finally:
            _stop(runs)
