"""Apollo Client's persisted-query link, unmodified, for tests/api/test_persisted_documents.py:
npm installs the pinned release into a cache directory on first use (as graphql-http's audit
is installed, tests/api/graphql_http_audit.py, whose live server this reuses); node runs
apollo_apq.cjs against it. Where node or the package cannot be had the test is skipped, naming
why; under CI=true it fails instead."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from tests import node_packages

# Pinned: the link's retry rules are what is tested. graphql as graphql-http's pin.
APOLLO_CLIENT = "4.3.8"
RXJS = "7.8.2"
GRAPHQL_JS = "16.15.0"
SCRIPT = Path(__file__).with_name("apollo_apq.cjs")
RUN_SECONDS = 60


def install() -> tuple[str, Path]:
    """The node command and the node_modules holding @apollo/client."""
    packages = [f"@apollo/client@{APOLLO_CLIENT}", f"rxjs@{RXJS}", f"graphql@{GRAPHQL_JS}"]
    return node_packages.install(packages, "Apollo Client's persisted-query test")


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
