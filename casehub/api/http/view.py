"""Strawberry's ASGI view for /graphql: casehub's context, JSON encoding and error bodies, the
time budget of an operation and the size cap of its answer; its websockets are
casehub.api.http.websocket's."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from casehub.api.context import Context, SocketContext
from casehub.api.execution.extensions import masked
from casehub.api.http.access_log import EXCHANGE
from casehub.api.http.gate import SCOPE_KEY, error_body
from casehub.api.http.websocket import Sockets, TextWebSocketAdapter, TransportWSHandler
from casehub.api.loaders import Loaders
from casehub.services.runtime import Scope as RequestScope

OPERATION_TIMEOUT = "OPERATION_TIMEOUT"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with casehub's context, JSON encoder and JSON error bodies; over
    websockets, graphql-transport-ws only, authenticated by the connection_init payload."""

    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(self, schema: Any, *, sockets: Sockets, **options: Any) -> None:
        super().__init__(schema, **options)
        self.sockets = sockets
        settings = sockets.runtime.settings
        self.budget = settings.operation_time_budget_seconds
        self.max_response = settings.max_response_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            websocket = WebSocket(scope, receive=receive, send=send)
            async with self.sockets.connection(websocket) as connection_scope:
                await self.run(
                    websocket, context=SocketContext(connection_scope, websocket, websocket)
                )
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

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Admit the socket (see `Sockets.admit`)."""
        if not isinstance(context, SocketContext):  # pragma: no cover  (set by __call__)
            raise ConnectionRejectionError
        await self.sockets.admit(context)
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
