"""graphql-http's server audit (GraphQL over HTTP conformance) for
tests/api/test_graphql_over_http.py: npm installs the pinned release into a cache directory on
first use; uvicorn serves the app on a loopback port; node runs graphql_http_audit.cjs against
it. Where node or the package cannot be had the test is skipped, naming why; under CI=true it
fails instead."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn

from casehub.services.runtime import Runtime
from tests import node_packages
from tests.security.gate_support import app_of

# The audit's list of checks changes between releases: pinned, as is its peer dependency.
GRAPHQL_HTTP = "1.23.1"
GRAPHQL_JS = "16.15.0"
SCRIPT = Path(__file__).with_name("graphql_http_audit.cjs")
AUDIT_SECONDS = 120
WHAT = "graphql-http's audit"


def install() -> tuple[str, Path]:
    """The node command and the node_modules holding graphql-http."""
    return node_packages.install([f"graphql-http@{GRAPHQL_HTTP}", f"graphql@{GRAPHQL_JS}"], WHAT)


@asynccontextmanager
async def live(runtime: Runtime) -> AsyncIterator[str]:
    """A fresh app on this runtime behind uvicorn on a free loopback port: its /graphql URL.
    No lifespan: the runtime is the test session's, started and stopped by its fixtures."""
    config = uvicorn.Config(
        app_of(runtime), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises what stopped it
                raise AssertionError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await serving


async def audit(node: str, modules: Path, url: str, token: str) -> list[dict[str, Any]]:
    """Every audit's result: id, name, status (ok, notice, warn, error), reason and the HTTP
    status of a failed one."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        url,
        env={**os.environ, "NODE_PATH": str(modules), "CASEHUB_AUDIT_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), AUDIT_SECONDS)
    assert process.returncode == 0, err.decode()
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a text table, failed audits with what they got, and a count by status."""
    lines = [f"graphql-http {GRAPHQL_HTTP} server audit", f"{'id':<5} {'status':<6} audit"]
    for row in rows:
        line = f"{row['id']:<5} {row['status']:<6} {row['name']}"
        if row["status"] != "ok":
            line += f"  [got {row['got']}: {row['reason']}]"
        lines.append(line)
    counts = {status: 0 for status in ("ok", "notice", "warn", "error")}
    for row in rows:
        counts[row["status"]] += 1
    lines.append(" / ".join(f"{status} {count}" for status, count in counts.items()))
    return "\n".join(lines)
