"""The container image, built from deploy/Dockerfile and run as deployments run it: on a
read-only root filesystem, with no capability, as its own user. Against SQLite in a volume it
creates a keyring, migrates, serves, and answers /healthz and /readyz.

It needs a Docker engine and is skipped, saying so, where there is none (`make validate-deploy`
still lints the Dockerfile there)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Not the image's default (8000): the server and its HEALTHCHECK both follow CASEHUB_PORT.
SERVER_PORT = 8001
BUILD = 900  # seconds  # a cold build downloads the base image and every dependency
READY_SECONDS = 60
DATA = "/var/lib/casehub"  # a volume mounted there: writable although the root filesystem is not
# Both live in the volume; the image's default keyring path expects a mounted Secret instead.
ENVIRONMENT = {
    "CASEHUB_DATABASE_URL": f"sqlite+aiosqlite:///{DATA}/casehub.db",
    "CASEHUB_KEYRING": f"{DATA}/keyring.json",
}


def docker(*args: str, timeout: float = 120) -> str:
    """Run a docker command; its stdout. Fails the test with its stderr when it fails."""
    docker_path = shutil.which("docker")
    assert docker_path
    result = subprocess.run(
        [docker_path, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def engine_missing() -> str | None:
    """Why no image can be built or run here, or None when a Docker engine answers."""
    docker_path = shutil.which("docker")
    if docker_path is None:
        return "there is no docker command"
    result = subprocess.run(
        [docker_path, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return lines[-1] if lines else f"`docker info` exited {result.returncode}"
    return None


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The image, built from the working tree; removed afterwards."""
    missing = engine_missing()
    if missing:
        pytest.skip(f"no Docker engine here ({missing}): the image is not built or run")
    tag = f"casehub:test-{secrets.token_hex(4)}"
    docker("build", "--file", str(DEPLOY / "Dockerfile"), "--tag", tag, str(ROOT), timeout=BUILD)
    try:
        yield tag
    finally:
        docker("image", "rm", "--force", tag)


@pytest.fixture
def volume() -> Iterator[str]:
    """A fresh named volume for the data directory. Docker gives a new volume the ownership of
    the image's directory it is mounted on (uid 10001, mode 0700)."""
    name = docker("volume", "create")
    try:
        yield name
    finally:
        docker("volume", "rm", "--force", name)


def hardened(volume: str) -> list[str]:
    """`docker run` options as the deployments use them."""
    options = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
    options += ["--security-opt", "no-new-privileges", "--volume", f"{volume}:{DATA}"]
    for name, value in ENVIRONMENT.items():
        options += ["--env", f"{name}={value}"]
    return options


def logs(container: str) -> str:
    """What the container printed, stdout and stderr interleaved."""
    docker_path = shutil.which("docker")
    assert docker_path
    return subprocess.run(
        [docker_path, "logs", container],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=30,
        check=False,
    ).stdout


def wait_for(url: str) -> httpx.Response:
    """The first answer of `url`, once the server listens."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_image_serves_on_a_read_only_root_filesystem(image: str, volume: str) -> None:
    # The one-shot commands an operator runs, then the image's own entrypoint and command.
    docker("run", "--rm", *hardened(volume), image, "keys", "init")
    docker("run", "--rm", *hardened(volume), image, "db", "upgrade")
    port = ["--env", f"CASEHUB_PORT={SERVER_PORT}", "--publish", f"127.0.0.1::{SERVER_PORT}"]
    container = docker("run", "--detach", *hardened(volume), *port, image)
    try:
        address = docker("port", container, f"{SERVER_PORT}/tcp").splitlines()[0]
        base = f"http://{address}"
        assert wait_for(f"{base}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert docker("exec", container, "id", "-u") == "10001"
        assert docker("inspect", "--format", "{{.Config.User}}", image) == "10001:10001"
        assert docker("inspect", "--format", "{{json .Config.Volumes}}", image) == "null"
        healthcheck = docker("inspect", "--format", "{{json .Config.Healthcheck.Test}}", image)
        check = json.loads(healthcheck)
        assert check[0] == "CMD"
        docker("exec", container, *check[1:])  # healthy on the port the server binds
    except BaseException:
        print(logs(container))  # shown by pytest with the failure
        raise
    finally:
        docker("rm", "--force", container)
