"""The websocket side of /graphql: graphql-transport-ws only, authenticated by the bearer token
of the upgrade request or of connection_init, a few sockets per token and one call from the
token's bucket per `subscribe`; queries and mutations run as over HTTP (casehub.api.http.once).

A DPoP-bound token proves its key once, at connection_init: a proof for GET and the socket's
http(s) URL, in the payload's `dpop` (or the upgrade request's DPoP header); each later
operation re-checks the token against the key the connection proved.

A websocket is authenticated by a bearer token alone, never by a cookie: a page elsewhere
cannot make a browser open one with the user's credentials, so it needs no CSRF preflight."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Protocol, cast
from uuid import UUID

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from casehub.api.context import Context, SocketContext
from casehub.api.execution.limits import QueryLimits
from casehub.api.http import documents, metrics
from casehub.api.http.access_log import EXCHANGE, Exchange
from casehub.api.http.gate import possession
from casehub.api.http.metrics import Metrics
from casehub.api.http.once import refusal, runs_once, serve_once
from casehub.domain.documents import DocumentRefused
from casehub.domain.errors import RateLimited, Unauthenticated
from casehub.services import feeds as inbox
from casehub.services import ratelimit
from casehub.services.audit import trail as audit
from casehub.services.documents import DocumentRegistry
from casehub.services.ratelimit import Limiters
from casehub.services.runtime import Runtime, open_scope, unavailable
from casehub.services.runtime import Scope as RequestScope

CLOSE_UNAUTHORIZED = 4401  # no valid token, or two different ones (4403: no agency role)
CLOSE_RATE_LIMITED = 4429  # too many failed authentications, or sockets open with the token
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455's code: the database could not serve the connection_init


class Sockets:
    """Who may hold a websocket of this process: connection_init authenticates, and each
    token holds a few sockets at most; the limits its queries and mutations run within."""

    def __init__(self, runtime: Runtime, limiters: Limiters, metrics: Metrics) -> None:
        self.runtime = runtime
        self.limiters = limiters  # the HTTP gate's: one allowance per token, whatever the transport
        self.metrics = metrics
        settings = runtime.settings
        self.max_per_token = settings.max_websockets_per_token
        self.open: dict[UUID, int] = {}  # open websockets per token, in this process
        self.query_limits = QueryLimits.of(settings)
        self.budget = settings.operation_time_budget_seconds
        # The documents /graphql runs (casehub.api.http.documents), over HTTP and websocket.
        self.registry = DocumentRegistry(runtime)
        self.documents = settings.documents
        self.max_response = settings.max_response_bytes

    @contextlib.asynccontextmanager
    async def connection(self, websocket: WebSocket) -> AsyncIterator[RequestScope]:
        """The connection's scope, which only authenticates; each operation reads in scopes
        of its own."""
        async with open_scope(self.runtime) as connection_scope:
            connection_scope.request_id = websocket.scope[EXCHANGE].request_id
            try:
                yield connection_scope
            finally:
                # Set once connection_init is accepted, which counted the socket.
                if (principal := connection_scope.principal) is not None:
                    if left := self.open[principal.token_id] - 1:
                        self.open[principal.token_id] = left
                    else:
                        del self.open[principal.token_id]

    async def admit(self, context: SocketContext) -> None:
        """Authenticate the socket at connection_init, by the upgrade request's Authorization
        header or the connection_init payload, and count it: no valid token (or two different
        ones) closes with 4401, a token without an agency role with 4403, one holding too many
        sockets with 4429."""
        client = context.request.client
        address = client.host if client else None
        upgrade = context.request.headers.get("authorization")
        offered = connection_authorization(context.connection_params)
        proof = context.connection_params.get("dpop")
        try:
            principal = await ratelimit.authenticate(
                self.runtime,
                self.limiters,
                context.scope,
                upgrade or offered,
                address,
                # A proof in the payload rather than the upgrade's header: browsers cannot set
                # a websocket's headers.
                possession(context.request.scope, proof if isinstance(proof, str) else None),
            )
        except RateLimited:
            self.metrics.rate_limited.labels(metrics.AUTH_ADDRESS).inc()
            raise
        if upgrade and offered and _credentials(upgrade) != _credentials(offered):
            # Which token would act is unclear: refused like any failed authentication.
            ratelimit.count_failure(self.limiters, address)
            await audit.record_auth_failure(self.runtime, "conflicting", address)
            raise Unauthenticated
        exchange: Exchange = context.request.scope[EXCHANGE]
        exchange.agency, exchange.principal = principal.agency_code, str(principal.id)
        if not inbox.may_follow(principal):
            raise ConnectionRejectionError  # closed with 4403
        # Each socket holds a task, a listener queue and up to 10 subscriptions: a token may
        # hold a few, not as many as it can open.
        open_now = self.open.get(principal.token_id, 0)
        if open_now >= self.max_per_token:
            self.metrics.rate_limited.labels(metrics.CALLS).inc()
            raise RateLimited(
                f"This token already holds {open_now} websockets; at most {self.max_per_token}.",
                1,
            )
        self.open[principal.token_id] = open_now + 1
        context.scope.principal = principal
        context.authorization = upgrade or offered


class SocketView(Protocol):
    """The view a websocket handler serves: it keeps the process's sockets."""

    sockets: Sockets


def connection_authorization(params: dict[str, object]) -> str | None:
    """The `Authorization` value carried by a connection_init payload: {"Authorization":
    "Bearer chb_..."}, {"authorization": ...} or {"token": "chb_..."}."""
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            return value
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) else None


def _credentials(authorization: str) -> tuple[str, str]:
    # What authentication reads of an Authorization value: the scheme (any case) and the token.
    scheme, _, token = authorization.strip().partition(" ")
    return scheme.lower(), token.strip()


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages travel in text frames (the view's encoder makes bytes)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.send_encoded(orjson.dumps(message))

    async def send_encoded(self, message: bytes) -> None:
        """Send a message already encoded as JSON."""
        try:
            await self.ws.send_text(message.decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing with 4401 when `connection_init` does not authenticate,
    with 4429 when its address failed too often or its token holds too many sockets and with
    1013 (try again later) when the database could not serve the authentication;
    queries and mutations run once each as over HTTP (casehub.api.http.once)."""

    @property
    def sockets(self) -> Sockets:
        """The process's sockets, with their limiters and limits."""
        return cast(SocketView, self.view).sockets

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unauthenticated:
            await self.close_unauthorized()
        except RateLimited:
            await self.websocket.close(code=CLOSE_RATE_LIMITED, reason="Rate limited")
        except Exception as error:
            if not unavailable(error):
                raise
            # The database could not authenticate the socket now: the client may come back.
            await self.websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="Try again later")

    async def close_unauthorized(self) -> None:
        """Close the socket: its token does not (or no longer) authenticate."""
        await self.websocket.close(code=CLOSE_UNAUTHORIZED, reason="Unauthorized")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Each `subscribe` spends one call from the token's bucket, the one HTTP requests
        spend from: over the limit, that operation alone is refused with an `error` message
        (RATE_LIMITED, retryAfter) and the connection and its other subscriptions go on."""
        principal = self.context.scope.principal
        if (
            principal is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations  # a duplicate id is closed 4409 anyway
            and (delay := self.sockets.limiters.calls.take(str(principal.token_id)))
        ):
            self.sockets.metrics.rate_limited.labels(metrics.CALLS).inc()
            refused = refusal("Too many requests with this token.", delay)
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [refused.formatted]}
            )
            return
        if self.connection_acknowledged and not await self._named_document(message):
            return
        await super().handle_subscribe(message)

    async def _named_document(self, message: SubscribeMessage) -> bool:
        """Put the document the payload names (documentId or a persistedQuery hash) in its
        `query`, and hold CASEHUB_DOCUMENTS=registered, as over HTTP; False when refused (an
        `error` message says why). Nothing is registered over the websocket."""
        payload = message.get("payload")
        if not isinstance(payload, dict):
            return True  # strawberry refuses it
        query, extensions = payload.get("query"), payload.get("extensions")
        try:
            resolved = await documents.resolve(
                self.sockets.registry,
                self.sockets.documents,
                query if isinstance(query, str) else None,
                extensions if isinstance(extensions, dict) else None,
                payload.get("documentId"),
            )
        except DocumentRefused as refused:
            error = GraphQLError(refused.message, extensions={"code": refused.code.value})
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return False
        if resolved.query is not None:
            payload["query"] = resolved.query
        return True

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Run a query or mutation once (casehub.api.http.once); a subscription as strawberry
        does, counted as an open subscription while it runs."""
        if runs_once(operation.query, operation.operation_name, self.sockets.query_limits):
            await serve_once(self, operation)
            return
        gauge = self.sockets.metrics.subscriptions
        gauge.inc()
        try:
            await super().run_operation(operation)
        finally:
            gauge.dec()
