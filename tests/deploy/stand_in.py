"""The base image of deploy/Dockerfile for tests/deploy/test_image.py, or a stand-in for it
where the engine can neither find it nor pull it (a machine that reaches a Debian mirror and
the package index but no container registry).

The stand-in is Debian bookworm made with debootstrap, with Debian's Python 3.11 (venv, and
`python` on PATH as in the real base) and this machine's CA bundle, so that a TLS-inspecting
proxy the machine trusts is trusted inside the build too. It is kept under a tag of its own
and carries the base's name only while the image is built."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"
STAND_IN = "casehub-test/stand-in-base:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
PACKAGES = "python3.11,python3.11-venv,python3-venv,python-is-python3,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What the real base declares and an imported file system lacks.
IMAGE_CONFIG = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
]
DEBOOTSTRAP_SECONDS = 900


def base_image() -> str:
    """The image the Dockerfile's first stage starts from."""
    match = re.search(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE | re.IGNORECASE)
    assert match, "deploy/Dockerfile has no FROM"
    return match[1]


def run(
    *command: str, timeout: float, stdin: IO[bytes] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, stdin=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def why_no_stand_in() -> str | None:
    """Why no stand-in can be made here, or None."""
    if shutil.which("debootstrap") is None:
        return "no debootstrap"
    if os.geteuid() != 0:
        return "debootstrap needs root"
    return None


def make_stand_in(docker: str, workdir: Path) -> None:
    """Bootstrap the stand-in's file system into `workdir` and import it as STAND_IN."""
    rootfs = workdir / "rootfs"
    bootstrap = run(
        "debootstrap", "--variant=minbase", f"--include={PACKAGES}",
        "bookworm", str(rootfs), DEBIAN_MIRROR,
        timeout=DEBOOTSTRAP_SECONDS,
    )  # fmt: skip
    assert bootstrap.returncode == 0, f"debootstrap: {bootstrap.stdout[-2000:]}{bootstrap.stderr}"
    if CA_BUNDLE.is_file():
        shutil.copyfile(CA_BUNDLE, rootfs / CA_BUNDLE.relative_to("/"))
    changes = [argument for change in IMAGE_CONFIG for argument in ("--change", change)]
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        imported = run(docker, "import", *changes, "-", STAND_IN, timeout=600, stdin=tar.stdout)
    assert imported.returncode == 0, f"docker import: {imported.stderr}"
    assert tar.returncode == 0, "tar of the stand-in's file system failed"


@contextmanager
def base_available(docker: str, workdir: Path) -> Iterator[str | None]:
    """Within it the engine has the Dockerfile's base image: the real one (yields None), else
    the stand-in under the base's name (yields why). Skips when neither can be had."""
    base = base_image()
    if run(docker, "image", "inspect", base, timeout=60).returncode == 0:
        yield None
        return
    pulled = run(docker, "pull", base, timeout=600)
    if pulled.returncode == 0:
        yield None
        return
    pull_error = (pulled.stderr.strip().splitlines() or ["docker pull failed"])[-1]
    missing = why_no_stand_in()
    if missing:
        why = f"{base} cannot be pulled ({pull_error}) and no stand-in made ({missing})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the image test: {why}")
        pytest.skip(why)
    if run(docker, "image", "inspect", STAND_IN, timeout=60).returncode != 0:
        make_stand_in(docker, workdir)
    tagged = run(docker, "tag", STAND_IN, base, timeout=60)
    assert tagged.returncode == 0, f"docker tag: {tagged.stderr}"
    try:
        yield f"{base} cannot be pulled ({pull_error}): built on {STAND_IN}"
    finally:
        run(docker, "image", "rm", base, timeout=60)  # the tag only: the stand-in stays
