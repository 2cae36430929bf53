"""Process-wide and per-request state the use-cases run with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from cachetools import TTLCache

from casehub.config import Settings
from casehub.crypto import DataKey, KeyProvider
from casehub.domain.enums import Access, Role
from casehub.domain.errors import Forbidden, Unauthenticated, Unavailable
from casehub.domain.roles import Operation, may, refusal
from casehub.persistence import Database, Store
from casehub.persistence.database import unreachable
from casehub.services.bus import EventBus, LocalBus

UNWRAPPED_KEYS = 4096
UNWRAPPED_SECONDS = 60.0


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    """What every request shares: database, keys, settings and the clock."""

    database: Database
    keys: KeyProvider
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    bus: EventBus = field(default_factory=LocalBus)  # request events
    # Unwrapped data keys by the wrap they came from; see casehub.services.keys.data_keys.
    unwrapped: TTLCache[tuple[object, ...], DataKey] = field(
        default_factory=lambda: TTLCache(maxsize=UNWRAPPED_KEYS, ttl=UNWRAPPED_SECONDS)
    )
    notices: EventBus = field(default_factory=LocalBus)  # hit notices


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: one principal acting for one agency with a set of roles."""

    id: UUID
    name: str
    agency_id: UUID
    agency_code: str
    roles: frozenset[Role]
    token_id: UUID
    # The thumbprint of the key a DPoP-bound token proved it holds (None: a bearer token).
    dpop_jkt: str | None = None


@dataclass(slots=True)
class CaseGrant:
    """What the viewer may see of one case, decided once per request."""

    access: Access
    owner_agency_id: UUID


@dataclass
class Scope:
    """One request or command: a session, the caller, and what it learned along the way."""

    runtime: Runtime
    store: Store
    principal: Principal | None = None
    request_id: str = ""
    grants: dict[UUID, CaseGrant | None] = field(default_factory=dict)
    keys: dict[UUID, DataKey | None] = field(default_factory=dict)
    reads: dict[UUID, dict[tuple[str, UUID], set[str]]] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        """The runtime clock's current time."""
        return self.runtime.clock()

    def caller(self) -> Principal:
        """The authenticated principal, or UNAUTHENTICATED."""
        if self.principal is None:
            raise Unauthenticated
        return self.principal

    def require(self, operation: Operation) -> Principal:
        """The caller, if the role table lets one of its roles take the operation; FORBIDDEN
        otherwise (decided on roles alone, before any look-up: it tells nothing of any id)."""
        principal = self.caller()
        if not may(principal.roles, operation):
            raise Forbidden(refusal(operation))
        return principal

    def note_read(
        self, owner_agency_id: UUID, object_type: str, object_id: UUID, name: str
    ) -> None:
        """Remember that a protected field was decrypted for the caller (audited at the end)."""
        fields = self.reads.setdefault(owner_agency_id, {}).setdefault(
            (object_type, object_id), set()
        )
        fields.add(name)


def unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot serve now (unreachable, or a pool with no
    connection to give within its timeout), raised as such or already Unavailable: the caller
    answers SERVICE_UNAVAILABLE with a time to retry, never an unexplained INTERNAL."""
    return isinstance(error, Unavailable) or unreachable(error)


@asynccontextmanager
async def open_scope(runtime: Runtime, principal: Principal | None = None) -> AsyncIterator[Scope]:
    """A scope with its own session, closed at the end."""
    async with runtime.database.session() as session:
        yield Scope(runtime=runtime, store=Store(session), principal=principal)


@asynccontextmanager
async def detached(scope: Scope) -> AsyncIterator[Scope]:
    """The same caller and request on a session of its own.

    For the few reads that write (a hit check, an audited search): GraphQL resolves a query's
    root fields concurrently on the request's session, where a commit or a rollback would end
    their siblings' transaction under them.
    """
    async with open_scope(scope.runtime, scope.principal) as own:
        own.request_id = scope.request_id
        yield own
