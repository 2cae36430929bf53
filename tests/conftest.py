"""Shared fixtures: a migrated database per engine (SQLite, PostgreSQL), the real ASGI app,
agencies with tokens, and a GraphQL client that goes through HTTP."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from casehub.app import build_runtime, create_app
from casehub.config import Environment, Settings
from casehub.crypto import create_keyring
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.signatures.policy import SignedSteps
from casehub.persistence import migrate
from casehub.services.agencies import agencies, auth
from casehub.services.runtime import Runtime, open_scope
from tests.postgres import PG_ADMIN_URL, fresh_postgres, require_postgres

ALL_ROLES = (Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One clear line when the PostgreSQL suite did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    if any("PostgreSQL" in str(report.longrepr) for report in skipped):
        terminalreporter.write_line(
            f"PostgreSQL suite SKIPPED: no server at {PG_ADMIN_URL} "
            "(CI=true bash .ci/run starts and requires it)",
            yellow=True,
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (each xdist worker has its own),
    dropped at the end."""
    require_postgres("its suite")
    with fresh_postgres("casehub_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file for this test session (each xdist worker has its own)."""
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'casehub.db'}"


@pytest.fixture(scope="session")
def keyring_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keyring file, mode 0600."""
    path = tmp_path_factory.mktemp("keys") / "keyring.json"
    create_keyring(path)
    return path


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """The database of the engine under test, migrated to head."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, keyring_path: Path) -> Settings:
    """Settings of the app under test (production mode, small evidence limit, no step that
    must be signed: the signing policy's default has its own runtime in
    tests/api/test_signed_steps.py, where every other test's platform requests need keys)."""
    return Settings(
        env=Environment.PRODUCTION,
        database_url=database_url,
        keyring=keyring_path,
        max_evidence_bytes=64 * 1024,
        max_request_bytes=256 * 1024,
        signed_steps=SignedSteps.NONE,
    )


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The process-wide runtime for the engine under test."""
    built = build_runtime(settings)
    yield built
    await built.database.dispose()


@pytest.fixture(scope="session")
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the real ASGI app."""
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@dataclass
class Agency:
    """An agency registered for a test, with tokens by role set."""

    id: str
    code: str
    uuid: Any
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """A token holding every agency role."""
        return self.tokens["all"]


class World:
    """Registers agencies and issues tokens through the services, as the CLI does."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def agency(
        self,
        prefix: str = "T",
        jurisdiction: str = "MY",
        kind: AgencyKind = AgencyKind.LAW_ENFORCEMENT,
    ) -> Agency:
        """A new agency with a token of all agency roles and one per single role."""
        from casehub.api.ids import to_global_id

        code = f"{prefix}-{secrets.token_hex(4).upper()}"
        async with open_scope(self.runtime) as scope:
            view = await agencies.register_agency(
                scope,
                code=code,
                name=f"Agency {code}",
                jurisdiction=jurisdiction,
                kind=kind,
                as_operator=True,
            )
            agency = Agency(id=to_global_id("Agency", view.id), code=code, uuid=view.id)
            _id, agency.tokens["all"] = await auth.issue_token(
                scope, agency_code=code, roles=ALL_ROLES
            )
            for role in Role:
                _id, agency.tokens[role.value] = await auth.issue_token(
                    scope,
                    agency_code=code,
                    roles=[role],
                    principal_name=f"{role.value.lower()}-tool",
                )
        return agency


@pytest.fixture
def world(runtime: Runtime) -> World:
    """Factory of agencies for a test."""
    return World(runtime)


class GraphQL:
    """Posts GraphQL operations over HTTP and returns the decoded JSON body."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        token: str | None,
        query: str,
        variables: dict[str, Any] | None = None,
        status: int = 200,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    """GraphQL over the real HTTP app."""
    return GraphQL(client)


class SqlCounter:
    """Counts SQL statements sent by the runtime's engine while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.active = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.active:
            self.statements.append(statement)


@pytest.fixture
def sql_counter(runtime: Runtime) -> Iterator[SqlCounter]:
    """Attach a statement counter to the engine for one test."""
    counter = SqlCounter()
    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)
