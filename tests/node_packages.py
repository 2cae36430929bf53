"""Node packages the suite drives real clients with (graphql-http's audit, Apollo Client, a
browser through playwright-core): installed once, pinned, into a cache of their own, under a
lock because xdist workers may ask at the same time. Where they cannot be had the test is
skipped, naming why; under CI=true it fails instead."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

INSTALL_SECONDS = 900
ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "casehub-tests"


def unavailable(what: str, why: str) -> NoReturn:
    """Skip (fail under CI=true) a test that needs what cannot be had."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} cannot run, and CI requires it: {why}")
    pytest.skip(f"{what} cannot run here: {why}")


def run(command: list[str], step: str, what: str) -> None:
    """One install step; `unavailable` when it fails or hangs."""
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        unavailable(what, f"{step} took more than {INSTALL_SECONDS} s")
    if result.returncode != 0:
        unavailable(what, f"{step} failed: {(result.stderr or result.stdout).strip()[-500:]}")


def install(packages: Sequence[str], what: str) -> tuple[str, Path]:
    """The node command and a node_modules holding the pinned `packages` (name@version), in
    a cache directory named after them; scripts are never run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable(what, "no node or npm on PATH")
    cache = ROOT / "-".join(package.replace("/", "_") for package in packages)
    done = cache / ".installed"  # written last: a half-finished install is redone
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            command = [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund"]
            run([*command, "--ignore-scripts", *packages], "npm install", what)
            done.write_text(" ".join(packages) + "\n")
    return node, cache / "node_modules"
