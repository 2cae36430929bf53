"""The last answer of /graphql: an exception that escapes before the response has started
becomes the documented GraphQL-shaped JSON error rather than starlette's plain-text 500."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casehub.api.execution.extensions import (
    RETRY_SECONDS,
    SERVICE_UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    UNEXPECTED,
)
from casehub.api.http.access_log import EXCHANGE, Exchange
from casehub.api.http.gate import error_body
from casehub.services.runtime import unavailable as cannot_serve

log = logging.getLogger("casehub.api")


class Failsafe:
    """ASGI middleware between the access log and the gate (HTTP only): when the database
    cannot be reached or its pool has no connection to give in time, 503
    SERVICE_UNAVAILABLE with a Retry-After; any other escaping error,
    500 INTERNAL, logged with its traceback. Both carry the request id and nothing of the
    cause (no driver message, address or SQL)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        exchange: Exchange = scope[EXCHANGE]
        try:
            await self.app(scope, receive, watching)
        except Exception as error:
            if started:
                raise  # too late for an answer of our own: the server closes the connection
            # Unavailable from authentication, or a pool or connection error from anywhere.
            unavailable = cannot_serve(error)
            code = SERVICE_UNAVAILABLE if unavailable else "INTERNAL"
            extra: dict[str, object] = {"request_id": exchange.request_id}
            if unavailable:
                log.warning("database unavailable: %s", error.__cause__ or error, extra=extra)
            else:
                log.error("unexpected error", exc_info=error, extra=extra)
            exchange.outcome = code
            body = error_body(
                UNAVAILABLE_MESSAGE if unavailable else UNEXPECTED,
                code,
                requestId=exchange.request_id,
            )
            headers = {"retry-after": str(RETRY_SECONDS)} if unavailable else {}
            await JSONResponse(body, 503 if unavailable else 500, headers)(scope, receive, send)
