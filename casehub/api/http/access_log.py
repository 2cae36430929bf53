"""What each request to /graphql leaves behind: its request id (the x-request-id header), one
access line (logger casehub.access), its metrics and, when tracing, its span; and the format of
every log line of the process (CASEHUB_LOG_FORMAT).

An access line names the caller by agency code and principal id, never by the principal's name
(a person's name may be one); it holds no token, no variable, no document text.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from casehub.api.context import SocketContext
from casehub.api.http.metrics import ANONYMOUS, OTHER, UNREAD, Metrics
from casehub.config import LogFormat, Settings
from casehub.services.audit import trail as audit

ACCESS = logging.getLogger("casehub.access")
EXCHANGE = "casehub.exchange"  # the ASGI scope key of the request's Exchange
OPERATION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(slots=True)
class Exchange:
    """One request or websocket connection to /graphql, as the gate and the view learn it."""

    request_id: str
    operation: str = UNREAD
    outcome: str = "ok"
    status: int = 0
    agency: str | None = None
    principal: str | None = None


def operation_of(name: object) -> str:
    """The operationName a client sent, as logs, metrics and spans carry it."""
    if name is None:
        return ANONYMOUS
    return name if isinstance(name, str) and OPERATION_NAME.fullmatch(name) else OTHER


class OperationName(SchemaExtension):
    """Notes the name of the operation a request over HTTP runs (the operationName sent, else
    the document's) for its access line and metrics."""

    def on_operation(self) -> Iterator[None]:
        """After the operation, when the document is parsed."""
        yield
        context = self.execution_context
        if not isinstance(context.context, SocketContext):  # a connection runs many
            context.context.request.scope[EXCHANGE].operation = operation_of(context.operation_name)


Spans = Callable[[Scope, Exchange], AbstractContextManager[object]]


class AccessLog:
    """ASGI middleware in front of /graphql (HTTP and websocket): one access line and the
    metrics of each request or connection once it ends; audit events recorded meanwhile are
    counted into this app's metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, spans: Spans | None) -> None:
        self.app = app
        self.metrics = metrics
        self.observe = metrics.audited
        self.spans = spans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(secrets.token_hex(8))
        scope[EXCHANGE] = exchange
        websocket = scope["type"] == "websocket"
        if websocket:
            self.metrics.websockets.inc()
        observing = audit.OBSERVER.set(self.observe)
        started = time.perf_counter()
        try:
            with self.spans(scope, exchange) if self.spans else nullcontext():
                await self.app(scope, receive, _recording(send, exchange))
        except Exception:
            exchange.outcome = "INTERNAL"
            exchange.status = exchange.status or 500
            raise
        finally:
            seconds = time.perf_counter() - started
            audit.OBSERVER.reset(observing)
            if websocket:
                self.metrics.websockets.dec()
            else:
                self.metrics.request(exchange.operation, exchange.outcome, seconds)
            _log(scope, exchange, seconds)


def _recording(send: Send, exchange: Exchange) -> Send:
    header = (b"x-request-id", exchange.request_id.encode())

    async def recording(message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            exchange.status = message["status"]
            message = {**message, "headers": [*message.get("headers", []), header]}
        elif kind == "websocket.accept":
            exchange.status = 101
            message = {**message, "headers": [*message.get("headers", []), header]}
        elif kind == "websocket.close":
            exchange.status = exchange.status or 403  # refused before the handshake
            code = message.get("code", 1000)
            if code != 1000:
                exchange.outcome = str(code)  # e.g. 4401: connection_init did not authenticate
        await send(message)

    return recording


def _log(scope: Scope, exchange: Exchange, seconds: float) -> None:
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    method = scope.get("method", "GET")
    milliseconds = round(seconds * 1000, 1)
    ACCESS.info(
        "%s %s %s %s %s %.1f ms",
        method,
        scope["path"],
        exchange.status,
        exchange.outcome,
        exchange.operation,
        milliseconds,
        extra={
            "request_id": exchange.request_id,
            "transport": "websocket" if scope["type"] == "websocket" else "http",
            "method": method,
            "path": scope["path"],
            "status": exchange.status,
            "outcome": exchange.outcome,
            "operation": exchange.operation,
            "agency": exchange.agency,
            "principal": exchange.principal,
            "duration_ms": milliseconds,
        },
    )


# The attributes every LogRecord has, and uvicorn's coloured copy of its message; anything
# else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the fields given as `extra`,
    and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(settings: Settings) -> None:
    """Log at the settings' level in their format, unless the host process set logging up
    already (pytest, an application embedding casehub)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if settings.logs_as is LogFormat.JSON else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=settings.log_level, handlers=[handler])
