"""Schema extensions: the error policy, parsing and query limits, validation, transports and
the audit of decrypted fields."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLSchema
from graphql.error import GraphQLError, GraphQLSyntaxError
from graphql.language import DocumentNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.types.graphql import OperationType

from casehub.api.context import SocketContext
from casehub.api.execution import limits, list_bounds
from casehub.api.execution.limits import QueryLimits
from casehub.domain.errors import DomainError, RateLimited, Unauthenticated
from casehub.services.audit import trail as audit
from casehub.services.runtime import unavailable

log = logging.getLogger("casehub.api")

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)
UNEXPECTED = "Unexpected error."
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service is unavailable: retry later."
# Whole seconds a caller waits before retrying when the database could not serve it: a full
# pool frees up as operations end (each holds a connection only while it talks to the database).
RETRY_SECONDS = 5


def retry_after(seconds: float) -> int:
    """Whole seconds to wait before retrying, never 0 (the Retry-After header's unit)."""
    return max(1, math.ceil(seconds))


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """An unexpected failure as the caller sees it: no detail, only the request id, which the
    log line (with the traceback) carries too."""
    log.error(
        "unexpected error (request %s)",
        request_id,
        exc_info=error.original_error or error,
        extra={"request_id": request_id},
    )
    return GraphQLError(
        UNEXPECTED,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )


def retry_later(error: GraphQLError, request_id: str) -> GraphQLError:
    """A failure of the database to serve (unreachable, or no pooled connection free in time)
    as the caller sees it: SERVICE_UNAVAILABLE with `retryAfter` seconds and the request id,
    nothing of the cause, which the log line (a warning: overload is no bug) carries."""
    cause = error.original_error or error
    log.warning(
        "database unavailable (request %s): %s",
        request_id,
        cause.__cause__ or cause,
        extra={"request_id": request_id},
    )
    return GraphQLError(
        UNAVAILABLE_MESSAGE,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={
            "code": SERVICE_UNAVAILABLE,
            "retryAfter": RETRY_SECONDS,
            "requestId": request_id,
        },
    )


def unexpected(error: GraphQLError, request_id: str) -> GraphQLError:
    """An error without a code as the caller sees it: SERVICE_UNAVAILABLE when the database
    could not serve (see `retry_later`), masked INTERNAL otherwise."""
    original = error.original_error
    if original is not None and unavailable(original):
        return retry_later(error, request_id)
    return masked(error, request_id)


class ErrorPolicy(MaskErrors):
    """Domain refusals keep their message and code; anything unexpected is masked and logged."""

    def __init__(self, *, suggestions: bool) -> None:
        super().__init__(error_message=UNEXPECTED)
        self.suggestions = suggestions

    def _request_id(self) -> str:
        context = self.execution_context.context
        return getattr(getattr(context, "scope", None), "request_id", "") or ""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._one(error) for error in errors]

    def _one(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if error.path is None and (original is None or isinstance(original, GraphQLError)):
            # Syntax, limit, validation and variable errors describe the request, not the data.
            message = error.message if self.suggestions else _SUGGESTION.sub("", error.message)
            kind = "PARSE" if isinstance(error, GraphQLSyntaxError) else "VALIDATION"
            return GraphQLError(
                message,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions={"code": f"GRAPHQL_{kind}_FAILED", **(error.extensions or {})},
            )
        if isinstance(original, DomainError):
            extensions: dict[str, object] = {"code": original.code.value}
            if original.field:
                extensions["field"] = original.field
            if isinstance(original, RateLimited):
                extensions["retryAfter"] = retry_after(original.retry_after)
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
        return unexpected(error, self._request_id())


class Parsing(ParserCache):
    """Cached parsing within the token and length limits."""

    def __init__(self, query_limits: QueryLimits) -> None:
        super().__init__(maxsize=1024)
        self.limits = query_limits

    def on_operation(self) -> Iterator[None]:
        options = self.execution_context.parse_options
        options["max_tokens"] = self.limits.tokens
        # graphql-core 3.3 takes this option; strawberry's ParseOptions type predates it.
        options["max_source_length"] = self.limits.document_chars  # type: ignore[typeddict-unknown-key]
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # An error raised here would skip the error policy: on failure the document stays
        # unset, and strawberry's own parse raises the error again where the policy sees it.
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


@dataclass(frozen=True, slots=True)
class _Passed:
    """A (document, operation, variables) within one schema's limits, and its cost (the schema
    and limits kept to tell a reused id from the same object)."""

    schema: GraphQLSchema
    limits: QueryLimits
    cost: int | None


# Agency tools send the same few documents with the same few variables: the walks over the
# document (a tenth of an inbox page's CPU) are done once for each that passed, keyed by the
# variables' shape (`_shape`). Only small variables that are plain JSON are keyed (an upload
# or a long list is analysed every time), and a refused document never is.
PASSED_KEPT = 512
VARIABLES_KEYED_CHARS = 1000
_Key = tuple[int, int, bytes, str | None, str]
_PASSED: LRUCache[_Key, _Passed] = LRUCache(PASSED_KEPT)


def _shape(value: Any) -> Any:
    """Variables as the limits read them: numbers, lists and objects, and where a string is,
    never what it says. So an id asked about once and one never seen before are the same
    key: the cache must not time a repeated question apart from a new one (an existence
    oracle to a caller who repeats a hidden object's id)."""
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return value


def _passed_key(
    schema: GraphQLSchema,
    query_limits: QueryLimits,
    query: str | None,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> _Key | None:
    if query is None:
        return None
    try:
        given = json.dumps(_shape(variables or {}), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # not plain JSON, or nested too deep
        return None
    if len(given) > VARIABLES_KEYED_CHARS:
        return None
    digest = hashlib.sha256(query.encode("utf-8")).digest()
    return (id(schema), id(query_limits), digest, operation_name, given)


class Limits(SchemaExtension):
    """Refuse a document over the query limits before it is validated or run; report its
    cost in the response's `extensions.cost`, refused or not."""

    def __init__(self, query_limits: QueryLimits) -> None:
        self.limits = query_limits
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        # Before Validation's hook (earlier in the list), which skips a refused document.
        context = self.execution_context
        document = context.graphql_document
        assert document is not None  # only a parsed document is validated
        schema = context.schema._schema
        operation_name = context._provided_operation_name
        key = _passed_key(schema, self.limits, context.query, operation_name, context.variables)
        passed = _PASSED.get(key) if key is not None else None
        if passed is not None and passed.schema is schema and passed.limits is self.limits:
            self.cost = passed.cost
            yield
            return
        analysis = limits.analyse(schema, document, operation_name, context.variables, self.limits)
        self.cost = analysis.cost
        # Before execution, where graphql-core would coerce every item of every list.
        long_lists = list_bounds.check(
            schema,
            document,
            get_operation_ast(document, operation_name),
            context.variables,
            self.limits.list_items,
            self.limits.page_size,
        )
        if analysis.errors or long_lists:
            context.pre_execution_errors = [*analysis.errors, *long_lists]
        elif key is not None:
            _PASSED[key] = _Passed(schema, self.limits, analysis.cost)
        yield

    def get_results(self) -> dict[str, object]:
        """`{"cost": {"requestedQueryCost": N or null, "maxQueryCost": M}}`."""
        return {"cost": {"requestedQueryCost": self.cost, "maxQueryCost": self.limits.cost}}


class Validation(ValidationCache):
    """Cached validation, plus the spec's rule that a document with several operations names
    the one to run in operationName (strawberry would otherwise run the first)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors:
            yield  # refused by the limits: validating it would only burn CPU
            return
        # Add to the cached errors before yielding: strawberry decides whether to execute
        # before the after-hooks run.
        hooks = super().on_validate()
        next(hooks)
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
    """Each operation on a transport that serves it: queries and mutations over HTTP and over
    the websocket (graphql-transport-ws; each runs in a session of its own either way, see
    casehub.api.http.once), subscriptions over the websocket only. Uploads stay HTTP-only: a
    websocket message is JSON, and a file sent as a JSON value is refused where it is read."""

    def on_validate(self) -> Iterator[None]:
        # After Validation (later in the list), which sets the errors; appended before yielding.
        context = self.execution_context
        over_socket = isinstance(context.context, SocketContext)
        if context.operation_type is OperationType.SUBSCRIPTION and not over_socket:
            error = GraphQLError(
                "Subscriptions are served over a websocket at /graphql with the "
                "graphql-transport-ws protocol.",
                extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
            )
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


class AuditReads(SchemaExtension):
    """After execution, chain one audit event per owner agency whose fields were decrypted."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        await audit.flush_reads(context.scope)
        await context.scope.store.end_read()
