"""deploy/compose.yaml's profile `federated` (two peered hubs), what the compose schema cannot
see: each hub has its own volume, and its setup, server and the peering service agree on where
its keyring and database are; the order (setup, then serve, then peering once both are
healthy); every `casehub` command the shell scripts run exists with the options they give;
the peering pins each hub at the other's service name and port, by the fingerprint. And the
scripts themselves, run here (each volume a folder, each service name a loopback port): they
set up two hubs and peer them, the directories cross, and a second run changes nothing."""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import typer

from casehub.cli import app
from tests.deploy.test_manifests import SERVER_PORT, compose
from tests.integration.test_cli import CASEHUB, free_port

HUBS = {"my": "MY", "fr": "FR"}
PROFILE = ["federated"]
SQLITE = "sqlite+aiosqlite:///"


def federated() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("profiles") == PROFILE
    }


def script(service: dict[str, Any]) -> str:
    """A service's shell script as the shell gets it (compose's `$$` is one `$`)."""
    assert service["entrypoint"] == ["/bin/sh", "-ec"]
    (text,) = service["command"]
    assert isinstance(text, str)
    return text.replace("$$", "$")


def casehub_calls(text: str, aliases: tuple[str, ...] = ()) -> list[list[str]]:
    """Every `casehub ...` (or alias) call of a script in command position: its words up to
    the next operator or redirection."""
    joined = text.replace("\\\n", " ").replace("$(", "; ").replace(")", " ;")
    calls = []
    for line in joined.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current: list[str] | None = None
        command_position = True
        for word in lexer:
            operator = word[0] in ";|&<>{}()" or word in ("do", "then")
            if current is not None and (operator or (word[0].isdigit() and ">" in word)):
                calls.append(current)
                current = None
            elif current is not None:
                current.append(word)
            elif command_position and word in ("casehub", *aliases):
                current = []
            command_position = operator
        if current:
            calls.append(current)
    return [call for call in calls if call]


def resolve(words: list[str]) -> None:
    """`casehub WORDS` names a command, and every option it is given exists."""
    # typer builds on its own copy of click: its groups are known by what they do.
    command: Any = typer.main.get_command(app)
    index = 0
    while hasattr(command, "get_command") and index < len(words) and words[index][0] != "-":
        sub = command.get_command(command.context_class(command), words[index])
        assert sub is not None, f"`casehub {' '.join(words)}`: no command {words[index]!r}"
        command, index = sub, index + 1
    known = {option for param in command.params for option in param.opts}
    given = {word for word in words[index:] if word.startswith("--")}
    assert given <= known, f"`casehub {' '.join(words)}`: unknown {sorted(given - known)}"


def test_every_federated_service_is_in_the_profile_alone() -> None:
    services = federated()
    expected = {f"hub-{hub}{part}" for hub in HUBS for part in ("", "-setup")}
    assert set(services) == expected | {"federation-peering"}
    # The single-hub stack never depends on them.
    for name, service in compose()["services"].items():
        if name not in services:
            assert not set(service.get("depends_on", {})) & set(services), name


def test_each_hub_has_its_own_volume_holding_its_keyring_and_database() -> None:
    services = federated()
    volumes = set()
    for hub in HUBS:
        setup, server = services[f"hub-{hub}-setup"], services[f"hub-{hub}"]
        assert setup["environment"] == server["environment"]
        assert setup["volumes"] == server["volumes"]
        (mount,) = server["volumes"]
        volume, path = mount.split(":")
        volumes.add(volume)
        environment = server["environment"]
        keyring = PurePosixPath(environment["CASEHUB_KEYRING"])
        database = PurePosixPath(environment["CASEHUB_DATABASE_URL"].removeprefix(SQLITE))
        assert keyring.parent == database.parent == PurePosixPath(path)
        assert server["command"] == ["serve"]
        assert server["depends_on"] == {
            f"hub-{hub}-setup": {"condition": "service_completed_successfully"}
        }
        assert setup["network_mode"] == "none"  # the setup talks to nobody
    assert len(volumes) == 2
    assert volumes <= set(compose()["volumes"])
    published = [services[f"hub-{hub}"]["ports"] for hub in HUBS]
    assert published == [["127.0.0.1:8101:8000"], ["127.0.0.1:8102:8000"]]


def test_each_setup_makes_its_hub_identity_once_under_its_name() -> None:
    for hub, name in HUBS.items():
        text = script(federated()[f"hub-{hub}-setup"])
        calls = casehub_calls(text)
        for call in calls:
            resolve(call)
        assert ["federation", "init", "--name", name] in calls
        # Made once: a second `up` keeps the identity its peer pinned.
        assert re.search(r"federation identity[^\n]*\|\| casehub federation init", text)
        assert ["db", "upgrade"] in calls


def test_the_peering_pins_each_hub_at_the_others_address_by_fingerprint() -> None:
    services = federated()
    peering = services["federation-peering"]
    assert peering["depends_on"] == {f"hub-{hub}": {"condition": "service_healthy"} for hub in HUBS}
    text = script(peering)
    mounts = dict(mount.split(":")[::-1] for mount in peering["volumes"])
    for hub in HUBS:
        # The alias runs casehub on the hub's keyring and database, where the peering
        # mounts the hub's volume, under the names the hub itself uses.
        own = services[f"hub-{hub}"]["environment"]
        (mount,) = services[f"hub-{hub}"]["volumes"]
        volume, path = mount.split(":")
        here = next(where for where, name in mounts.items() if name == volume)
        keyring = own["CASEHUB_KEYRING"].replace(path, here)
        database = own["CASEHUB_DATABASE_URL"].replace(path, here)
        assert f"{hub}() {{ CASEHUB_KEYRING={keyring}" in text.replace("\\\n", "")
        assert f"CASEHUB_DATABASE_URL={database} casehub" in text.replace("\\\n", "")
    calls = casehub_calls(text, aliases=tuple(HUBS))
    for call in calls:
        resolve(call)
    pins = [index for index, call in enumerate(calls) if call[:3] == ["federation", "peers", "add"]]
    assert len(pins) == 2
    # Each hub's directory is queued after both pins (to an unpinned hub it would be refused).
    publish = ["federation", "directory", "publish"]
    assert calls.count(publish) == 2
    assert calls.index(publish) > max(pins)
    adds = [calls[index] for index in pins]
    urls = sorted(call[call.index("--url") + 1] for call in adds)
    assert urls == sorted(f"http://hub-{hub}:{SERVER_PORT}" for hub in HUBS)
    assert all(call[call.index("--fingerprint") + 1].startswith("$") for call in adds)
    assert peering["environment"]["CASEHUB_FEDERATION_ALLOW_HTTP"] == "true"


# --- the scripts run: on this machine, each volume a folder, each service name loopback ------


def _on_this_machine(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def _sh(text: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-ec", text], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_scripts_set_up_and_peer_two_hubs_and_again(tmp_path: Path) -> None:
    services = federated()
    base = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
    base["PATH"] = f"{Path(sys.executable).parent}:{base['PATH']}"
    homes = {hub: tmp_path / hub for hub in HUBS}
    envs: dict[str, dict[str, str]] = {}
    for hub, home in homes.items():
        home.mkdir()
        moved = {"/var/lib/casehub": str(home)}
        environment = services[f"hub-{hub}"]["environment"]
        envs[hub] = base | {k: _on_this_machine(v, moved) for k, v in environment.items()}
        setup = _on_this_machine(script(services[f"hub-{hub}-setup"]), moved)
        for _ in range(2):  # a second `up` changes nothing
            done = _sh(setup, envs[hub])
            assert done.returncode == 0, done.stderr
    identities = {hub: (homes[hub] / "keyring.json").read_bytes() for hub in HUBS}
    ports = {hub: free_port() for hub in HUBS}
    servers = []
    try:
        for hub in HUBS:
            with (tmp_path / f"{hub}.log").open("wb") as log:
                servers.append(
                    subprocess.Popen(
                        [str(CASEHUB), "serve", "--port", str(ports[hub])],
                        env=envs[hub] | {"CASEHUB_FEDERATION_DELIVER_SECONDS": "0.5"},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for hub in HUBS:
            wait_ready(f"http://127.0.0.1:{ports[hub]}")
        moved = {f"/hubs/{hub}": str(home) for hub, home in homes.items()}
        moved |= {
            f"http://hub-{hub}:{SERVER_PORT}": f"http://127.0.0.1:{ports[hub]}" for hub in HUBS
        }
        peering = _on_this_machine(script(services["federation-peering"]), moved)
        env = base | services["federation-peering"]["environment"]
        first, second = _sh(peering, env), _sh(peering, env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.count("pinned peer") == 2
        assert second.returncode == 0, second.stderr
        assert "pinned peer" not in second.stdout  # pinned already: left alone
        # Each hub's directory reaches the other (the servers deliver it).
        logs = "\n".join((tmp_path / f"{hub}.log").read_text() for hub in HUBS)
        outbox = "\n".join(_sh("casehub federation outbox", envs[hub]).stdout for hub in HUBS)
        assert wait_for_agencies(homes["fr"] / "casehub.db", "MY") == {"MY-MCMC", "MY-PDRM"}, (
            outbox + logs
        )
        assert wait_for_agencies(homes["my"] / "casehub.db", "FR") == {
            "AE-RELAYGRAM",
            "FR-PARQUET-J3",
        }
        for hub in HUBS:
            assert _sh("casehub federation outbox --state dead", envs[hub]).stdout == (
                "the outbox is empty\n"
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    assert identities == {hub: (homes[hub] / "keyring.json").read_bytes() for hub in HUBS}


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} did not become ready")


def wait_for_agencies(db: Path, home: str) -> set[str]:
    """The codes of the agencies whose home hub is `home`, once there are any (30 s)."""
    deadline = time.monotonic() + 30
    while True:
        with sqlite3.connect(db) as connection:
            rows = connection.execute(
                "SELECT a.code FROM agency a JOIN federation_peer p ON p.hub_id = a.home_hub_id "
                "WHERE p.name = ?",
                (home,),
            ).fetchall()
        connection.close()
        if rows or time.monotonic() > deadline:
            return {code for (code,) in rows}
        time.sleep(0.3)
