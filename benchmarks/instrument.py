"""What a benchmark server counts about itself: HTTP requests served and SQL statements sent,
read (and reset) at a benchmark-only route; casehub itself is left untouched."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

STATS_PATH = "/_bench/stats"


class Instrumented:
    """ASGI wrapper: GET STATS_PATH reads the counters, POST STATS_PATH also resets them."""

    def __init__(self, app: ASGIApp, engine: AsyncEngine) -> None:
        self.app = app
        self.requests = 0
        self.statements = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] != STATS_PATH:
            self.requests += 1
            await self.app(scope, receive, send)
            return
        body = orjson.dumps({"requests": self.requests, "statements": self.statements})
        if scope["method"] == "POST":
            self.requests = self.statements = 0
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
