"""One benchmark server process: casehub (as create_app builds it) or the floor, instrumented,
served by uvicorn on a listening socket inherited from the harness.

    python -m benchmarks.server casehub|floor FD

Settings come from the CASEHUB_* environment, as for `casehub serve`.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from benchmarks.instrument import Instrumented
from casehub.config import Settings
from casehub.heap import settle_heap

KINDS = ("casehub", "floor")


def build(kind: str, settings: Settings) -> tuple[Starlette, AsyncEngine]:
    """The app of this kind and the engine whose statements are counted."""
    if kind == "casehub":
        from casehub.app import create_app

        app = create_app(settings)
        return app, app.state.runtime.database.engine
    # Imported only here, so that the floor's process never loads GraphQL.
    from benchmarks.floor.app import create_floor

    app = create_floor(settings)
    return app, app.state.engine


def main(argv: list[str]) -> None:
    """Serve until terminated."""
    kind, fd = argv
    if kind not in KINDS:
        raise SystemExit(f"usage: python -m benchmarks.server {'|'.join(KINDS)} FD")
    app, engine = build(kind, Settings())
    settle_heap()
    config = uvicorn.Config(
        Instrumented(app, engine),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=int(fd))])


if __name__ == "__main__":
    main(sys.argv[1:])
