"""What requirements/runtime.lock pins and what a CycloneDX SBOM names, for the tests of the
SBOM and of the image."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNTIME_LOCK = Path(__file__).resolve().parents[2] / "requirements" / "runtime.lock"
# A requirement line of the lock: `name==version`, then maybe `; marker`, then the hashes.
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def normalized(name: str) -> str:
    """A distribution's name as the package index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    version: str
    marker: str | None  # where it applies; None: everywhere


def locked() -> dict[str, Pin]:
    """Every package of runtime.lock by normalized name."""
    pins: dict[str, Pin] = {}
    for line in RUNTIME_LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[normalized(match[1])] = Pin(match[2], match[3])
    assert pins, f"no pinned package in {RUNTIME_LOCK}"
    return pins


def components(bom: dict[str, Any]) -> dict[str, str]:
    """The versions of an SBOM's components by normalized name (its root component aside)."""
    found: dict[str, str] = {}
    for component in bom["components"]:
        name = normalized(component["name"])
        assert name not in found, f"{name} is listed twice"
        assert component["purl"] == f"pkg:pypi/{name}@{component['version']}"
        found[name] = component["version"]
    return found
