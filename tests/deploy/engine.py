"""A Docker engine for tests/deploy/test_image.py: the one already answering, or one these tests
install from Debian's packages (docker.io) and start for the session, as they do PostgreSQL.

Under CI=true a machine where no engine can be had fails the test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

INSTALL_SECONDS = 600
START_SECONDS = 60


def _answer(docker: str) -> str | None:
    """Why `docker info` fails, or None when an engine answers."""
    result = subprocess.run(
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode == 0:
        return None
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"`docker info` exited {result.returncode}"


def _install() -> str | None:
    """Install Debian's engine (and debootstrap, for the stand-in base); why not, or None."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "installing docker.io needs root and apt-get"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "docker.io", "debootstrap"],
    ):
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            env=environment,
            check=False,
        )
        if result.returncode != 0:
            return f"{' '.join(command)}: {result.stderr.strip()[-500:]}"
    return None


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"no Docker engine, and CI requires the image test: {why}")
    pytest.skip(f"no Docker engine here ({why}): the image is not built or run")


@contextmanager
def docker_engine() -> Iterator[str]:
    """The path of the docker command, with an engine answering it while the context lasts;
    an engine these tests started is stopped at the end."""
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        failed = _install()
        if failed:
            _unavailable(failed)
    docker = shutil.which("docker")
    dockerd = shutil.which("dockerd")
    if docker is None or dockerd is None:
        _unavailable("docker.io installed no docker or dockerd command")
        raise AssertionError("unreachable")  # for the type checker: _unavailable raises
    if _answer(docker) is None:
        yield docker
        return
    with tempfile.NamedTemporaryFile("w+", prefix="dockerd-", suffix=".log") as log:
        daemon = subprocess.Popen(
            [dockerd], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while (why := _answer(docker)) is not None:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = "".join(log.readlines()[-5:])
                    _unavailable(f"dockerd did not start ({why}): {tail}")
                time.sleep(1)
            yield docker
        finally:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
