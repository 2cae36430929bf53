"""A query or mutation over the websocket (graphql-transport-ws), served as over HTTP: one call
from the token's bucket (spent by its `subscribe`), a place among the operations the token has
running, the token authenticated again (a revoked or expired one closes the socket with 4401),
a session of its own (never the connection's, never a sibling's), the same schema
extensions, the time budget and the size cap of the answer; then `next` and `complete`, or an
`error` message for a document refused before it ran (as strawberry does for subscriptions)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import orjson
from graphql import GraphQLError, get_operation_ast, parse
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from casehub.api.context import Context, SocketContext
from casehub.api.execution.extensions import retry_after, unexpected
from casehub.api.execution.limits import QueryLimits
from casehub.api.http import metrics
from casehub.api.http.answers import coded, too_large, within_budget
from casehub.domain.errors import RateLimited, Unauthenticated
from casehub.services import ratelimit
from casehub.services.agencies.auth import Possession
from casehub.services.runtime import Scope, open_scope

if TYPE_CHECKING:
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

    from casehub.api.http.websocket import TextWebSocketAdapter, TransportWSHandler

RUN_ONCE = (OperationType.QUERY, OperationType.MUTATION)


def runs_once(query: object, operation_name: object, limits: QueryLimits) -> bool:
    """Whether a `subscribe` message asks for a query or a mutation. The document is parsed
    (within the token limit) to tell; one that does not parse, or names no operation, takes
    strawberry's way, which says why."""
    if not isinstance(query, str) or len(query) > limits.document_chars:
        return False
    try:
        document = parse(query, no_location=True, max_tokens=limits.tokens)
    except GraphQLError:
        return False
    name = operation_name if isinstance(operation_name, str) else None
    found = get_operation_ast(document, name)
    return found is not None and OperationType(found.operation.value) in RUN_ONCE


def refusal(message: str, delay: float) -> GraphQLError:
    """RATE_LIMITED, saying in whole seconds when to retry, as the HTTP gate does."""
    seconds = retry_after(delay)
    return GraphQLError(
        f"{message} Retry in {seconds} s.",
        extensions={"code": "RATE_LIMITED", "retryAfter": seconds},
    )


async def serve_once(handler: TransportWSHandler, operation: Operation[Context, None]) -> None:
    """Run the operation and answer it: `next` then `complete`, or an `error` message when it
    was refused before running (limits, validation, too many operations of the token)."""
    sockets = handler.sockets
    context = cast(SocketContext, handler.context)
    principal = context.principal
    assert principal is not None  # nothing is subscribed before connection_init authenticates
    request_id = context.scope.request_id  # the connection's, which its log lines carry
    try:
        held = sockets.limiters.running.take(principal.token_id)
    except RateLimited as refused:
        sockets.metrics.rate_limited.labels(metrics.CALLS).inc()
        await operation.send_initial_errors([refusal(refused.message, refused.retry_after)])
        return
    client = context.request.client
    try:
        with held:
            async with open_scope(sockets.runtime) as scope:
                scope.principal = await ratelimit.authenticate(
                    sockets.runtime,
                    sockets.limiters,
                    scope,
                    context.authorization,
                    client.host if client else None,
                    # A DPoP-bound token proved its key at connection_init.
                    Possession(proven_jkt=principal.dpop_jkt),
                )
                result = await _execute(handler, operation, context, scope)
    except Unauthenticated:
        await handler.close_unauthorized()
        return
    except RateLimited as refused:  # the address failed too often since
        sockets.metrics.rate_limited.labels(metrics.AUTH_ADDRESS).inc()
        await operation.send_initial_errors([refusal(refused.message, refused.retry_after)])
        return
    except Exception as error:  # strawberry would only log it, and complete
        # SERVICE_UNAVAILABLE (retryAfter) when the database could not serve, else INTERNAL.
        failed = unexpected(GraphQLError(str(error), original_error=error), request_id)
        await operation.send_initial_errors([failed])
        return
    errors = coded(result.errors, request_id)
    if errors and isinstance(result, PreExecutionError):
        await operation.send_initial_errors(errors)
        return
    payload: dict[str, Any] = {"data": result.data}
    if errors:
        payload["errors"] = [error.formatted for error in errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    frame = orjson.dumps({"id": operation.id, "type": "next", "payload": payload})
    if len(frame) > sockets.max_response:
        # Built, but not sent, as over HTTP.
        payload = too_large(len(frame), sockets.max_response)
        frame = orjson.dumps({"id": operation.id, "type": "next", "payload": payload})
    if not operation.completed:  # the client may have completed it meanwhile
        await cast("TextWebSocketAdapter", handler.websocket).send_encoded(frame)
    await operation.send_operation_message({"id": operation.id, "type": "complete"})


async def _execute(
    handler: TransportWSHandler,
    operation: Operation[Context, None],
    context: SocketContext,
    scope: Scope,
) -> ExecutionResult:
    """The operation's result, run in `scope` within the time budget."""
    with context.bind(scope) as loaders:
        try:
            return await within_budget(
                handler.sockets.budget,
                handler.schema.execute(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=context,
                    operation_name=operation.operation_name,
                    allowed_operation_types=RUN_ONCE,
                ),
                loaders,
            )
        except asyncio.CancelledError:
            # The client completed it (or left): its loads end before its session closes.
            await loaders.settle()
            raise
