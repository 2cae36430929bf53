"""OpenTelemetry (CASEHUB_OTEL_ENABLED=true): a server span per request and websocket
connection, continuing the caller's trace, with the operation's span (and its parsing and
validation) inside; no span per resolver, and no protected value or token in any span; spans
exported over OTLP at shutdown; a clear refusal to start when OpenTelemetry is not installed."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
import uvicorn
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from typer.testing import CliRunner

import casehub.api.http
from casehub.app import StartupError, create_app
from casehub.cli import app as cli
from casehub.services.runtime import Runtime
from tests.conftest import World

SECRET = "Wallet seed phrase kept by the channel admin"
OPEN = """mutation Open($input: OpenCaseInput!) { openCase(input: $input) {
  case { id summary title } errors { code } } }"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@asynccontextmanager
async def traced(runtime: Runtime, exporter: InMemorySpanExporter) -> AsyncIterator[Any]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = runtime.settings.model_copy(update={"otel_enabled": True})
    app = create_app(settings, runtime=runtime, tracer_provider=provider)
    transport = ASGIWebSocketTransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


def everything_in(span: ReadableSpan) -> str:
    return " ".join(
        [span.name, *(f"{key}={value!r}" for key, value in (span.attributes or {}).items())]
        + [event.name for event in span.events]
    )


async def test_a_request_and_its_operation_in_the_callers_trace(
    runtime: Runtime, world: World, exporter: InMemorySpanExporter
) -> None:
    agency = await world.agency("OTL")
    data = {"reference": "OTL-1", "title": "T", "summary": SECRET, "category": "FRAUD"}
    async with traced(runtime, exporter) as http:
        response = await http.post(
            "/graphql",
            json={"query": OPEN, "variables": {"input": data}},
            headers={"Authorization": f"Bearer {agency.token}", "traceparent": TRACEPARENT},
        )
    assert response.json()["data"]["openCase"]["errors"] == []
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {
        "POST /graphql",
        "GraphQL mutation Open",
        "GraphQL Parsing",
        "GraphQL Validation",
    }, "one span per request and per operation step, none per resolver"
    request, operation = spans["POST /graphql"], spans["GraphQL mutation Open"]
    assert request.kind is SpanKind.SERVER
    assert request.context is not None
    assert operation.context is not None
    assert f"{request.context.trace_id:032x}" == TRACE_ID  # the caller's trace goes on
    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    for step in ("GraphQL Parsing", "GraphQL Validation"):
        parent = spans[step].parent
        assert parent is not None
        assert parent.span_id == operation.context.span_id
    assert dict(request.attributes or {}) == {
        "http.request.method": "POST",
        "url.path": "/graphql",
        "http.response.status_code": 200,
        "casehub.request_id": response.headers["x-request-id"],
        "casehub.outcome": "ok",
        "graphql.operation.name": "Open",
    }
    assert dict(operation.attributes or {}) == {
        "graphql.operation.name": "Open",
        "graphql.operation.type": "mutation",
    }
    for span in spans.values():
        for secret in (SECRET, agency.token, "summary"):
            assert secret not in everything_in(span), (span.name, secret)


async def test_refusals_and_websockets_have_spans_too(
    runtime: Runtime, world: World, exporter: InMemorySpanExporter
) -> None:
    agency = await world.agency("OTL")
    async with traced(runtime, exporter) as http:
        assert (
            await http.post("/graphql", json={"query": "{ viewer { name } }"})
        ).status_code == 401
        ws: AsyncWebSocketSession
        async with aconnect_ws(
            "http://casehub.test/graphql", http, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"token": agency.token}})
            assert await ws.receive_json(timeout=5) == {"type": "connection_ack"}
            query = "subscription Inbox { cooperationRequestEvents { seq } }"
            await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
            await ws.send_json({"id": "1", "type": "complete"})
            await ws.send_json({"type": "ping"})
            assert await ws.receive_json(timeout=5) == {"type": "pong"}
    finished = await spans_until(exporter, "GraphQL subscription Inbox")
    refused = next(span for span in finished if span.name == "POST /graphql")
    assert (refused.attributes or {})["casehub.outcome"] == "UNAUTHENTICATED"
    assert (refused.attributes or {})["http.response.status_code"] == 401
    socket = next(span for span in finished if span.name == "GET /graphql")
    assert (socket.attributes or {})["http.response.status_code"] == 101
    inbox = next(span for span in finished if span.name == "GraphQL subscription Inbox")
    assert inbox.parent is not None
    assert socket.context is not None
    assert inbox.parent.span_id == socket.context.span_id


async def spans_until(exporter: InMemorySpanExporter, name: str) -> tuple[ReadableSpan, ...]:
    """The finished spans once one has this name: a completed subscription's task ends a
    moment after its socket answers again."""
    for _ in range(100):
        finished = exporter.get_finished_spans()
        if any(span.name == name for span in finished):
            return finished
        await asyncio.sleep(0.05)
    raise AssertionError([span.name for span in finished])


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps what it receives."""

    received: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        self.received.append(self.rfile.read(length))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        """Quiet."""


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    server = HTTPServer(("127.0.0.1", 0), Collector)
    Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "casehub-test")
    yield Collector.received
    server.shutdown()
    thread.join()


async def test_spans_are_exported_over_otlp_by_shutdown(
    runtime: Runtime, world: World, collector: list[bytes]
) -> None:
    agency = await world.agency("OTL")
    settings = runtime.settings.model_copy(update={"otel_enabled": True})
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            response = await http.post(
                "/graphql",
                json={"query": "query Who { viewer { name } }"},
                headers={"Authorization": f"Bearer {agency.token}"},
            )
            assert response.status_code == 200
    # Shutting the app down flushed the batch: protobuf keeps strings as they are.
    sent = b"".join(collector)
    for text in (b"POST /graphql", b"GraphQL query Who", b"casehub-test"):
        assert text in sent, text
    assert agency.token.encode() not in sent


@pytest.fixture
def without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the otel extra were not installed: importing opentelemetry fails."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.delitem(sys.modules, "casehub.api.http.tracing", raising=False)
    monkeypatch.delattr(casehub.api.http, "tracing", raising=False)


@pytest.mark.usefixtures("without_opentelemetry")
def test_tracing_without_opentelemetry_refuses_to_start(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"otel_enabled": True})
    with pytest.raises(StartupError, match=r"\(opentelemetry is missing\).*'casehub\[otel\]'"):
        create_app(settings, runtime=runtime)


@pytest.mark.usefixtures("without_opentelemetry")
def test_casehub_serve_says_so_and_exits(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    def served(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("casehub serve started serving")

    monkeypatch.setattr(uvicorn, "run", served)
    settings = runtime.settings
    env = {
        "CASEHUB_DATABASE_URL": settings.database_url,
        "CASEHUB_KEYRING": str(settings.keyring),
        "CASEHUB_OTEL_ENABLED": "true",
    }
    result = CliRunner().invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 1, result.output
    assert "CASEHUB_OTEL_ENABLED is true but OpenTelemetry is not installed" in result.output
