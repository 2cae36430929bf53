"""Composition root: create_app(settings) wires the engine, keyring, schema and routes."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from casehub.api.headers import middleware
from casehub.api.http import graphql_app, healthz
from casehub.api.limits import QueryLimits
from casehub.api.schema import build_schema
from casehub.config import Settings
from casehub.crypto import KeyProvider, LocalKeyring
from casehub.persistence import HIT_NOTICES, Database
from casehub.services.bus import bus_for
from casehub.services.health import SchemaOutdated, readiness, receipt_keys, schema_problem
from casehub.services.ratelimit import Limiters
from casehub.services.runtime import Runtime


def build_runtime(settings: Settings, keys: KeyProvider | None = None) -> Runtime:
    """The process-wide runtime: database engine, key provider and event bus (LISTEN/NOTIFY
    across processes on PostgreSQL, in-process on SQLite)."""
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
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
) -> Starlette:
    """The ASGI application; refuses to start on a database that is not migrated. Its rate
    limiters run on the `monotonic` clock."""
    logging.basicConfig(level=settings.log_level)
    runtime = runtime or build_runtime(settings)
    schema = build_schema(development=settings.is_development, limits=QueryLimits.of(settings))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        problem = await schema_problem(runtime)
        if problem:
            raise SchemaOutdated(problem)
        await runtime.bus.start()
        await runtime.notices.start()
        try:
            yield
        finally:
            await runtime.notices.stop()
            await runtime.bus.stop()
            await runtime.database.dispose()

    async def readyz(_request: Request) -> Response:
        problems = await readiness(runtime)
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def well_known_receipts(_request: Request) -> Response:
        return JSONResponse(receipt_keys(runtime), headers={"Cache-Control": "max-age=300"})

    graphql = graphql_app(runtime, schema, Limiters.of(settings, monotonic))
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/.well-known/casehub-receipts.json", well_known_receipts),
        ],
        middleware=middleware(settings),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
