"""HTTP: the GraphQL endpoint behind bearer authentication, and the health routes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, cast

import orjson
from cross_web import HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET, UnsetType

from casehub.api.context import Context, SocketContext
from casehub.api.loaders import Loaders
from casehub.domain.errors import Unauthenticated
from casehub.services import auth, inbox
from casehub.services.runtime import Runtime, open_scope
from casehub.services.runtime import Scope as RequestScope

log = logging.getLogger("casehub.http")

SCOPE_KEY = "casehub.scope"
# Limits of a websocket connection (graphql-transport-ws).
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
CLOSE_UNAUTHORIZED = 4401  # connection_init without a valid token (4403: no agency role)


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    """A GraphQL-shaped error response body."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extra}}]}


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages travel in text frames (the view's encoder makes bytes)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing with 4401 when `connection_init` does not authenticate."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unauthenticated:
            await self.websocket.close(code=CLOSE_UNAUTHORIZED, reason="Unauthorized")


def connection_authorization(params: dict[str, object]) -> str | None:
    """The `Authorization` value carried by a connection_init payload: {"Authorization":
    "Bearer chb_..."}, {"authorization": ...} or {"token": "chb_..."}."""
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            return value
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) else None


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with casehub's context, JSON encoder and JSON error bodies; over
    websockets, graphql-transport-ws only, authenticated by the connection_init payload."""

    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(self, schema: Any, *, runtime: Runtime, **options: Any) -> None:
        super().__init__(schema, **options)
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._serve_websocket(WebSocket(scope, receive=receive, send=send))
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = JSONResponse(
                error_body(error.reason, "BAD_REQUEST"), status_code=error.status_code
            )
        except StarletteHTTPException as error:
            # e.g. a malformed multipart body, refused by Starlette's form parser
            response = JSONResponse(
                error_body(error.detail, "BAD_REQUEST"), status_code=error.status_code
            )
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """One JSON object per request: invalid JSON or UTF-8, arrays (batches) are refused."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise HTTPException(400, "The request body is not valid JSON in UTF-8.") from None
        if isinstance(value, list):
            raise HTTPException(400, "Batched requests are not accepted: send one operation.")
        if not isinstance(value, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return value

    async def _serve_websocket(self, websocket: WebSocket) -> None:
        # The connection's scope only authenticates; each subscription reads in scopes of its own.
        async with open_scope(self.runtime) as connection_scope:
            connection_scope.request_id = secrets.token_hex(8)
            await self.run(websocket, context=SocketContext(connection_scope, websocket, websocket))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate connection_init: no valid token closes with 4401, a token without an
        agency role with 4403."""
        if not isinstance(context, SocketContext):  # pragma: no cover  (set by _serve_websocket)
            raise ConnectionRejectionError
        client = context.request.client
        principal = await auth.authenticate(
            self.runtime,
            context.scope,
            connection_authorization(context.connection_params),
            client.host if client else None,
        )
        if not inbox.may_follow(principal):
            raise ConnectionRejectionError  # closed with 4403
        context.scope.principal = principal
        return cast(UnsetType, UNSET)

    async def get_context(self, request: Any, response: Any) -> Context:
        request_scope: RequestScope = request.scope[SCOPE_KEY]
        return Context(
            scope=request_scope, loaders=Loaders(request_scope), request=request, response=response
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class BodyTooLarge(Exception):
    """The request body passed the configured limit."""


class Authenticated:
    """ASGI middleware: a session per request, bearer authentication, and a body-size limit."""

    def __init__(self, app: ASGIApp, runtime: Runtime, ide_html: str | None) -> None:
        self.app = app
        self.runtime = runtime
        self.limit = runtime.settings.max_request_bytes
        self.ide_html = ide_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.ide_html is not None and self._wants_ide(scope):
            # The IDE page holds no data; everything it then asks for is authenticated.
            await HTMLResponse(self.ide_html)(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _send_json(send, 413, error_body("Request body too large.", "TOO_LARGE"))
            return
        async with open_scope(self.runtime) as request_scope:
            request_scope.request_id = request_id
            client = scope.get("client")
            try:
                request_scope.principal = await auth.authenticate(
                    self.runtime,
                    request_scope,
                    _header(scope, b"authorization"),
                    client[0] if client else None,
                )
            except Unauthenticated:
                await _send_json(
                    send,
                    401,
                    error_body("Authentication required.", "UNAUTHENTICATED"),
                    extra_headers=[(b"www-authenticate", b"Bearer")],
                )
                return
            scope[SCOPE_KEY] = request_scope
            started = False

            async def tracked_send(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    headers = list(message.get("headers", []))
                    headers.append((b"x-request-id", request_id.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, _limited(receive, self.limit), tracked_send)
            except BodyTooLarge:
                if not started:
                    await _send_json(send, 413, error_body("Request body too large.", "TOO_LARGE"))

    @staticmethod
    def _wants_ide(scope: Scope) -> bool:
        accept = _header(scope, b"accept") or ""
        return scope["method"] == "GET" and not scope.get("query_string") and "text/html" in accept


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _limited(receive: Receive, limit: int) -> Callable[[], Awaitable[Message]]:
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return limited


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + (extra_headers or []),
        }
    )
    await send({"type": "http.response.body", "body": payload})


def graphql_app(runtime: Runtime, schema: Any) -> ASGIApp:
    """The /graphql endpoint: GraphiQL in development only, graphql-transport-ws only."""
    development = runtime.settings.is_development
    view = GraphQLView(
        schema,
        runtime=runtime,
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=False,
        # graphql-transport-ws only: a client asking for the legacy graphql-ws is closed (4406).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        multipart_uploads_enabled=True,
    )
    return Authenticated(view, runtime, view.graphql_ide_html if development else None)


async def healthz(_request: Request) -> Response:
    """The process answers."""
    return JSONResponse({"status": "ok"})
