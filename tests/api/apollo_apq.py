"""Apollo Client's persisted-query link, unmodified, for tests/api/test_persisted_documents.py:
npm installs the pinned release into a cache directory on first use (as graphql-http's audit
is installed, tests/api/graphql_http_audit.py, whose live server this reuses); node runs
apollo_apq.cjs against it. Where node or the package cannot be had the test is skipped, naming
why; under CI=true it fails instead."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

# Pinned: the link's retry rules are what is tested. graphql as graphql-http's pin.
APOLLO_CLIENT = "4.3.8"
RXJS = "7.8.2"
GRAPHQL_JS = "16.15.0"
SCRIPT = Path(__file__).with_name("apollo_apq.cjs")
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "casehub-tests"
    / f"apollo-client-{APOLLO_CLIENT}-rxjs-{RXJS}-graphql-{GRAPHQL_JS}"
)
INSTALL_SECONDS = 300
RUN_SECONDS = 60


def _unavailable(why: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Apollo Client's persisted-query test cannot run, and CI requires it: {why}")
    pytest.skip(f"Apollo Client's persisted-query test cannot run here: {why}")


def install() -> tuple[str, Path]:
    """The node command and the node_modules holding @apollo/client, installed when missing
    (under a lock: xdist workers may ask at the same time)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("no node or npm on PATH")
    packages = [f"@apollo/client@{APOLLO_CLIENT}", f"rxjs@{RXJS}", f"graphql@{GRAPHQL_JS}"]
    done = CACHE / ".installed"  # written last: a half-finished install is redone
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            command = [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                *packages,
            ]
            try:
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False
                )
            except subprocess.TimeoutExpired:
                _unavailable(f"npm install took more than {INSTALL_SECONDS} s")
            if result.returncode != 0:
                _unavailable(f"npm install failed: {result.stderr.strip()[-500:]}")
            done.write_text(" ".join(packages) + "\n")
    return node, CACHE / "node_modules"


async def run_link(
    node: str, modules: Path, url: str, token: str, query: str, use_get: bool
) -> dict[str, Any]:
    """What two fresh Apollo clients saw running `query` through the link: each one's result
    and HTTP exchanges (method, whether it carried the text and the hash, status, code)."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        url,
        env={
            **os.environ,
            "NODE_PATH": str(modules),
            "CASEHUB_TOKEN": token,
            "CASEHUB_QUERY": query,
            "USE_GET": "1" if use_get else "0",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), RUN_SECONDS)
    assert process.returncode == 0, err.decode()
    seen: dict[str, Any] = json.loads(out)
    return seen
