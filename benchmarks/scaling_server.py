"""One server process of the write-scaling run: casehub (as the main benchmark serves it) or
the floor (which takes no lock either), instrumented, served by uvicorn on a listening socket
inherited from the harness.

    python -m benchmarks.scaling_server casehub|floor FD

Settings come from the CASEHUB_* environment, as for `casehub serve`.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from benchmarks import server
from benchmarks.instrument import Instrumented
from casehub.config import Settings

KINDS = ("casehub", "floor")


def build(kind: str, settings: Settings) -> tuple[Starlette, AsyncEngine]:
    """The app of this kind and the engine whose statements are counted."""
    return server.build(kind, settings)


def main(argv: list[str]) -> None:
    """Serve until terminated."""
    kind, fd = argv
    if kind not in KINDS:
        raise SystemExit(f"usage: python -m benchmarks.scaling_server {'|'.join(KINDS)} FD")
    app, engine = build(kind, Settings())
    config = uvicorn.Config(
        Instrumented(app, engine),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=int(fd))])


if __name__ == "__main__":
    main(sys.argv[1:])
