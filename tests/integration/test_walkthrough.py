"""The README's request walk-through (docs/examples/walkthrough.py) run as its readers run it:
the demo served by `casehub demo`, the platform's desk and the police in two processes with
casehub.client, every decisive step signed, and both ending with every signature checked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_cli import free_port
from tests.integration.test_demo import CASEHUB, demo_env, run_demo

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "walkthrough.py"


@pytest.fixture
def demo_hub(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`casehub demo` loaded and serving on a free port in tmp_path; its URL and tokens."""
    tokens = run_demo(tmp_path).tokens
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(CASEHUB), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=demo_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
        time.sleep(0.2)
    try:
        # The second run printed fresh tokens; the first run's are still valid.
        yield url, tokens
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def test_the_walkthrough_signs_every_step_and_both_sides_verify(
    demo_hub: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = demo_hub
    env = {
        **demo_env(),
        "CASEHUB_URL": url,
        "PDRM": tokens["MY-PDRM"],
        "RG": tokens["AE-RELAYGRAM"],
    }
    env["CASEHUB_DEMO_KEYS"] = str(tmp_path / ".casehub" / "demo-agency-keys")

    def role(name: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(EXAMPLE), name],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    platform = role("platform")
    requester = role("requester")
    asked, _ = requester.communicate(timeout=90)
    answered, _ = platform.communicate(timeout=30)
    assert requester.returncode == 0, asked
    assert platform.returncode == 0, answered
    # The police see the answer and check both agencies' signatures themselves.
    assert "answer: FULFILLED" in asked, asked
    assert "SUBMIT   VERIFIED  MY-PDRM VERIFIED" in asked, asked
    assert "ACCEPT   VERIFIED  AE-RELAYGRAM VERIFIED" in asked, asked
    assert "FULFIL   VERIFIED  AE-RELAYGRAM VERIFIED" in asked, asked
    assert asked.rstrip().endswith("every signature checks out"), asked
    # The platform checked the police's signature before it acted on the request.
    received = answered.split("fulfilled:")[0]
    assert "SUBMIT   VERIFIED  MY-PDRM VERIFIED" in received, answered
    assert answered.rstrip().endswith("every signature checks out"), answered
    assert os.path.exists(env["CASEHUB_DEMO_KEYS"])
