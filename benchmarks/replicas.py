"""Replicas for the write-scaling run: `count` server processes of one kind on one database,
each on a loopback socket of its own (as several `casehub serve` behind a balancer), started
together and stopped at the end of the block."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.databases import Target
from benchmarks.processes import ROOT, Server, _stop, _wait_ready


def _start(kind: str, target: Target, number: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    log = target.workdir / f"scaling-{kind}-{number}.log"
    with log.open("ab") as output:
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


@contextmanager
def replicas(target: Target, kind: str, count: int) -> Iterator[list[Server]]:
    """Run `count` servers of this kind on the target until the block ends."""
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for number in range(count):
            started.append(_start(kind, target, number))
        for process, url, log in started:
            _wait_ready(process, url, log)
        yield [Server(kind, process.pid, url, log) for process, url, log in started]
    finally:
        for process, _url, _log in started:
            _stop(process)
