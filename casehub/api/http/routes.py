"""HTTP routes: /graphql (casehub.api.http.view) behind its access log
(casehub.api.http.access_log), content negotiation (casehub.api.http.negotiation) and gate
(casehub.api.http.gate), and the health route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from casehub.api.http import ide
from casehub.api.http.access_log import AccessLog, Spans
from casehub.api.http.failsafe import Failsafe
from casehub.api.http.gate import Gate
from casehub.api.http.metrics import Metrics
from casehub.api.http.negotiation import Negotiation
from casehub.api.http.view import GraphQLView
from casehub.api.http.websocket import Sockets
from casehub.services.ratelimit import Limiters
from casehub.services.runtime import Runtime

# Limits of a websocket connection (graphql-transport-ws).
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)


def graphql_app(
    runtime: Runtime, schema: Any, limiters: Limiters, metrics: Metrics, spans: Spans | None
) -> ASGIApp:
    """The /graphql endpoint behind its access log and gate: GraphiQL (casehub.api.http.ide) in
    development only, GET queries only when the settings allow them, graphql-transport-ws
    only."""
    settings = runtime.settings
    view = GraphQLView(
        schema,
        sockets=Sockets(runtime, limiters, metrics),
        # The IDE is ours (casehub.api.http.ide), served by the gate: never strawberry's page.
        graphql_ide=None,
        allow_queries_via_get=settings.allow_get_queries,
        # graphql-transport-ws only: a client asking for the legacy graphql-ws is closed (4406).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        multipart_uploads_enabled=True,
    )
    page = (ide.page(), ide.POLICY) if settings.is_development else None
    gated = Failsafe(Gate(view, runtime, limiters, metrics, page))
    return AccessLog(Negotiation(gated), metrics, spans)


async def healthz(_request: Request) -> Response:
    """The process answers."""
    return JSONResponse({"status": "ok"})
