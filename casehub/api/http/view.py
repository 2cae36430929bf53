"""Strawberry's ASGI view for /graphql: casehub's context, JSON encoding and error bodies, the
time budget of an operation and the size cap of its answer; its websockets are
casehub.api.http.websocket's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from casehub.api.context import Context, SocketContext
from casehub.api.execution.extensions import RETRY_SECONDS, SERVICE_UNAVAILABLE
from casehub.api.http import documents
from casehub.api.http.access_log import EXCHANGE
from casehub.api.http.answers import (
    OPERATION_TIMEOUT,
    RESPONSE_TOO_LARGE,
    coded,
    too_large,
    within_budget,
)
from casehub.api.http.gate import SCOPE_KEY, error_body
from casehub.api.http.negotiation import GRAPHQL_RESPONSE_JSON, of_request
from casehub.api.http.websocket import Sockets, TextWebSocketAdapter, TransportWSHandler
from casehub.api.loaders import Loaders
from casehub.domain.documents import DocumentRefused
from casehub.services.runtime import Scope as RequestScope


@dataclass
class RequestData(GraphQLRequestData):
    """strawberry's reading of a request, with GraphQL over HTTP's `documentId`."""

    document_id: object = None


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with casehub's context, JSON encoder and JSON error bodies; over
    websockets, graphql-transport-ws only (casehub.api.http.websocket)."""

    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(self, schema: Any, *, sockets: Sockets, **options: Any) -> None:
        super().__init__(schema, **options)
        self.sockets = sockets
        settings = sockets.runtime.settings
        self.budget = settings.operation_time_budget_seconds
        self.max_response = settings.max_response_bytes
        self.registry = sockets.registry
        self.documents = sockets.documents

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
            # 405: a mutation sent with GET (execute_single); the rest are malformed requests.
            code = "METHOD_NOT_ALLOWED" if error.status_code == 405 else "BAD_REQUEST"
            scope[EXCHANGE].outcome = code
            response = JSONResponse(
                error_body(error.reason, code),
                status_code=error.status_code,
                headers={"allow": "POST"} if error.status_code == 405 else None,
            )
        except DocumentRefused as refused:
            scope[EXCHANGE].outcome = refused.code.value
            graphql_response = of_request(scope) == GRAPHQL_RESPONSE_JSON
            response = JSONResponse(
                error_body(refused.message, refused.code.value),
                status_code=documents.status_of(refused, graphql_response),
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
            response = JSONResponse(too_large(len(built), self.max_response))
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
        """Run the document the request names (casehub.api.http.documents; DocumentRefused
        when none) within the time budget (see `within_budget`; the gate closes its session);
        register it afterwards when it came by Apollo's register-on-retry and ran."""
        given_id = request_data.document_id if isinstance(request_data, RequestData) else None
        resolved = await documents.resolve(
            self.registry,
            self.documents,
            request_data.query,
            request_data.extensions,
            given_id,
        )
        request_data.query = resolved.query
        context.registered = resolved.registered
        operation = super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        try:
            result = await within_budget(self.budget, operation, context.loaders)
        except HTTPException as error:
            refused = error.__cause__
            if (
                isinstance(refused, InvalidOperationTypeError)
                and refused.operation_type is OperationType.MUTATION
            ):
                # GraphQL over HTTP: a mutation over GET is 405, whatever the media type.
                raise HTTPException(
                    405, "Send mutations with POST: GET serves queries only."
                ) from None
            raise
        principal = context.scope.principal
        if resolved.register and resolved.query and principal and not _not_started(result):
            await self.registry.register_apq(principal, resolved.register, resolved.query)
        return result

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
        result.errors = coded(result.errors, request.scope[SCOPE_KEY].request_id)
        if result.errors:
            request.scope[EXCHANGE].outcome = (result.errors[0].extensions or {})["code"]
        response = await super().process_result(request, result)
        if of_request(request.scope) == GRAPHQL_RESPONSE_JSON and _not_started(result):
            del response["data"]  # a request error: no data entry, and so a 4xx (create_response)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """GraphQL over HTTP's status codes: an answer without a data entry (only a request
        error under graphql-response+json has none) is 400, 503 with a Retry-After where the
        database could not serve, or 500 where the server failed; an operation that ran is
        200, field errors (SERVICE_UNAVAILABLE with its retryAfter among them) or not. JSON
        answers keep their 200."""
        if isinstance(response_data, dict) and "data" not in response_data:
            codes = [_code(error) for error in response_data.get("errors") or []]
            if SERVICE_UNAVAILABLE in codes:
                sub_response.status_code = 503
                sub_response.headers["retry-after"] = str(RETRY_SECONDS)
            else:
                sub_response.status_code = 500 if "INTERNAL" in codes else 400
        return super().create_response(response_data, sub_response)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """strawberry's reading of the request (body or URL), which checks the type of every
        parameter but operationName."""
        data = await super().parse_http_body(request)
        assert isinstance(data, GraphQLRequestData)  # batches are refused by parse_json
        if not isinstance(data.operation_name, str | None):
            raise HTTPException(
                400, "The GraphQL operation's `operationName` must be a string or null."
            )
        given_id = await self._document_id(request)
        if given_id is None:
            return data
        return RequestData(
            query=data.query,
            variables=data.variables,
            operation_name=data.operation_name,
            extensions=data.extensions,
            protocol=data.protocol,
            document_id=given_id,
        )

    async def _document_id(self, request: AsyncHTTPRequestAdapter) -> object:
        """GraphQL over HTTP's `documentId` (URL parameter or JSON body member), else None."""
        if request.method == "GET":
            return request.query_params.get("documentId")
        if "json" not in (request.content_type or ""):
            return None  # a multipart upload sends its document as text
        body = await request.get_body()  # read once already: Starlette keeps it
        if b"documentId" not in body:
            return None  # most requests: no second parse
        value = self.parse_json(body)
        return value.get("documentId")

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Without an IDE (production), a GET without a query is a request that lacks one (400).
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _not_started(result: ExecutionResult) -> bool:
    """Whether the operation never ran: a parse, validation, limit or variable error (a field
    error has a path; the time budget's error is of an operation that ran)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(
            error.path is None and (error.extensions or {}).get("code") != OPERATION_TIMEOUT
            for error in result.errors or []
        )
    )


def _code(error: object) -> object:
    return error.get("extensions", {}).get("code") if isinstance(error, dict) else None
