"""Wake-ups for live subscribers of one feed: "new rows were committed" (request events, hit
notices). Subscribers then read what they may see from the database, so a missed wake-up
never loses an event."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from casehub.persistence import REQUEST_EVENTS, Database, Feed
from casehub.persistence.notify import EventListener


class EventBus(Protocol):
    """Tells subscribers that new request events were committed."""

    async def published(self, seq: int) -> None:
        """Announce that the event numbered `seq` was committed."""

    @property
    def generation(self) -> int:
        """How many announcements this process heard so far."""

    async def wait_past(self, generation: int) -> None:
        """Return once an announcement after `generation` is heard (callers bound the wait)."""

    async def start(self) -> None:
        """Begin receiving announcements from other processes (at application start-up)."""

    async def stop(self) -> None:
        """Stop receiving them (at shutdown)."""

    @property
    def connected(self) -> bool:
        """Whether announcements from other processes reach this one (readiness)."""


class LocalBus:
    """In-process bus: enough for one server process (and SQLite, which is one process)."""

    def __init__(self) -> None:
        self._generation = 0
        self._changed = asyncio.Event()

    async def published(self, seq: int) -> None:
        """Wake every waiter."""
        self.announce(seq)

    def announce(self, _seq: int) -> None:
        """Count the announcement and wake waiters (also used by remote feeds). Rows commit in
        no particular order of `seq`, so waiters re-read rather than compare numbers."""
        self._generation += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    @property
    def generation(self) -> int:
        """How many announcements this process heard so far."""
        return self._generation

    async def wait_past(self, generation: int) -> None:
        """Sleep until an announcement after `generation`."""
        while self._generation <= generation:
            await self._changed.wait()

    async def start(self) -> None:
        """Nothing to start: announcements come from this process only."""

    async def stop(self) -> None:
        """Nothing to stop."""

    @property
    def connected(self) -> bool:
        """Always: there are no other processes to hear from."""
        return True


class PostgresBus(LocalBus):
    """Fan-out across server processes through PostgreSQL LISTEN/NOTIFY.

    The NOTIFY is sent by the committing transaction itself (see casehub.persistence.notify),
    so `published` only wakes this process's waiters at once; a background listener wakes them
    for events committed by any process, this one included."""

    def __init__(self, database: Database, feed: Feed = REQUEST_EVENTS) -> None:
        super().__init__()
        self._database = database
        self._feed = feed
        self._task: asyncio.Task[None] | None = None
        self._listener: EventListener | None = None

    async def start(self) -> None:
        """Start the listener task (idempotent)."""
        if self._task is None or self._task.done():
            self._listener = self._database.event_listener(self.announce, self._feed)
            self._task = asyncio.create_task(
                self._listener.run(), name=f"casehub-{self._feed.channel}"
            )

    async def stop(self) -> None:
        """Cancel the listener task and wait for it to close its connection."""
        task, self._task, self._listener = self._task, None, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def connected(self) -> bool:
        """False while the started listener is (re)connecting. A bus that was never started
        (an app embedded without its lifespan) announces within its process only: nothing to
        wait for."""
        return self._listener is None or self._listener.connected.is_set()


def bus_for(database: Database, feed: Feed = REQUEST_EVENTS) -> EventBus:
    """PostgresBus on PostgreSQL (several server processes may share it), LocalBus otherwise."""
    return PostgresBus(database, feed) if database.notifies else LocalBus()
