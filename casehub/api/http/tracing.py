"""OpenTelemetry spans (CASEHUB_OTEL_ENABLED=true): one per HTTP request or websocket
connection to /graphql, continuing the caller's trace (traceparent), and one per GraphQL
operation with its parsing and validation, exported over OTLP/HTTP to the endpoint of the
standard OTEL_EXPORTER_OTLP_* variables.

The packages are the optional `otel` extra: this module is imported only when tracing is on.
Spans carry no document text, variable, argument or token: protected values travel in those.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager

from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Tracer
from starlette.types import Scope
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing.opentelemetry import OpenTelemetryExtension

from casehub.api.http.access_log import Exchange, operation_of

_PROPAGATED = (b"traceparent", b"tracestate")


def exporting_provider() -> TracerProvider:
    """A tracer provider exporting spans in batches over OTLP/HTTP."""
    name = os.environ.get("OTEL_SERVICE_NAME") or "casehub"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


@contextmanager
def request_span(tracer: Tracer, scope: Scope, exchange: Exchange) -> Iterator[None]:
    """A server span around one request or websocket connection to /graphql."""
    # Only the trace headers: the Authorization header never reaches the propagator.
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in _PROPAGATED
    }
    method = scope.get("method", "GET")
    with tracer.start_as_current_span(
        f"{method} {scope['path']}", context=propagate.extract(carrier), kind=SpanKind.SERVER
    ) as span:
        try:
            yield
        finally:
            span.set_attributes(
                {
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "http.response.status_code": exchange.status,
                    "casehub.request_id": exchange.request_id,
                    "casehub.outcome": exchange.outcome,
                    "graphql.operation.name": exchange.operation,
                }
            )


class OperationSpans(OpenTelemetryExtension):
    """strawberry's spans of an operation, its parsing and its validation, without what
    strawberry would add that may hold protected values (the document's text, resolver
    arguments) and without its span per resolver (a per-field cost)."""

    # The base class's resolve: strawberry then wraps no resolver at all.
    resolve = SchemaExtension.resolve  # type: ignore[assignment]

    def on_operation(self) -> Generator[None, None, None]:
        """A span around the whole operation, named after its type and name."""
        span = self._tracer.start_span("GraphQL operation")
        self._span_holder[LifecycleStep.OPERATION] = span
        try:
            yield
        finally:
            context = self.execution_context
            name = operation_of(context.operation_name)
            try:
                kind = context.operation_type.value
            except RuntimeError:  # unparsed, or no operation of that name
                kind = "unknown"
            span.update_name(f"GraphQL {kind} {name}")
            span.set_attributes({"graphql.operation.name": name, "graphql.operation.type": kind})
            span.end()
