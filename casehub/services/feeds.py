"""Live feeds: the rows an agency may see (request events, hit notices), as they are committed;
the request-event feed itself is casehub.services.requests.inbox.

Each wake-up of the event bus (or a periodic re-check) opens a fresh scope and re-reads from the
database, so a lost wake-up delays an event by at most `RECHECK_SECONDS` and never drops it.
Event sequence numbers commit in order (see casehub.persistence.notify), so resuming after the
last seen `seq` misses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Protocol, TypeVar

from casehub.domain.errors import Forbidden, Unauthenticated, ValidationFailed
from casehub.domain.roles import Operation, may, refusal
from casehub.services.bus import EventBus
from casehub.services.runtime import Principal, Runtime, Scope, open_scope

T = TypeVar("T")
BATCH = 100
RECHECK_SECONDS = 15.0


# What the live feeds show: request events and hit notices (see the role table).
FEED_OPERATIONS = (Operation.READ_REQUESTS, Operation.READ_NOTICES)


def may_follow(principal: Principal) -> bool:
    """Whether the principal may follow any live feed (a websocket without one is refused)."""
    return any(may(principal.roles, each) for each in FEED_OPERATIONS)


async def _still_valid(scope: Scope, principal: Principal) -> None:
    """A long-lived subscription ends when its token is revoked or expires."""
    token = await scope.store.token_by_id(principal.token_id)
    if token is None or token.revoked_at is not None:
        raise Unauthenticated
    if token.expires_at is not None and token.expires_at <= scope.now:
        raise Unauthenticated


class Feed(Protocol[T]):
    """One live feed: where its wake-ups come from and how an agency's rows are read."""

    operation: Operation  # what following it is, in the role table

    def bus(self, runtime: Runtime) -> EventBus:
        """The bus announcing the feed's new rows."""

    async def latest(self, scope: Scope) -> int:
        """The newest sequence number of the feed, whoever may see it."""

    async def read(self, scope: Scope, *, after: int, limit: int) -> list[T]:
        """The rows after `after` that the caller's agency may see, oldest first."""

    def seq(self, item: T) -> int:
        """An item's sequence number."""


async def follow_feed(
    runtime: Runtime,
    principal: Principal,
    feed: Feed[T],
    *,
    since: int | None,
    batch: int = BATCH,
    recheck: float = RECHECK_SECONDS,
) -> AsyncGenerator[tuple[Scope, list[T]], None]:
    """Batches of a feed's rows after `since` (None: from now on) that the principal's agency
    may see, oldest first, forever. Each batch comes with the open scope it was read in, for
    the caller to render it; the scope closes when the caller asks for the next batch."""
    if not may(principal.roles, feed.operation):
        raise Forbidden(refusal(feed.operation))
    if since is not None and since < 0:
        raise ValidationFailed("Give 0 or a `seq` you received.", ["since"])
    cursor = since
    if cursor is None:
        async with open_scope(runtime, principal) as scope:
            scope.caller()
            cursor = await feed.latest(scope)
    while True:
        async with open_scope(runtime, principal) as scope:
            await _still_valid(scope, principal)
            # Every row up to `horizon` is committed (they commit in order): once read, nothing
            # at or below it can appear later, whether or not this agency may see it.
            horizon = await feed.latest(scope)
            items = await feed.read(scope, after=cursor, limit=batch)
            await scope.store.end_read()
            if items:
                yield scope, items
                cursor = feed.seq(items[-1])
        if len(items) >= batch:
            continue  # more are waiting
        cursor = max(cursor, horizon)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.bus(runtime).wait_after(cursor), recheck)
