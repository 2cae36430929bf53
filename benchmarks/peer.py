"""PostGraphile 4 as a peer of casehub in the benchmark: a GraphQL server that does less (no
policy, no decryption, no audit) serving the same page shape from the same tables, so that the
floor can be seen to be a floor. Installed with `npm ci` from benchmarks/postgraphile's lock file
into a cache directory named after the lock file's hash, and served by node on a loopback
socket the harness opens, on the run's PostgreSQL database."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.databases import Target
from benchmarks.processes import Server, serving_command

NAME = "postgraphile"
PACKAGE = Path(__file__).resolve().parent / "postgraphile"
MANIFESTS = ("package.json", "package-lock.json")
SCRIPT = PACKAGE / "server.js"
INSTALL_SECONDS = 300
# casehub's PostgreSQL pool: pool_size (10) plus as many overflow connections.
POOL_SIZE = 20


class PeerUnavailable(Exception):
    """PostGraphile cannot run here; the message says why."""


@dataclass(frozen=True, slots=True)
class Installed:
    """The node command and the directory whose node_modules holds PostGraphile."""

    node: str
    directory: Path


def cache_root() -> Path:
    """Where installs are kept, one directory per lock file."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "casehub-bench"


def install_directory(lock: bytes) -> Path:
    """The cache directory of the install from this lock file's content."""
    return cache_root() / f"{NAME}-{hashlib.sha256(lock).hexdigest()[:16]}"


def install() -> Installed:
    """PostGraphile installed (`npm ci`, no scripts) unless it already is; PeerUnavailable
    when node or npm is missing or the install fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise PeerUnavailable("no node or npm on PATH")
    directory = install_directory((PACKAGE / "package-lock.json").read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    # Under a lock: a benchmark and a test (or two xdist workers) may install at once.
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _npm_ci(npm, directory)
    return Installed(node, directory)


def _npm_ci(npm: str, directory: Path) -> None:
    done = directory / ".installed"  # written last: a half-finished install is redone
    if done.exists():
        return
    for name in MANIFESTS:
        shutil.copyfile(PACKAGE / name, directory / name)
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        result = subprocess.run(
            command,
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PeerUnavailable(f"npm ci took more than {INSTALL_SECONDS} s") from None
    if result.returncode != 0:
        raise PeerUnavailable(f"npm ci failed: {result.stderr.strip()[-500:]}")
    done.write_text("npm ci done\n")


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as node-postgres takes it (no driver suffix)."""
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme.startswith("postgresql"):
        raise PeerUnavailable(f"PostgreSQL only, not {scheme}")
    return f"postgresql://{rest}"


@contextmanager
def serving(target: Target, installed: Installed) -> Iterator[Server]:
    """PostGraphile on the target's database until the block ends."""
    environment = {
        **os.environ,
        "DATABASE_URL": libpq_url(target.url),
        "NODE_PATH": str(installed.directory / "node_modules"),
        "NODE_ENV": "production",
        "PEER_POOL_SIZE": str(POOL_SIZE),
    }
    with serving_command(
        NAME,
        target,
        lambda fd: [installed.node, str(SCRIPT), str(fd)],
        environment,
    ) as server:
        yield server
