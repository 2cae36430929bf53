"""With the database unreachable, /graphql answers the documented GraphQL-shaped JSON error
(503 SERVICE_UNAVAILABLE, masked, with the request id and a Retry-After), not starlette's
plain-text 500, whether the server is down or the database was dropped under a running app."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from casehub.app import build_runtime, create_app
from casehub.config import Settings
from casehub.domain.enums import Role
from casehub.persistence import migrate
from casehub.services.agencies import auth
from casehub.services.runtime import open_scope
from tests.postgres import PG_ADMIN_URL, fresh_postgres, require_postgres
from tests.support import register

VIEWER = {"query": "{ viewer { name } }"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once the socket is closed


async def _post(settings: Settings, headers: dict[str, str]) -> httpx.Response:
    runtime = build_runtime(settings)
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            return await http.post("/graphql", json=VIEWER, headers=headers)
    finally:
        await runtime.database.dispose()


def _assert_unavailable(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "5"
    body: dict[str, Any] = response.json()
    assert body == {
        "errors": [
            {
                "message": "The service is unavailable: retry later.",
                "extensions": {
                    "code": "SERVICE_UNAVAILABLE",
                    "requestId": response.headers["x-request-id"],
                },
            }
        ]
    }
    for secret in ("psycopg", "refused", "127.0.0.1", "does not exist", *secrets):
        assert secret not in response.text


@pytest.mark.parametrize("authorization", ["Bearer chb_" + "x" * 43, None])
async def test_a_closed_database_port_is_a_json_503(
    keyring_path: Path, authorization: str | None
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/casehub"
    settings = Settings(database_url=url, keyring=keyring_path)
    headers = {"Authorization": authorization} if authorization else {}
    _assert_unavailable(await _post(settings, headers))


@pytest.mark.postgres
async def test_a_dropped_database_is_a_json_503(keyring_path: Path) -> None:
    require_postgres("this test")
    with fresh_postgres("casehub_gone") as url:
        await migrate.upgrade_async(url)
        settings = Settings(database_url=url, keyring=keyring_path)
        runtime = build_runtime(settings)
        try:
            async with open_scope(runtime) as scope:
                await register(scope, "MY-GONE")
                _id, token = await auth.issue_token(
                    scope, agency_code="MY-GONE", roles=[Role.READER]
                )
        finally:
            await runtime.database.dispose()
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        response = await _post(settings, {"Authorization": f"Bearer {token}"})
    _assert_unavailable(response, name, token)
