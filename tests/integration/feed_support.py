"""Helpers of the feed-horizon tests: writers on engines of their own, a writing transaction
held open, and a subscriber that disconnects and resumes with `since` as a client would."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import event, select, text
from sqlmodel import col

from casehub.domain.enums import IdentifierKind
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.transitions import Priority, RequestAction, RequestKind, RequestStatus
from casehub.persistence import Database
from casehub.persistence.tables import RequestEventRow
from casehub.services.agencies import auth
from casehub.services.bus import EventBus
from casehub.services.deconfliction import hits
from casehub.services.requests import lifecycle, messages, transitions
from casehub.services.requests.events import post_message, record_event
from casehub.services.runtime import Principal, Runtime, Scope, open_scope

WAIT = 10.0  # seconds anything expected may take
# A follower's read of its feed's rows (whole rows: not its horizon or position look-ups), one
# per pass over the feed.
FEED_READ = re.compile(r"request_event\.digest|hit_notice\.case_ids")


class Row(Protocol):
    """What every feed delivers: an id and a sequence number."""

    @property
    def id(self) -> UUID: ...

    @property
    def seq(self) -> int: ...


Stream = AsyncGenerator[tuple[Scope, list[Any]], None]
Follow = Callable[[Runtime, Principal, "int | None"], Stream]


async def eventually(condition: Callable[[], bool], what: str, within: float = WAIT) -> None:
    """Wait until `condition()` holds, failing after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def engines(runtime: Runtime, count: int) -> AsyncIterator[list[Runtime]]:
    """`count` copies of the runtime, each with an engine (pool) of its own on the same database,
    sharing its buses: what one writer announces wakes every follower, as LISTEN/NOTIFY would."""
    copies = [replace(runtime, database=Database(runtime.database.url)) for _ in range(count)]
    try:
        yield copies
    finally:
        await asyncio.gather(*(copy.database.dispose() for copy in copies))


async def principal_of(runtime: Runtime, token: str) -> Principal:
    """The principal behind a token."""
    async with open_scope(runtime) as scope:
        return await auth.authenticate(runtime, scope, f"Bearer {token}")


async def create_request(runtime: Runtime, requester: Principal, requested: UUID) -> UUID:
    """A draft information request (its CREATE event is the requester's only)."""
    async with open_scope(runtime, requester) as scope:
        view = await lifecycle.create_request(
            scope,
            requested_agency_id=requested,
            kind=RequestKind.INFORMATION_REQUEST,
            priority=Priority.ROUTINE,
            title="Subscriber of the channel admin",
            body="Who registered the account?",
        )
    return view.id


async def submit(runtime: Runtime, requester: Principal, request_id: UUID) -> None:
    """Submit a draft (the requested agency's first event of it)."""
    async with open_scope(runtime, requester) as scope:
        await transitions.transition(scope, request_id=request_id, action=RequestAction.SUBMIT)


async def post(runtime: Runtime, author: Principal, request_id: UUID, body: str) -> None:
    """A message in the request's thread, committed and announced by the service."""
    async with open_scope(runtime, author) as scope:
        await messages.add_message(scope, request_id=request_id, body=body)


async def check(runtime: Runtime, asking: Principal, phone: str) -> None:
    """A hit check of one phone number, committed and announced by the service."""
    async with open_scope(runtime, asking) as scope:
        await hits.hit_check(scope, identifiers=[IdentifierInput(IdentifierKind.PHONE, phone)])


@dataclass
class Held:
    """A writing transaction kept open on its own connection (PostgreSQL)."""

    scope: Scope
    xid: int

    async def message(self, request_id: UUID, body: str) -> RequestEventRow:
        """Post a message and record its event as the service does, without committing."""
        party = await lifecycle.load_party(self.scope, request_id)
        await self.scope.store.lock_request(request_id)
        status = RequestStatus(party.row.status)
        message = await post_message(self.scope, party.row, "MESSAGE", body)
        return await record_event(
            self.scope, party.row, RequestAction.MESSAGE, status, status, message
        )

    async def commit(self) -> None:
        """End the transaction, keeping its rows (announced by nobody: a follower must look
        again by itself)."""
        await self.scope.store.session.commit()

    async def rollback(self) -> None:
        """End the transaction, dropping its rows."""
        await self.scope.store.session.rollback()


@asynccontextmanager
async def held_open(runtime: Runtime, principal: Principal) -> AsyncIterator[Held]:
    """A transaction that has taken its id (as a writer does at its first lock or write) and
    stays open until the caller commits or rolls it back (rolled back if it did neither)."""
    async with open_scope(runtime, principal) as scope:
        result = await scope.store.session.execute(
            text("SELECT pg_current_xact_id()::text::bigint")
        )
        yield Held(scope, int(result.scalar_one()))


class Passes:
    """Counts a follower's passes over its feed, on an engine of its own (woken, when waited
    for, by announcements of nothing on the feed's bus)."""

    def __init__(self, runtime: Runtime, bus: EventBus | None = None) -> None:
        self.count = 0
        self._bus = bus or runtime.bus
        self._engine = runtime.database.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if FEED_READ.search(statement):
            self.count += 1

    async def wait(self, more: int) -> None:
        """Wait until the follower has begun `more` passes from now on (so `more` - 1 are
        done, their rows received)."""
        target = self.count + more
        deadline = time.monotonic() + WAIT
        while self.count < target:
            assert time.monotonic() < deadline, f"timed out waiting for {more} passes"
            await self._bus.published(0)  # a spurious wake-up: the follower just looks again
            await asyncio.sleep(0.02)

    def close(self) -> None:
        """Stop counting."""
        event.remove(self._engine, "before_cursor_execute", self._seen)


@dataclass
class Subscriber:
    """Follows a feed in a task as a client would: it keeps what it receives and, when
    `resume_after` is given, disconnects after that many rows (drawn anew each time, even in the
    middle of a batch: the rest is not received) and resumes with `since` = the last `seq` it
    received."""

    runtime: Runtime
    principal: Principal
    follow: Follow
    since: int | None
    resume_after: tuple[int, int] | None = None
    seed: int = 13
    received: list[Any] = field(default_factory=list)
    connections: list[int | None] = field(default_factory=list)  # each connection's `since`
    _task: asyncio.Task[None] | None = None

    def start(self) -> Subscriber:
        """Begin following."""
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        """Disconnect for good (raising what the follower raised, if it failed)."""
        assert self._task is not None
        if self._task.done():
            self._task.result()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def until(self, count: int, within: float = WAIT) -> None:
        """Wait until `count` rows were received in all."""

        def done() -> bool:
            assert self._task is not None
            if self._task.done():
                self._task.result()  # a failed follower fails the test at once
            return len(self.received) >= count

        await eventually(done, f"{count} rows (received {len(self.received)})", within)

    @property
    def ids(self) -> list[UUID]:
        """Ids of the rows received, in the order received."""
        return [row.id for row in self.received]

    async def _run(self) -> None:
        draw = random.Random(self.seed)
        since = self.since
        while True:
            left = draw.randint(*self.resume_after) if self.resume_after else -1
            self.connections.append(since)
            stream = self.follow(self.runtime, self.principal, since)
            try:
                async for _scope, rows in stream:
                    for row in rows:
                        self.received.append(row)
                        since = row.seq
                        left -= 1
                        if left == 0:
                            break
                    if left == 0:
                        break
            finally:
                await stream.aclose()


async def positions(runtime: Runtime, table: Any, ids: Sequence[UUID]) -> list[tuple[int, int]]:
    """The feed positions (position_xid, seq) of rows of a feed table, in the order of `ids`."""
    async with open_scope(runtime) as scope:
        result = await scope.store.session.execute(
            select(table.id, table.position_xid, table.seq).where(col(table.id).in_(list(ids)))
        )
        found = {row_id: (int(xid), int(seq)) for row_id, xid, seq in result.all()}
    return [found[row_id] for row_id in ids]
