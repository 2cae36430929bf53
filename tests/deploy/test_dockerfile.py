"""What hadolint cannot see in deploy/Dockerfile and the build contexts' ignore files, checked
without a Docker engine: the HEALTHCHECK asks the port the server binds, no anonymous volume,
every package comes from a hashed lock, the image carries its SBOM, and no local virtual
environment or cache is sent to the builder."""

from __future__ import annotations

import fnmatch
import http.server
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (name, arguments), continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def runtime_stage() -> list[tuple[str, str]]:
    """The instructions of the last stage, the image that runs."""
    found = instructions()
    last_from = max(i for i, (name, _) in enumerate(found) if name == "FROM")
    return found[last_from:]


def environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, arguments in runtime_stage():
        if name == "ENV":
            for item in shlex.split(arguments):
                name_, _, value = item.partition("=")
                env[name_] = value
    return env


def healthcheck_command() -> list[str]:
    (arguments,) = [arguments for name, arguments in runtime_stage() if name == "HEALTHCHECK"]
    command: list[str] = json.loads(arguments.split(" CMD ", 1)[1])  # exec form: a JSON array
    return command


class Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def healthz_port() -> Iterator[int]:
    """A port (not 8000) where /healthz answers 200."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_healthcheck(port: int) -> int:
    program, *arguments = healthcheck_command()
    assert program == "python"
    env = {**os.environ, "CASEHUB_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *arguments], env=env, capture_output=True, timeout=30, check=False
    ).returncode


def test_the_healthcheck_asks_the_port_the_server_binds(healthz_port: int) -> None:
    # The server binds CASEHUB_PORT (no --port in CMD, which would bypass it); the check reads
    # the same variable, so it follows a deployment that serves on another port.
    env = environment()
    assert env["CASEHUB_PORT"] == "8000"
    assert env["CASEHUB_HOST"] == "0.0.0.0"  # noqa: S104  # a container serves its network
    (command,) = [json.loads(arguments) for name, arguments in runtime_stage() if name == "CMD"]
    assert command == ["serve"]
    assert "8000" not in " ".join(healthcheck_command())
    assert run_healthcheck(healthz_port) == 0
    assert run_healthcheck(closed_port()) != 0  # so the check fails on any other port


def pip_installs() -> list[list[str]]:
    """The arguments of every `pip install` the RUN instructions run (any venv's pip)."""
    found: list[list[str]] = []
    for name, arguments in instructions():
        if name == "RUN":
            for command in arguments.split("&&"):
                words = shlex.split(command)
                if words[:1] and Path(words[0]).name == "pip" and words[1:2] == ["install"]:
                    found.append(words[2:])
    return found


def test_every_package_comes_from_a_hashed_lock() -> None:
    # The image holds exactly the versions `make lock` resolved, each file checked against its
    # hash, wheels only (no downloaded code runs at build time). casehub is the one package
    # built: from the context, with no dependency resolved and no build environment fetched.
    installs = pip_installs()
    locks = [words[words.index("-r") + 1] for words in installs if "-r" in words]
    assert locks == ["requirements/runtime.lock", "deploy/sbom.lock"]
    for words in installs:
        if "-r" in words:
            assert {"--require-hashes", "--only-binary=:all:"} <= set(words), words
        else:
            assert words[-1] == ".", words
            assert {"--no-deps", "--no-build-isolation"} <= set(words), words
    for lock in locks:
        pins = [line for line in (ROOT / lock).read_text().splitlines() if "==" in line]
        assert pins, f"{lock} pins nothing"
        assert all(line.endswith("\\") for line in pins), f"{lock}: a pin without hashes"


def test_the_image_carries_its_sbom_and_not_its_generator() -> None:
    # The SBOM is made in the builder from the venv as installed; of the builder, the runtime
    # stage takes that venv and the SBOM only (the generator's venv, /opt/sbom, stays behind).
    copied = [shlex.split(arguments) for name, arguments in runtime_stage() if name == "COPY"]
    assert copied == [
        ["--from=builder", "/opt/venv", "/opt/venv"],
        ["--from=builder", "/src/sbom.cdx.json", "/usr/share/doc/casehub/sbom.cdx.json"],
    ]
    (generated,) = [arguments for name, arguments in instructions() if "cyclonedx-py" in arguments]
    assert generated.endswith("-o /src/sbom.cdx.json /opt/venv")


def test_the_image_declares_no_volume() -> None:
    # VOLUME gives every container an anonymous volume, on PostgreSQL too; SQLite deployments
    # mount one at /var/lib/casehub themselves.
    assert [arguments for name, arguments in instructions() if name == "VOLUME"] == []


def ignored(patterns: list[str], path: str) -> bool:
    """Whether the builder leaves `path` out of the context: the last matching pattern decides,
    a pattern matching a parent directory covers what is below it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        globs = [glob, glob.removeprefix("**/")] if glob.startswith("**/") else [glob]
        candidates = prefixes + [part for part in parts if glob.startswith("**/")]
        if any(fnmatch.fnmatchcase(each, g) for each in candidates for g in globs):
            excluded = not negated
    return excluded


def patterns(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("ignore_file", [".dockerignore", "deploy/Dockerfile.dockerignore"])
def test_local_environments_and_caches_stay_out_of_the_build_context(ignore_file: str) -> None:
    # .dockerignore is the legacy builder's; BuildKit reads the one named after the Dockerfile.
    rules = patterns(ignore_file)
    for local in [
        ".venv/bin/python",
        ".venv-deploy/bin/checkov",
        ".venv-deploy/rendered/base.yaml",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache",
        "casehub/__pycache__/app.cpython-311.pyc",
        "keyring.json",
        ".git/HEAD",
    ]:
        assert ignored(rules, local), f"{ignore_file} sends {local} to the builder"
    needed_files = ["pyproject.toml", "README.md", "casehub/app.py"]
    for needed in [*needed_files, "requirements/runtime.lock", "deploy/sbom.lock"]:
        assert not ignored(rules, needed), f"{ignore_file} leaves out {needed}"
