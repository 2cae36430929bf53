"""A throw-away casehub home (keyring + migrated SQLite) in which cooperation requests are
taken through their steps in-process by the real services, as each agency's principal, on a
clock that can be set back; the CLI then runs against it as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from casehub.app import build_runtime
from casehub.config import Settings
from casehub.crypto import create_keyring
from casehub.domain.enums import AgencyKind, IdentifierKind, Role
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import Particulars
from casehub.domain.requests.transitions import FulfilOutcome, Priority, RequestAction, RequestKind
from casehub.domain.signatures.policy import SignedSteps
from casehub.persistence import migrate
from casehub.services.agencies import agencies, auth
from casehub.services.requests import lifecycle, messages, transitions
from casehub.services.runtime import Runtime, Scope, open_scope, utc_now

CASEHUB = Path(sys.executable).parent / "casehub"
TIMEOUT = 30
ROLES = (Role.READER, Role.LIAISON_OFFICER)


@dataclass
class RequestHome:
    """A database and keyring, the agencies registered in it and one token of each."""

    root: Path
    agency_ids: dict[str, UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.root / 'casehub.db'}"

    @property
    def keyring(self) -> Path:
        return self.root / "keyring.json"

    def settings(self) -> Settings:
        # These worlds exercise deadlines and receipts, not agency signatures (their own
        # tests: tests/api/test_signed_steps.py, tests/integration/test_bundles_cli.py).
        return Settings(database_url=self.url, keyring=self.keyring, signed_steps=SignedSteps.NONE)

    def create(self) -> None:
        """The state `casehub keys init` and `casehub db upgrade` leave."""
        self.root.mkdir(parents=True, exist_ok=True)
        create_keyring(self.keyring)
        migrate.upgrade(self.url)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `casehub ARGS` against this home; never raises on a non-zero exit."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
        env["CASEHUB_DATABASE_URL"] = self.url
        env["CASEHUB_KEYRING"] = str(self.keyring)
        return subprocess.run(
            [str(CASEHUB), *args],
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )


class Actors:
    """Acts through the services as principals of the home's agencies."""

    def __init__(self, home: RequestHome, runtime: Runtime) -> None:
        self.home = home
        self.runtime = runtime

    async def register(self, code: str, jurisdiction: str, kind: AgencyKind, zone: str) -> UUID:
        """An agency (as the operator) and a liaison officer's token for it."""
        async with open_scope(self.runtime) as scope:
            view = await agencies.register_agency(
                scope,
                code=code,
                name=f"Agency {code}",
                jurisdiction=jurisdiction,
                kind=kind,
                timezone=zone,
                as_operator=True,
            )
            _id, token = await auth.issue_token(scope, agency_code=code, roles=ROLES)
        self.home.agency_ids[code] = view.id
        self.home.tokens[code] = token
        return view.id

    @asynccontextmanager
    async def acting(self, code: str, ago: timedelta = timedelta(0)) -> AsyncIterator[Scope]:
        """A scope of the agency's principal whose clock runs `ago` behind the real one."""
        runtime = replace(self.runtime, clock=lambda: utc_now() - ago) if ago else self.runtime
        async with open_scope(runtime) as scope:
            scope.principal = await auth.authenticate(
                runtime, scope, f"Bearer {self.home.tokens[code]}"
            )
            yield scope

    async def create(
        self,
        requester: str,
        requested: str,
        kind: RequestKind,
        ago: timedelta = timedelta(0),
        priority: Priority = Priority.ROUTINE,
        legal_basis: str | None = "UNTOC art. 18",
        particulars: Particulars | None = None,
    ) -> UUID:
        """A draft request from one agency to another."""
        async with self.acting(requester, ago) as scope:
            view = await lifecycle.create_request(
                scope,
                requested_agency_id=self.home.agency_ids[requested],
                kind=kind,
                priority=priority,
                title=f"{kind.value} from {requester}",
                body="Particulars of the request.",
                legal_basis=legal_basis,
                particulars=particulars,
            )
        return view.id

    async def step(
        self,
        code: str,
        request_id: UUID,
        action: RequestAction,
        ago: timedelta = timedelta(0),
        text: str | None = None,
        outcome: FulfilOutcome | None = None,
    ) -> str:
        """One transition by the agency; returns the new status."""
        async with self.acting(code, ago) as scope:
            view = await transitions.transition(
                scope, request_id=request_id, action=action, text=text, outcome=outcome
            )
        return view.status

    async def message(self, code: str, request_id: UUID, body: str) -> None:
        """A message in the request's thread."""
        async with self.acting(code) as scope:
            await messages.add_message(scope, request_id=request_id, body=body)


@asynccontextmanager
async def actors(home: RequestHome) -> AsyncIterator[Actors]:
    """Actors on a fresh runtime of the home, disposed of at the end."""
    runtime = build_runtime(home.settings())
    try:
        yield Actors(home, runtime)
    finally:
        await runtime.database.dispose()


def disclosure_particulars() -> Particulars:
    """What a DATA_DISCLOSURE request must state: the accounts concerned."""
    return Particulars(
        account_identifiers=(
            IdentifierInput(IdentifierKind.MESSENGER_HANDLE, "@GoldFish_Mentor", "relaygram"),
        )
    )


async def register_pair(world: Actors) -> None:
    """MY-PDRM (requester) and AE-RELAYGRAM (requested)."""
    await world.register("MY-PDRM", "MY", AgencyKind.LAW_ENFORCEMENT, "Asia/Kuala_Lumpur")
    await world.register("AE-RELAYGRAM", "AE", AgencyKind.SERVICE_PROVIDER, "Asia/Dubai")
