"""casehub/client/generated/ is what `make client` writes: ariadne-codegen, from its hashed lock
in a virtual environment of its own (.venv-codegen), run with the committed [tool.ariadne-codegen]
config on the committed schema.graphql and casehub/client/operations.graphql, produces the
committed package file for file. A schema or operation changed without `make client` fails here.

The virtual environment is built when missing; where the package index cannot be reached the
test is skipped, naming why, and under CI=true it fails instead (tests/node_packages.py)."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.node_packages import unavailable

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-codegen"
GENERATED = Path("casehub/client/generated")
# What the codegen run reads, at the same paths relative to its working directory.
INPUTS = ("pyproject.toml", "schema.graphql", "casehub/client/operations.graphql")
INSTALL_SECONDS = 900
RUN_SECONDS = 120
# pip's words for a package index it could not reach (as opposed to a broken lock).
UNREACHABLE = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Name or service not known",
    "Connection refused",
    "Read timed out",
)


def codegen_venv() -> Path:
    """.venv-codegen's ariadne-codegen, built by make from requirements/codegen.lock if
    missing."""
    make = shutil.which("make")
    if make is None:
        unavailable("ariadne-codegen", "no make on PATH")
    stamp = f"{VENV.name}/.installed-stamp"
    try:
        built = subprocess.run(
            [make, "--no-print-directory", "-C", str(ROOT), stamp],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        unavailable("ariadne-codegen", f"installing it took more than {INSTALL_SECONDS} s")
    output = built.stdout + built.stderr
    if built.returncode != 0 and any(words in output for words in UNREACHABLE):
        unavailable("ariadne-codegen", f"the package index is unreachable: {output[-300:]}")
    assert built.returncode == 0, output
    return VENV / "bin" / "ariadne-codegen"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh generation, in a copy of the inputs: the generated package's directory."""
    codegen = codegen_venv()
    work = tmp_path_factory.mktemp("codegen")
    for name in INPUTS:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, work / name)
    result = subprocess.run(
        [str(codegen), "--config", "pyproject.toml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return work / GENERATED


def files(directory: Path) -> set[str]:
    return {
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_committed_client_is_what_make_client_generates(regenerated: Path) -> None:
    committed = ROOT / GENERATED
    assert files(committed) == files(regenerated), "run `make client`"
    _match, differ, errors = filecmp.cmpfiles(
        committed, regenerated, sorted(files(regenerated)), shallow=False
    )
    assert (differ, errors) == ([], []), "run `make client`"
