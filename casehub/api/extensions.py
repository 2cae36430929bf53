"""Schema extensions: the error policy and the audit of decrypted fields."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

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
        if original is None:
            # Syntax and validation errors describe the document, not the data.
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


class AuditReads(SchemaExtension):
    """After execution, chain one audit event per owner agency whose fields were decrypted."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        await audit.flush_reads(context.scope)
        await context.scope.store.end_read()
