"""Wake-ups for live subscribers: "request events up to seq N exist". Subscribers then read
what they may see from the database, so a missed wake-up never loses an event."""

from __future__ import annotations

import asyncio
from typing import Protocol


class EventBus(Protocol):
    """Tells subscribers that new request events were committed."""

    async def published(self, seq: int) -> None:
        """Announce that events up to `seq` are committed."""

    async def wait_after(self, seq: int) -> None:
        """Return when an event after `seq` is announced (callers bound the wait)."""


class LocalBus:
    """In-process bus: enough for one server process (and SQLite, which is one process)."""

    def __init__(self) -> None:
        self._latest = 0
        self._changed = asyncio.Event()

    async def published(self, seq: int) -> None:
        """Wake every waiter."""
        self.announce(seq)

    def announce(self, seq: int) -> None:
        """Record the newest sequence number and wake waiters (also used by remote feeds)."""
        if seq > self._latest:
            self._latest = seq
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_after(self, seq: int) -> None:
        """Sleep until something newer than `seq` is announced."""
        while self._latest <= seq:
            await self._changed.wait()
