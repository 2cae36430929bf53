"""The node clients an agency tool in TypeScript is built with, pinned, installed on first use
through tests/node_packages.py and run by node against a live server: graphql-request and
graphql-ws (with ws, node 20 having no WebSocket of its own), Apollo Client with its upload link,
and GraphQL Code Generator with the TypeScript compiler."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

from tests import node_packages
from tests.api.apollo_apq import APOLLO_CLIENT, GRAPHQL_JS, RXJS

# Pinned, like every node package the suite runs: a new release is taken on purpose, once
# this suite passes on it. graphql, Apollo Client and rxjs as Apollo's persisted-query test.
GRAPHQL_REQUEST = "7.4.0"
GRAPHQL_WS = "6.4.2"
WS = "8.23.1"
# 19: the last release for node 20 (20 asks for node 22) and Apollo Client 4.
APOLLO_UPLOAD_CLIENT = "19.0.0"
CODEGEN_CLI = "7.4.3"
CODEGEN_TYPESCRIPT = "6.1.0"
CODEGEN_OPERATIONS = "6.1.9"
TYPESCRIPT = "5.9.3"

HERE = Path(__file__).parent
RUN_SECONDS = 60


def install_clients() -> tuple[str, Path]:
    """The node command and a node_modules with the runtime clients."""
    packages = [
        f"graphql@{GRAPHQL_JS}",
        f"graphql-request@{GRAPHQL_REQUEST}",
        f"graphql-ws@{GRAPHQL_WS}",
        f"ws@{WS}",
        f"@apollo/client@{APOLLO_CLIENT}",
        f"rxjs@{RXJS}",
        f"apollo-upload-client@{APOLLO_UPLOAD_CLIENT}",
    ]
    return node_packages.install(packages, "the node clients' tests")


def install_codegen() -> tuple[str, Path]:
    """The node command and a node_modules with GraphQL Code Generator and tsc."""
    packages = [
        f"graphql@{GRAPHQL_JS}",
        f"@graphql-codegen/cli@{CODEGEN_CLI}",
        f"@graphql-codegen/typescript@{CODEGEN_TYPESCRIPT}",
        f"@graphql-codegen/typescript-operations@{CODEGEN_OPERATIONS}",
        f"typescript@{TYPESCRIPT}",
    ]
    return node_packages.install(packages, "GraphQL Code Generator's test")


def workdir(modules: Path, directory: Path) -> Path:
    """`directory` with a node_modules beside what runs there: ES modules resolve packages
    from the script's own place, never from NODE_PATH."""
    link = directory / "node_modules"
    if not link.exists():
        link.symlink_to(modules, target_is_directory=True)
    return directory


async def run_script(node: str, directory: Path, script: str, step: str, **env: str) -> Any:
    """What `script` (a file beside this one, copied into `directory`, a workdir) printed as
    JSON running `step`; it must exit 0."""
    shutil.copyfile(HERE / script, directory / script)
    process = await asyncio.create_subprocess_exec(
        node,
        script,
        step,
        cwd=directory,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), RUN_SECONDS)
    assert process.returncode == 0, err.decode()
    return json.loads(out)
