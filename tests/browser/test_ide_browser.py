"""The development IDE in a real browser: Debian's Chromium, driven by playwright-core (npm),
against a live casehub in development mode. The page loads with every request on 127.0.0.1,
asks for the token, loads the schema once it has it, runs a query, and leaves nothing in the
browser's storage. The setup installs Chromium (apt-get) and playwright-core (npm, pinned) on
first use; where either cannot be had the test is skipped, naming why; under CI=true it fails.
The screenshot is kept under pytest's temporary directory (its path is printed)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from casehub.config import Environment
from casehub.services.runtime import Runtime
from tests import node_packages
from tests.api import graphql_http_audit
from tests.security.gate_support import with_settings

# Pinned: the version this machine's notes show driving Debian's Chromium.
PLAYWRIGHT_CORE = "1.64.1"
CHROMIUM = Path(os.environ.get("CASEHUB_CHROMIUM", "/usr/bin/chromium"))
SCRIPT = Path(__file__).with_name("ide_browser.cjs")
RUN_SECONDS = 180
LOOPBACK = "127.0.0.1"
WHAT = "the IDE's browser test"


def install_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing (root only)."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        node_packages.unavailable(
            WHAT, f"{CHROMIUM} is missing and apt-get cannot install it (needs root)"
        )
    node_packages.ROOT.mkdir(parents=True, exist_ok=True)
    with (node_packages.ROOT / ".chromium.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not CHROMIUM.exists():
            environment = ["env", "DEBIAN_FRONTEND=noninteractive"]
            node_packages.run([*environment, apt, "update"], "apt-get update", WHAT)
            install = [*environment, apt, "install", "-y", "chromium"]
            node_packages.run(install, "apt-get install chromium", WHAT)
    if not CHROMIUM.exists():
        node_packages.unavailable(WHAT, f"apt-get installed chromium but {CHROMIUM} is missing")
    return CHROMIUM


def install_playwright() -> tuple[str, Path]:
    """The node command and the node_modules holding playwright-core (which downloads no
    browser)."""
    return node_packages.install([f"playwright-core@{PLAYWRIGHT_CORE}"], WHAT)


async def drive(node: str, modules: Path, url: str, token: str, screenshot: Path) -> Any:
    """What ide_browser.cjs saw (its JSON report)."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        url,
        str(screenshot),
        env={
            **os.environ,
            "NODE_PATH": str(modules),
            "CASEHUB_IDE_TOKEN": token,
            "CASEHUB_CHROMIUM": str(CHROMIUM),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), RUN_SECONDS)
    assert process.returncode == 0, err.decode()
    return json.loads(out)


async def test_the_ide_works_offline_and_keeps_no_token(
    runtime: Runtime, world: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_chromium()
    node, modules = install_playwright()
    agency = await world.agency("IDE")
    screenshot = tmp_path / "graphiql.png"
    development = with_settings(runtime, env=Environment.DEVELOPMENT)
    async with graphql_http_audit.live(development) as url:
        report = await drive(node, modules, url, agency.token, screenshot)
    with capsys.disabled():
        print(f"\nGraphiQL screenshot: {screenshot}")
    assert "failure" not in report, json.dumps(report, indent=1)[-6000:]
    # Offline: every request the page made (and its sockets) went to the server under test.
    addresses = report["requests"] + report["sockets"]
    assert addresses, report
    elsewhere = [url for url in addresses if urlsplit(url).hostname != LOOPBACK]
    assert not elsewhere, elsewhere
    # The prompt came first; GraphiQL, and its first request, only after the token.
    assert report["beforeToken"] == 0, report["requests"]
    assert report["graphiqlHiddenBeforeToken"] is True
    assert report["introspected"], report
    assert all(
        fetch["status"] == 200 and fetch["authorized"] for fetch in report["introspected"]
    ), report["introspected"]
    assert "Query" in report["docs"], report["docs"]
    assert agency.code in report["result"], report["result"]
    assert report["socket"] == "connection_ack", report["socket"]
    # Nothing stored: no token in local or session storage, nor in a cookie.
    assert report["storage"] == {"local": {}, "session": {}}, report["storage"]
    assert agency.token not in json.dumps(report["storage"])
    assert report["cookies"] == []
    # Nothing the policy refused, and no script error.
    assert report["refused"] == [], report["refused"]
    refused = [line for line in report["console"] if "Content Security Policy" in line]
    assert not refused, refused
    assert report["errors"] == [], report["errors"]
    assert screenshot.stat().st_size > 10_000
