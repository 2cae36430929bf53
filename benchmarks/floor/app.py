"""The floor's ASGI app: routes, transactions and JSON; the work is in reads and writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.floor import hit_check, reads, writes
from benchmarks.floor.audit import Entry, append, claim_writer
from benchmarks.floor.auth import Caller, authenticate
from benchmarks.floor.env import Env
from casehub.config import Settings
from casehub.crypto import LocalKeyring
from casehub.domain.errors import DomainError
from casehub.persistence import Database

Read = Callable[
    [AsyncConnection, Env, Caller, int, datetime], Awaitable[tuple[dict[str, Any], list[Entry]]]
]
Write = Callable[
    [AsyncConnection, Env, Caller, dict[str, Any], datetime],
    Awaitable[tuple[dict[str, Any], Entry]],
]


class _Unauthenticated(Exception):
    """No valid bearer token."""


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(code: str, message: str, status: int) -> Response:
    return _json({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def create_floor(settings: Settings) -> Starlette:
    """The floor's ASGI app, on casehub's engine configuration (pool, pragmas) and keyring."""
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    engine = database.engine
    env = Env(
        LocalKeyring.load(settings.keyring),
        settings.max_evidence_bytes,
        settings.hit_check_per_minute,
    )

    def read_route(path: str, view: Read) -> Route:
        async def endpoint(request: Request) -> Response:
            now = datetime.now(UTC)
            first = int(request.query_params.get("first", "20"))
            async with engine.connect() as connection:
                caller = await authenticate(connection, request.headers.get("authorization"), now)
                if caller is None:
                    return _error("UNAUTHENTICATED", "Authentication required.", 401)
                body, entries = await view(connection, env, caller, first, now)
                # Ended by a commit, not a rollback: it wrote nothing either way, and on
                # PostgreSQL a ROLLBACK makes psycopg drop every prepared statement of the
                # connection (one more round trip, DEALLOCATE ALL, and no statement stays
                # prepared).
                await connection.commit()
                if entries:  # what was decrypted, audited in a transaction of its own
                    async with connection.begin():
                        await claim_writer(connection)
                        await append(connection, caller, entries, now)
            return _json(body)

        return Route(path, endpoint, methods=["GET"])

    def write_route(path: str, view: Write) -> Route:
        async def endpoint(request: Request) -> Response:
            now = datetime.now(UTC)
            data = orjson.loads(await request.body())
            try:
                async with engine.begin() as connection:
                    await claim_writer(connection)
                    caller = await authenticate(
                        connection, request.headers.get("authorization"), now
                    )
                    if caller is None:
                        raise _Unauthenticated
                    answer, entry = await view(connection, env, caller, data, now)
                    await append(connection, caller, [entry], now)
            except _Unauthenticated:
                return _error("UNAUTHENTICATED", "Authentication required.", 401)
            except DomainError as error:
                return _error(error.code.value, error.message, 400)
            except IntegrityError:
                return _error("CONFLICT", "A conflicting change was made at the same time.", 409)
            return _json({"data": answer})

        return Route(path, endpoint, methods=["POST"])

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = Starlette(
        routes=[
            read_route("/floor/cases", reads.cases_page),
            read_route("/floor/inbox", reads.inbox),
            write_route("/floor/open-case", writes.open_case),
            write_route("/floor/add-subject", writes.add_subject),
            write_route("/floor/add-evidence", writes.add_evidence),
            write_route("/floor/hit-check", hit_check.hit_check),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app
