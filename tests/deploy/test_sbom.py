"""`make sbom`: a CycloneDX SBOM of what the image installs, valid against the specification's
schema (which the generator bundles: checked offline), naming casehub and every package of
requirements/runtime.lock at its locked version."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.deploy.supply_chain import components, locked

ROOT = Path(__file__).resolve().parents[2]
SBOM_VENV = ROOT / ".venv-deploy" / "sbom"  # `make sbom` makes it from deploy/sbom.lock
# The generator's own library validates; its strict validator also refuses unknown properties.
VALIDATE = """
import json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
text = open(sys.argv[1]).read()
version = SchemaVersion.from_version(json.loads(text)["specVersion"])
error = JsonStrictValidator(version).validate_str(text)
sys.exit(f"invalid CycloneDX: {error}" if error else 0)
"""


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SBOM `make sbom` writes."""
    make = shutil.which("make")
    if make is None or not (SBOM_VENV / ".installed-stamp").exists():
        missing = "no make" if make is None else "no .venv-deploy/sbom (`make sbom` installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}; CI runs make sbom first")
        pytest.skip(missing)
    path = tmp_path_factory.mktemp("sbom") / "sbom.cdx.json"
    result = subprocess.run(
        [make, "--no-print-directory", "-C", str(ROOT), "sbom", f"SBOM={path}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return path


def test_the_sbom_names_every_locked_package_at_its_version(sbom: Path) -> None:
    bom = json.loads(sbom.read_text())
    assert bom["bomFormat"] == "CycloneDX"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    root = bom["metadata"]["component"]
    assert (root["name"], root["version"]) == (project["name"], project["version"])
    expected = {name: pin.version for name, pin in locked().items()}
    assert components(bom) == expected


def test_the_sbom_is_valid_cyclonedx(sbom: Path) -> None:
    python = SBOM_VENV / "bin" / "python"
    result = subprocess.run(
        [str(python), "-c", VALIDATE, str(sbom)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
