"""Benchmark servers as child processes: started on a loopback socket the harness opens (so no
port is ever raced for), watched for readiness, read for their peak memory, and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.databases import Target
from benchmarks.instrument import STATS_PATH

READY_TIMEOUT = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
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

    def cpu_seconds(self) -> float:
        """User and system CPU time the process (all its threads) has used since it started."""
        return cpu_seconds(Path(f"/proc/{self.pid}/stat").read_text())

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size since the last reset, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")


def cpu_seconds(stat: str) -> float:
    """utime + stime of a /proc/<pid>/stat line, in seconds."""
    # The command name, in parentheses, may hold spaces: count the fields after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of proc(5)


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


# The command line of a server, given the file descriptor of its listening socket.
Command = Callable[[int], list[str]]


def _python_server(kind: str) -> Command:
    return lambda fd: [sys.executable, "-m", "benchmarks.server", kind, str(fd)]


def _start(
    kind: str, target: Target, command: Command, environment: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, Path]:
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    log = target.workdir / f"{kind}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command(listener.fileno()),
            cwd=ROOT,
            env=environment,
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
    environment = {**os.environ, **target.environment()}
    started = [(kind, *_start(kind, target, _python_server(kind), environment)) for kind in kinds]
    try:
        for _kind, process, url, log in started:
            _wait_ready(process, url, log)
        yield [Server(kind, process.pid, url, log) for kind, process, url, log in started]
    finally:
        for _kind, process, _url, _log in started:
            _stop(process)


@contextmanager
def serving_command(
    kind: str, target: Target, command: Command, environment: dict[str, str]
) -> Iterator[Server]:
    """Run another program as a server of this kind (it must answer GET and POST at
    STATS_PATH as benchmarks/instrument.py does) until the block ends."""
    process, url, log = _start(kind, target, command, environment)
    try:
        _wait_ready(process, url, log)
        yield Server(kind, process.pid, url, log)
    finally:
        _stop(process)
