"""Schema extensions: the error policy and the audit of decrypted fields."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator

from graphql.error import GraphQLError
from graphql.language import DocumentNode, OperationDefinitionNode
from strawberry.extensions import MaskErrors, SchemaExtension, ValidationCache
from strawberry.types.graphql import OperationType

from casehub.api.context import SocketContext
from casehub.domain.errors import DomainError, Unauthenticated
from casehub.services import audit

log = logging.getLogger("casehub.api")

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


class ErrorPolicy(MaskErrors):
    """Domain refusals keep their message and code; anything unexpected is masked and logged."""

    def __init__(self, *, suggestions: bool) -> None:
        super().__init__(error_message="Unexpected error.")
        self.suggestions = suggestions

    def _request_id(self) -> str:
        context = self.execution_context.context
        return getattr(getattr(context, "scope", None), "request_id", "") or ""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._one(error) for error in errors]

    def _one(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if error.path is None and (original is None or isinstance(original, GraphQLError)):
            # Syntax, validation and variable errors describe the request, not the data.
            message = error.message if self.suggestions else _SUGGESTION.sub("", error.message)
            code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
            return GraphQLError(
                message,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions={"code": code},
            )
        if isinstance(original, DomainError):
            extensions: dict[str, object] = {"code": original.code.value}
            if original.field:
                extensions["field"] = original.field
            return GraphQLError(
                original.message,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions=extensions,
            )
        if isinstance(original, Unauthenticated):
            return GraphQLError(
                str(original),
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions={"code": "UNAUTHENTICATED"},
            )
        request_id = self._request_id()
        log.error("unexpected error (request %s)", request_id, exc_info=original)
        return GraphQLError(
            self.error_message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )


class Validation(ValidationCache):
    """Cached validation, plus the spec's rule that a document with several operations names
    the one to run in operationName (strawberry would otherwise run the first)."""

    def on_validate(self) -> Iterator[None]:
        # Add to the cached errors before yielding: strawberry decides whether to execute
        # before the after-hooks run.
        hooks = super().on_validate()
        next(hooks)
        context = self.execution_context
        # operation_name falls back to the first operation; only what the client sent counts.
        if self._ambiguous(context.graphql_document, context._provided_operation_name):
            error = GraphQLError(
                "The document holds several operations: say which one in operationName.",
                extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
            )
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield
        next(hooks, None)

    @staticmethod
    def _ambiguous(document: DocumentNode | None, operation_name: str | None) -> bool:
        if document is None or operation_name is not None:
            return False
        operations = [
            node for node in document.definitions if isinstance(node, OperationDefinitionNode)
        ]
        return len(operations) > 1


class Transports(SchemaExtension):
    """Each operation on its transport: subscriptions over the websocket (graphql-transport-ws),
    queries and mutations over HTTP POST (so each runs in a request's own session)."""

    def on_validate(self) -> Iterator[None]:
        # After Validation (later in the list), which sets the errors; appended before yielding.
        context = self.execution_context
        over_socket = isinstance(context.context, SocketContext)
        subscription = context.operation_type is OperationType.SUBSCRIPTION
        message = None
        if over_socket and not subscription:
            message = "The websocket serves subscriptions only: send this with POST /graphql."
        elif subscription and not over_socket:
            message = (
                "Subscriptions are served over a websocket at /graphql with the "
                "graphql-transport-ws protocol."
            )
        if message:
            error = GraphQLError(message, extensions={"code": "GRAPHQL_VALIDATION_FAILED"})
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


class AuditReads(SchemaExtension):
    """After execution, chain one audit event per owner agency whose fields were decrypted."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        await audit.flush_reads(context.scope)
        await context.scope.store.end_read()
