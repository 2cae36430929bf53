"""Benchmark servers as child processes: started on a loopback socket the harness opens (so no
port is ever raced for), watched for readiness, read for their peak memory, and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.databases import Target
from benchmarks.instrument import STATS_PATH

READY_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parent.parent  # where `python -m benchmarks.server` resolves


@dataclass(frozen=True, slots=True)
class Stats:
    """What a server counted since its counters were last reset."""

    requests: int
    statements: int


@dataclass(frozen=True, slots=True)
class Server:
    """A running benchmark server."""

    kind: str
    pid: int
    url: str
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        """The end of what the server wrote on stdout and stderr."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def reset(self, http: httpx.AsyncClient) -> None:
        """Zero the request and statement counters and the peak RSS."""
        (await http.post(STATS_PATH)).raise_for_status()
        self._reset_peak_rss()

    def _reset_peak_rss(self) -> None:
        # Writing 5 to clear_refs resets VmHWM (Linux), so each workload gets its own peak.
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    async def stats(self, http: httpx.AsyncClient) -> Stats:
        """The counters since the last reset."""
        body = (await http.get(STATS_PATH)).raise_for_status().json()
        return Stats(requests=body["requests"], statements=body["statements"])

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size since the last reset, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with status {process.returncode} at start:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            if httpx.get(url + STATS_PATH, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {url} was not ready within {READY_TIMEOUT:.0f} s")


def _start(kind: str, target: Target) -> tuple[subprocess.Popen[bytes], str, Path]:
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    log = target.workdir / f"{kind}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server", kind, str(listener.fileno())],
            cwd=ROOT,
            env={**os.environ, **target.environment()},
            pass_fds=[listener.fileno()],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    listener.close()  # the child holds its own copy
    return process, f"http://{host}:{port}", log


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(target: Target, *kinds: str) -> Iterator[list[Server]]:
    """Run a server of each kind on the target (started together, each logging to the
    target's workdir) until the block ends."""
    started = [(kind, *_start(kind, target)) for kind in kinds]
    try:
        for _kind, process, url, log in started:
            _wait_ready(process, url, log)
        yield [Server(kind, process.pid, url, log) for kind, process, url, log in started]
    finally:
        for _kind, process, _url, _log in started:
            _stop(process)
