"""HTTP: the GraphQL endpoint behind its access log (casehub.api.http.access_log) and gate
(casehub.api.http.gate), its websocket, and the health route."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from casehub.api.context import Context, SocketContext
from casehub.api.execution.extensions import masked, retry_after
from casehub.api.http import metrics
from casehub.api.http.access_log import EXCHANGE, AccessLog, Exchange, Spans
from casehub.api.http.failsafe import Failsafe
from casehub.api.http.gate import SCOPE_KEY, Gate, error_body
from casehub.api.http.headers import ide_policy
from casehub.api.http.metrics import Metrics
from casehub.api.loaders import Loaders
from casehub.domain.errors import RateLimited, Unauthenticated
from casehub.services import feeds as inbox
from casehub.services import ratelimit
from casehub.services.ratelimit import Limiters
from casehub.services.runtime import Runtime, open_scope
from casehub.services.runtime import Scope as RequestScope

# Limits of a websocket connection (graphql-transport-ws).
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
CLOSE_UNAUTHORIZED = 4401  # connection_init without a valid token (4403: no agency role)
CLOSE_RATE_LIMITED = 4429  # too many failed authentications, or sockets open with the token
OPERATION_TIMEOUT = "OPERATION_TIMEOUT"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages travel in text frames (the view's encoder makes bytes)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing with 4401 when `connection_init` does not authenticate
    and with 4429 when its address failed too often or its token holds too many sockets."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unauthenticated:
            await self.websocket.close(code=CLOSE_UNAUTHORIZED, reason="Unauthorized")
        except RateLimited:
            await self.websocket.close(code=CLOSE_RATE_LIMITED, reason="Rate limited")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Each `subscribe` spends one call from the token's bucket, the one HTTP requests
        spend from: over the limit, that operation alone is refused with an `error` message
        (RATE_LIMITED, retryAfter) and the connection and its other subscriptions go on."""
        principal = self.context.scope.principal
        if (
            principal is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations  # a duplicate id is closed 4409 anyway
        ):
            view = cast(GraphQLView, self.view)
            if delay := view.limiters.calls.take(str(principal.token_id)):
                view.metrics.rate_limited.labels(metrics.CALLS).inc()
                seconds = retry_after(delay)
                refusal = GraphQLError(
                    f"Too many requests with this token. Retry in {seconds} s.",
                    extensions={"code": "RATE_LIMITED", "retryAfter": seconds},
                )
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
                )
                return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Run one operation, counted as an open subscription while it runs."""
        gauge = cast(GraphQLView, self.view).metrics.subscriptions
        gauge.inc()
        try:
            await super().run_operation(operation)
        finally:
            gauge.dec()


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

    def __init__(
        self,
        schema: Any,
        *,
        runtime: Runtime,
        limiters: Limiters,
        metrics: Metrics,
        **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        self.runtime = runtime
        self.limiters = limiters
        self.metrics = metrics
        self.budget = runtime.settings.operation_time_budget_seconds
        self.max_response = runtime.settings.max_response_bytes
        self.max_sockets = runtime.settings.max_websockets_per_token
        self.sockets: dict[UUID, int] = {}  # open websockets per token, in this process

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
            scope[EXCHANGE].outcome = "BAD_REQUEST"
            response = JSONResponse(
                error_body(error.reason, "BAD_REQUEST"), status_code=error.status_code
            )
        except StarletteHTTPException as error:
            # e.g. a malformed multipart body, refused by Starlette's form parser
            scope[EXCHANGE].outcome = "BAD_REQUEST"
            response = JSONResponse(
                error_body(error.detail, "BAD_REQUEST"), status_code=error.status_code
            )
        built = getattr(response, "body", b"")  # a streamed response has none
        if len(built) > self.max_response:
            # Built, but not sent: the caller learns why and can ask for less.
            scope[EXCHANGE].outcome = RESPONSE_TOO_LARGE
            response = JSONResponse(
                {
                    "data": None,
                    **error_body(
                        f"The answer would take {len(built)} bytes, more than the "
                        f"{self.max_response} allowed: ask for fewer objects or fields.",
                        RESPONSE_TOO_LARGE,
                        limit="responseBytes",
                        max=self.max_response,
                    ),
                }
            )
        await response(scope, receive, send)

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run the operation within the time budget; past it, cancel it (its session, closed
        by the gate without a commit, rolls back what it had not committed) and answer
        OPERATION_TIMEOUT. The executor yields to the event loop every few milliseconds
        (casehub.api.execution.fast_path), so the budget fires on CPU-bound work too."""
        budget = asyncio.timeout(self.budget)
        try:
            async with budget:
                return await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            if not budget.expired():
                raise  # not ours: a timeout inside the operation
        await context.loaders.settle()
        return ExecutionResult(
            data=None,
            errors=[
                GraphQLError(
                    f"The operation ran past its time budget of {self.budget:g} s and was "
                    "cancelled; nothing it had not committed was written. Ask for less.",
                    extensions={
                        "code": OPERATION_TIMEOUT,
                        "limit": "timeBudget",
                        "max": self.budget,
                    },
                )
            ],
        )

    def parse_json(self, data: str | bytes) -> Any:
        """One JSON object per request: invalid JSON or UTF-8, arrays (batches) are refused."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            # orjson says what is wrong (truncated, bad UTF-8, a number out of range, nested
            # too deeply ...) and where, without echoing the input.
            raise HTTPException(
                400, f"The request body is not valid JSON in UTF-8: {error.msg} (at {error.pos})."
            ) from None
        if isinstance(value, list):
            raise HTTPException(400, "Batched requests are not accepted: send one operation.")
        if not isinstance(value, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return value

    async def _serve_websocket(self, websocket: WebSocket) -> None:
        # The connection's scope only authenticates; each subscription reads in scopes of its own.
        async with open_scope(self.runtime) as connection_scope:
            connection_scope.request_id = websocket.scope[EXCHANGE].request_id
            try:
                await self.run(
                    websocket, context=SocketContext(connection_scope, websocket, websocket)
                )
            finally:
                # Set once connection_init is accepted, which counted the socket.
                if (principal := connection_scope.principal) is not None:
                    if left := self.sockets[principal.token_id] - 1:
                        self.sockets[principal.token_id] = left
                    else:
                        del self.sockets[principal.token_id]

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate connection_init: no valid token closes with 4401, a token without an
        agency role with 4403."""
        if not isinstance(context, SocketContext):  # pragma: no cover  (set by _serve_websocket)
            raise ConnectionRejectionError
        client = context.request.client
        try:
            principal = await ratelimit.authenticate(
                self.runtime,
                self.limiters,
                context.scope,
                connection_authorization(context.connection_params),
                client.host if client else None,
            )
        except RateLimited:
            self.metrics.rate_limited.labels(metrics.AUTH_ADDRESS).inc()
            raise
        exchange: Exchange = context.request.scope[EXCHANGE]
        exchange.agency, exchange.principal = principal.agency_code, str(principal.id)
        if not inbox.may_follow(principal):
            raise ConnectionRejectionError  # closed with 4403
        # Each socket holds a task, a listener queue and up to 10 subscriptions: a token may
        # hold a few, not as many as it can open.
        open_now = self.sockets.get(principal.token_id, 0)
        if open_now >= self.max_sockets:
            self.metrics.rate_limited.labels(metrics.CALLS).inc()
            raise RateLimited(
                f"This token already holds {open_now} websockets; at most {self.max_sockets}.", 1
            )
        self.sockets[principal.token_id] = open_now + 1
        context.scope.principal = principal
        return cast(UnsetType, UNSET)

    async def get_context(self, request: Any, response: Any) -> Context:
        request_scope: RequestScope = request.scope[SCOPE_KEY]
        return Context(
            scope=request_scope, loaders=Loaders(request_scope), request=request, response=response
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # An error raised by an extension's hook skips the error policy (strawberry catches it
        # outside the operation): it has no code. Mask it here rather than show its message.
        request_id = request.scope[SCOPE_KEY].request_id
        result.errors = [
            error if (error.extensions or {}).get("code") else masked(error, request_id)
            for error in result.errors or []
        ] or None
        if result.errors:
            request.scope[EXCHANGE].outcome = (result.errors[0].extensions or {})["code"]
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def graphql_app(
    runtime: Runtime, schema: Any, limiters: Limiters, metrics: Metrics, spans: Spans | None
) -> ASGIApp:
    """The /graphql endpoint behind its access log and gate: GraphiQL in development only, GET
    queries only when the settings allow them, graphql-transport-ws only."""
    settings = runtime.settings
    view = GraphQLView(
        schema,
        runtime=runtime,
        limiters=limiters,
        metrics=metrics,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=settings.allow_get_queries,
        # graphql-transport-ws only: a client asking for the legacy graphql-ws is closed (4406).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        multipart_uploads_enabled=True,
    )
    page = view.graphql_ide_html
    ide = (page, ide_policy(page)) if settings.is_development else None
    return AccessLog(Failsafe(Gate(view, runtime, limiters, metrics, ide)), metrics, spans)


async def healthz(_request: Request) -> Response:
    """The process answers."""
    return JSONResponse({"status": "ok"})
