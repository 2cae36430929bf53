"""Live feeds: the rows an agency may see (request events, hit notices), as they are committed;
the request-event feed itself is casehub.services.requests.inbox.

Each wake-up of the event bus (or a periodic re-check) opens a fresh scope and re-reads from the
database, so a lost wake-up delays an event by at most `RECHECK_SECONDS` and never drops it.
Rows are read in feed-position order up to the commit-safe horizon (casehub.persistence.horizon),
with no lock among writers: nothing below the horizon can still commit, so resuming after the
last row received misses nothing and repeats nothing. A row committed while an older writing
transaction still runs waits behind the horizon; the feed then looks again within
`HELD_RECHECK_MAX` seconds rather than waiting for the next announcement.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any, Protocol, TypeVar

from casehub.domain.errors import Forbidden, Unauthenticated, ValidationFailed
from casehub.domain.roles import Operation, may, refusal
from casehub.services.bus import EventBus
from casehub.services.runtime import Principal, Runtime, Scope, open_scope

T = TypeVar("T")
BATCH = 100
RECHECK_SECONDS = 15.0
HELD_RECHECK_MIN = 0.02
HELD_RECHECK_MAX = 1.0
# Rows a "from now" subscriber skips because they were committed before it began, though behind
# the horizon then; past this many (a long writer held the horizon back) it may get a few of them.
HISTORY_MAX = 10_000
# A row's place in a feed: (position_xid, seq), compared as a pair.
Position = tuple[int, int]


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
    """One live feed: its table, where its wake-ups come from and how an agency's rows are
    read."""

    operation: Operation  # what following it is, in the role table
    table: type[Any]  # the feed's rows, with `seq` and `position_xid`

    def bus(self, runtime: Runtime) -> EventBus:
        """The bus announcing the feed's new rows."""

    async def read(
        self, scope: Scope, *, after: Position, before: Position, limit: int
    ) -> list[tuple[Position, T]]:
        """The rows between two positions that the caller's agency may see, in feed order."""


def _just_below(position: Position) -> Position:
    return (position[0], position[1] - 1)


async def follow_feed(
    runtime: Runtime,
    principal: Principal,
    feed: Feed[T],
    *,
    since: int | None,
    batch: int = BATCH,
    recheck: float = RECHECK_SECONDS,
) -> AsyncGenerator[tuple[Scope, list[T]], None]:
    """Batches of a feed's rows after the one numbered `since` (None: from now on) that the
    principal's agency may see, oldest first, forever. Each batch comes with the open scope it
    was read in, for the caller to render it; the scope closes when the caller asks for the
    next batch."""
    if not may(principal.roles, feed.operation):
        raise Forbidden(refusal(feed.operation))
    if since is not None and since < 0:
        raise ValidationFailed("Give 0 or a `seq` you received.", ["since"])
    history: set[Position] = set()  # committed before a "from now" subscription began
    async with open_scope(runtime, principal) as scope:
        scope.caller()
        if since is None:
            before = await scope.store.feed_horizon(feed.table)
            cursor = _just_below(before)
            history = await scope.store.feed_beyond(feed.table, before, HISTORY_MAX)
        else:
            cursor = await scope.store.feed_position(feed.table, since)
    bus = feed.bus(runtime)
    held_delay = HELD_RECHECK_MIN
    while True:
        generation = bus.generation
        async with open_scope(runtime, principal) as scope:
            await _still_valid(scope, principal)
            # Every row below `before` is committed and visible, and none can join it later.
            before = await scope.store.feed_horizon(feed.table)
            rows = await feed.read(scope, after=cursor, before=before, limit=batch)
            more = len(rows) >= batch
            held = not more and bool(await scope.store.feed_beyond(feed.table, before, 1))
            await scope.store.end_read()
            if rows:
                cursor = rows[-1][0]
                news = [item for position, item in rows if position not in history]
                if news:
                    yield scope, news
        if not more:
            cursor = max(cursor, _just_below(before))
        history = {position for position in history if position > cursor}
        if more:
            continue
        wait = recheck
        if held:
            wait, held_delay = min(held_delay, recheck), min(held_delay * 2, HELD_RECHECK_MAX)
        else:
            held_delay = HELD_RECHECK_MIN
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bus.wait_past(generation), wait)
