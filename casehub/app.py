"""Composition root: create_app(settings) wires the engine, keyring, schema and routes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import SchemaExtension

from casehub.api.execution.limits import QueryLimits
from casehub.api.execution.registration import read_documents
from casehub.api.http import federation_identity, federation_messages, ide
from casehub.api.http.access_log import OperationName, Spans, configure_logging
from casehub.api.http.headers import middleware
from casehub.api.http.metrics import Metrics
from casehub.api.http.routes import graphql_app, healthz
from casehub.api.schema import build_schema
from casehub.config import Settings
from casehub.crypto import KeyProvider, LocalKeyring
from casehub.domain.documents import ManifestEntry, ManifestError
from casehub.persistence import HIT_NOTICES, Database
from casehub.services import documents
from casehub.services.audit import log as audit_log
from casehub.services.bus import bus_for
from casehub.services.federation import delivery as federation_delivery
from casehub.services.health import (
    SchemaOutdated,
    accreditation_keys,
    readiness,
    receipt_keys,
    schema_problem,
)
from casehub.services.ratelimit import Limiters
from casehub.services.runtime import Runtime

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


# How long shutdown waits for the audit sequencer's round in progress before cancelling it.
SEQUENCER_STOP_SECONDS = 10.0


class StartupError(Exception):
    """The settings ask for something this installation cannot do."""


def build_runtime(settings: Settings, keys: KeyProvider | None = None) -> Runtime:
    """The process-wide runtime: database engine, key provider and event bus (LISTEN/NOTIFY
    across processes on PostgreSQL, in-process on SQLite)."""
    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    return Runtime(
        database=database,
        keys=keys or LocalKeyring.load(settings.keyring),
        settings=settings,
        bus=bus_for(database),
        notices=bus_for(database, HIT_NOTICES),
    )


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The ASGI application; refuses to start on a database that is not migrated. Its rate
    limiters run on the `monotonic` clock; with tracing on, its spans go to `tracer_provider`
    (default: OTLP export, flushed at shutdown). StartupError when tracing is on but
    OpenTelemetry is not installed."""
    configure_logging(settings)
    runtime = runtime or build_runtime(settings)
    # The access log names each request's operation; tracing, when on, adds its spans.
    extra: list[Callable[[], SchemaExtension]] = [OperationName]
    metrics = Metrics(runtime.database.pool_use)
    spans: Spans | None = None
    exporting: TracerProvider | None = None  # made here, so shut down here
    if settings.otel_enabled:
        try:
            from casehub.api.http import tracing
        except ImportError as missing:
            raise StartupError(
                f"CASEHUB_OTEL_ENABLED is true but OpenTelemetry is not installed ({missing.name}"
                " is missing): install casehub with its otel extra, pip install 'casehub[otel]'."
            ) from None
        if tracer_provider is None:
            tracer_provider = exporting = tracing.exporting_provider()
        extra.append(partial(tracing.OperationSpans, tracer_provider=tracer_provider))
        spans = partial(tracing.request_span, tracer_provider.get_tracer("casehub"))
    schema = build_schema(
        development=settings.is_development, limits=QueryLimits.of(settings), extra=extra
    )
    shipped = _shipped_documents(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        problem = await schema_problem(runtime)
        if problem:
            raise SchemaOutdated(problem)
        if shipped:
            await documents.add_manifest(runtime, shipped)
        await runtime.bus.start()
        await runtime.notices.start()
        stop_workers = asyncio.Event()
        workers: list[tuple[asyncio.Task[None], float]] = []
        if settings.audit_integrate_seconds > 0:
            sequencer = audit_log.run_sequencer(
                runtime, settings.audit_integrate_seconds, stop_workers
            )
            task = asyncio.create_task(sequencer, name="casehub-audit-sequencer")
            workers.append((task, SEQUENCER_STOP_SECONDS))
        if settings.federation_deliver_seconds > 0:
            sender = federation_delivery.run_delivery(
                runtime,
                settings.federation_deliver_seconds,
                stop_workers,
                observe=metrics.federation_outbox.observe,
            )
            task = asyncio.create_task(sender, name="casehub-federation-delivery")
            # No attempt starts after stop; those under way end within the answer's timeout.
            workers.append((task, settings.federation_delivery_timeout_seconds + 5))
        try:
            yield
        finally:
            # Let a round in progress end; cancel it only when it hangs past its grace.
            stop_workers.set()
            for task, grace in workers:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, grace)
            await runtime.notices.stop()
            await runtime.bus.stop()
            await runtime.database.dispose()
            if exporting is not None:
                await asyncio.to_thread(exporting.shutdown)  # exports the spans still queued

    async def readyz(_request: Request) -> Response:
        problems = await readiness(runtime)
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def well_known_receipts(_request: Request) -> Response:
        return JSONResponse(receipt_keys(runtime), headers={"Cache-Control": "max-age=300"})

    async def well_known_accreditation(_request: Request) -> Response:
        return JSONResponse(accreditation_keys(runtime), headers={"Cache-Control": "max-age=300"})

    graphql = graphql_app(runtime, schema, Limiters.of(settings, monotonic), metrics, spans)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/.well-known/casehub-receipts.json", well_known_receipts),
        Route("/.well-known/casehub-accreditation.json", well_known_accreditation),
        *federation_identity.routes(runtime),
        *federation_messages.routes(
            runtime,
            window=timedelta(seconds=settings.federation_window_seconds),
            refusal_audits_per_minute=settings.federation_refusal_audits_per_minute,
            count_refusal=lambda code: metrics.federation_refusals.labels(code).inc(),
        ),
    ]
    if settings.is_development:
        routes.append(Route(ide.ROUTE, ide.serve_asset))  # GraphiQL's files; no IDE otherwise
    if settings.metrics:
        routes.append(Route("/metrics", metrics.serve))
    app = Starlette(
        routes=routes,
        middleware=middleware(settings),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


def _shipped_documents(settings: Settings) -> list[ManifestEntry]:
    """The documents of CASEHUB_DOCUMENTS_DIR, read and checked before anything starts (the
    lifespan registers them); StartupError naming the first that cannot be registered."""
    if settings.documents_dir is None:
        return []
    try:
        found = read_documents([settings.documents_dir], settings)
    except ManifestError as error:
        raise StartupError(
            f"CASEHUB_DOCUMENTS_DIR: {error} — correct it, or unset CASEHUB_DOCUMENTS_DIR"
        ) from None
    return [entry for _where, entry in found]
