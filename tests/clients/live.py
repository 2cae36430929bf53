"""A live `casehub serve` for the client suites: a real process on a free loopback port over a
migrated SQLite database, with two agencies registered and given tokens by the services the
operator's CLI calls (in-process: each CLI process would add seconds). The engine lies beneath
the API these clients speak: the suites that drive PostgreSQL are elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from casehub.api.ids import to_global_id
from casehub.app import build_runtime
from casehub.config import Settings
from casehub.crypto import create_keyring
from casehub.domain.enums import AgencyKind, Role
from casehub.persistence import migrate
from casehub.services.agencies import agencies, auth
from casehub.services.runtime import open_scope
from tests.integration.servers import PLATFORM, POLICE, Hub


@dataclass(frozen=True)
class World:
    """The server's address, and the tokens of the requesting police (INVESTIGATOR and
    LIAISON_OFFICER) and of the requested platform (LIAISON_OFFICER)."""

    base: str
    police: str
    platform: str
    platform_id: str

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)


async def register(settings: Settings) -> tuple[str, str, str]:
    """The police's token, the platform's token and the platform's global id."""
    runtime = build_runtime(settings)
    tokens = []
    try:
        async with open_scope(runtime) as scope:
            for (code, name, jurisdiction, kind), roles in (
                (POLICE, [Role.INVESTIGATOR, Role.LIAISON_OFFICER]),
                (PLATFORM, [Role.LIAISON_OFFICER]),
            ):
                agency = await agencies.register_agency(
                    scope,
                    code=code,
                    name=name,
                    jurisdiction=jurisdiction,
                    kind=AgencyKind(kind),
                    as_operator=True,
                )
                _, token = await auth.issue_token(scope, agency_code=code, roles=roles)
                tokens.append(token)
    finally:
        await runtime.database.dispose()
    return tokens[0], tokens[1], to_global_id("Agency", agency.id)


@contextmanager
def serve(root: Path) -> Iterator[World]:
    """The server, ready, and its agencies' tokens; stopped on leaving."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{root / 'casehub.db'}", keyring=root / "keyring.json"
    )
    create_keyring(settings.keyring)
    migrate.upgrade(settings.database_url)
    police, platform, platform_id = asyncio.run(register(settings))
    hub = Hub(root, settings.database_url)
    try:
        base = hub.serve()
        hub.wait_ready(base)
        yield World(base, police, platform, platform_id)
    finally:
        hub.stop()
