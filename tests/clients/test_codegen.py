"""GraphQL Code Generator (typescript-operations and typescript plugins) types the cases page,
openCase and the inbox subscription, and the whole schema, from the committed schema.graphql,
and tsc, strict, compiles
code that uses them (use_types.ts) and rejects, line by line, code that misuses them
(misuse_types.ts). Skipped, naming why, only where node or the packages cannot be had; under
CI=true that fails instead (tests/node_packages.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients import node_clients
from tests.clients.operations import CASES_PAGE, INBOX, OPEN_CASE

REPO = Path(__file__).resolve().parents[2]
RUN_SECONDS = 120
CONFIG = {
    "schema": str(REPO / "schema.graphql"),
    "documents": "operations.graphql",
    # Two files: from the 6.x plugins on, typescript-operations declares the enums and inputs
    # its operations use itself, which the typescript plugin's file would declare twice.
    "generates": {
        "types.ts": {"plugins": ["typescript-operations"]},
        # Every type of the schema, enums as string unions: the value the API takes ("AMBER").
        "schema.ts": {"plugins": ["typescript"], "config": {"enumsAsTypes": True}},
    },
}


def run(node: str, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The node command, and the directory where codegen wrote types.ts."""
    node, modules = node_clients.install_codegen()
    directory = node_clients.workdir(modules, tmp_path_factory.mktemp("codegen"))
    documents = "\n\n".join([CASES_PAGE, OPEN_CASE, INBOX]) + "\n"
    (directory / "operations.graphql").write_text(documents)
    (directory / "codegen.json").write_text(json.dumps(CONFIG))
    cli = "node_modules/@graphql-codegen/cli/esm/bin.js"
    result = run(node, directory, cli, "--config", "codegen.json")
    assert result.returncode == 0, result.stdout + result.stderr
    return node, directory


def tsc(generated: tuple[str, Path], source: str) -> subprocess.CompletedProcess[str]:
    """tsc, strict and emitting nothing, on `source` (a file beside this one) and what it
    imports of codegen's output."""
    node, directory = generated
    shutil.copyfile(Path(__file__).with_name(source), directory / source)
    flags = ["--noEmit", "--strict", "--skipLibCheck", "--pretty", "false", "--target", "es2022"]
    flags += ["--module", "esnext", "--moduleResolution", "bundler"]
    return run(node, directory, "node_modules/typescript/bin/tsc", *flags, source)


def test_codegen_types_each_operation_and_the_schema(generated: tuple[str, Path]) -> None:
    types = (generated[1] / "types.ts").read_text()
    for name in ("CasesPageQuery", "OpenCaseMutation", "InboxSubscription"):
        assert f"export type {name} = " in types
        assert f"export type {name}Variables = " in types
    schema = (generated[1] / "schema.ts").read_text()
    for name in ("Case", "CooperationRequest", "RequestEvent", "AddEvidenceInput"):
        assert f"export type {name} = " in schema


def test_tsc_compiles_code_using_the_generated_types(generated: tuple[str, Path]) -> None:
    result = tsc(generated, "use_types.ts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_tsc_rejects_each_misuse_of_the_generated_types(generated: tuple[str, Path]) -> None:
    source = "misuse_types.ts"
    lines = Path(__file__).with_name(source).read_text().splitlines()
    wrong = {number for number, line in enumerate(lines, 1) if "// wrong" in line}
    result = tsc(generated, source)
    assert result.returncode != 0
    reported = {
        int(match[1])
        for match in re.finditer(
            rf"^{re.escape(source)}\((\d+),\d+\): error TS", result.stdout, re.M
        )
    }
    assert reported == wrong, result.stdout
