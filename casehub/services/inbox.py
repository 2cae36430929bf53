"""The live inbox: the cooperation-request events an agency may see, as they are committed.

Each wake-up of the event bus (or a periodic re-check) opens a fresh scope and re-reads from the
database, so a lost wake-up delays an event by at most `RECHECK_SECONDS` and never drops it.
Event sequence numbers commit in order (see casehub.persistence.notify), so resuming after the
last seen `seq` misses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from casehub.domain.enums import Role
from casehub.domain.errors import Forbidden, Unauthenticated, ValidationFailed
from casehub.domain.policy import has_role
from casehub.services import request_reads
from casehub.services.runtime import Principal, Runtime, Scope, open_scope
from casehub.services.views import RequestEventView

# Any agency role reads its agency's requests, so any may follow them live (not HUB_ADMIN alone).
INBOX_ROLES = (Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN)
BATCH = 100
RECHECK_SECONDS = 15.0


def may_follow(principal: Principal) -> bool:
    """Whether the principal holds a role that reads its agency's requests."""
    return has_role(principal.roles, *INBOX_ROLES)


async def latest_seq(scope: Scope) -> int:
    """The newest request event's sequence number (0 when there is none): "from now"."""
    scope.caller()
    return await scope.store.latest_event_seq()


async def _still_valid(scope: Scope, principal: Principal) -> None:
    """A long-lived subscription ends when its token is revoked or expires."""
    token = await scope.store.token_by_id(principal.token_id)
    if token is None or token.revoked_at is not None:
        raise Unauthenticated
    if token.expires_at is not None and token.expires_at <= scope.now:
        raise Unauthenticated


async def follow(
    runtime: Runtime,
    principal: Principal,
    *,
    since: int | None,
    batch: int = BATCH,
    recheck: float = RECHECK_SECONDS,
) -> AsyncGenerator[tuple[Scope, list[RequestEventView]], None]:
    """Batches of the events after `since` (None: from now on) that the principal's agency may
    see, oldest first, forever. Each batch comes with the open scope it was read in, for the
    caller to render it; the scope closes when the caller asks for the next batch."""
    if not may_follow(principal):
        names = " or ".join(role.value for role in INBOX_ROLES)
        raise Forbidden(f"Following requests needs the {names} role.")
    if since is not None and since < 0:
        raise ValidationFailed("Give 0 or a `seq` you received.", ["since"])
    cursor = since
    if cursor is None:
        async with open_scope(runtime, principal) as scope:
            cursor = await latest_seq(scope)
    while True:
        async with open_scope(runtime, principal) as scope:
            await _still_valid(scope, principal)
            # Every event up to `horizon` is committed (they commit in order): once read, nothing
            # at or below it can appear later, whether or not this agency may see it.
            horizon = await scope.store.latest_event_seq()
            events = await request_reads.events_since(scope, since=cursor, limit=batch)
            await scope.store.end_read()
            if events:
                yield scope, events
                cursor = events[-1].seq
        if len(events) >= batch:
            continue  # more are waiting
        cursor = max(cursor, horizon)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.bus.wait_after(cursor), recheck)
