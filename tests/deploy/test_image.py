"""The container image, built from deploy/Dockerfile and run as deployments run it: on a
read-only root filesystem, with no capability, as its own user. Against SQLite in a volume it
creates a keyring, migrates, serves, and answers /healthz and /readyz. It holds exactly the
packages of requirements/runtime.lock, and an SBOM that names them.

It needs a Docker engine: the one running, else Debian's, installed and started for the module
(tests/deploy/engine.py); skipped, saying so, where neither can be had outside CI. Where the
engine cannot pull the base image, it builds on a stand-in made from Debian packages
(tests/deploy/stand_in.py)."""

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

from tests.deploy.engine import docker_engine
from tests.deploy.stand_in import base_available
from tests.deploy.supply_chain import components, locked, normalized

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Not the image's default (8000): the server and its HEALTHCHECK both follow CASEHUB_PORT.
SERVER_PORT = 8001
BUILD = 900  # seconds  # a cold build downloads the base image and every dependency
SBOM = "/usr/share/doc/casehub/sbom.cdx.json"
# In the image's venv but not in the lock: python -m venv installs the interpreter's own pip.
UNLOCKED = {"casehub", "pip"}
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


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The image, built from the working tree; removed afterwards."""
    with docker_engine() as docker_path:
        tag = f"casehub:test-{secrets.token_hex(4)}"
        with base_available(docker_path, tmp_path_factory.mktemp("stand-in")) as stand_in:
            if stand_in:
                print(stand_in)  # shown with a failure
            build = ["build", "--file", str(DEPLOY / "Dockerfile"), "--tag", tag, str(ROOT)]
            docker(*build, timeout=BUILD)
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


def test_the_image_holds_exactly_the_locked_packages_and_their_sbom(image: str) -> None:
    pip_list = ["-m", "pip", "list", "--format", "json"]
    listing = docker("run", "--rm", "--entrypoint", "python", image, *pip_list)
    installed = {normalized(each["name"]): each["version"] for each in json.loads(listing)}
    pins = locked()
    assert {name: installed[name] for name in installed.keys() - UNLOCKED} == {
        name: pin.version for name, pin in pins.items() if name in installed
    }
    # What the lock has and the image lacks applies elsewhere only (Windows, PyPy).
    assert all(pins[name].marker for name in pins.keys() - installed.keys())
    # The SBOM describes the venv as installed, casehub as its root.
    bom = json.loads(docker("run", "--rm", "--entrypoint", "cat", image, SBOM))
    assert bom["metadata"]["component"]["name"] == "casehub"
    assert components(bom) == {name: installed[name] for name in installed.keys() - {"casehub"}}
