"""PostgreSQL LISTEN/NOTIFY of request events: writers never wait for each other, each row is
stamped with its transaction's id (its feed position), a notification is sent on commit only,
and the listener reconnects when its connection is killed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from sqlalchemy import delete, text
from sqlalchemy import event as sa_event
from sqlmodel import col

from casehub.app import build_runtime
from casehub.config import Settings
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.requests.transitions import Priority, RequestKind
from casehub.persistence import migrate
from casehub.persistence.notify import LISTENER_NAME
from casehub.persistence.tables import RequestEventRow
from casehub.services.agencies import agencies, auth
from casehub.services.requests import lifecycle
from casehub.services.runtime import Runtime, open_scope

pytestmark = pytest.mark.postgres
WAIT = 10.0


@pytest.fixture(scope="module")
def migrated(postgres_url: str) -> str:
    """The session's PostgreSQL database, at the newest schema."""
    migrate.upgrade(postgres_url)
    return postgres_url


@pytest.fixture
async def pg_runtime(migrated: str, keyring_path: Path) -> AsyncIterator[Runtime]:
    """A runtime of its own on that database."""
    built = build_runtime(Settings(database_url=migrated, keyring=keyring_path))
    yield built
    await built.database.dispose()


async def new_request(runtime: Runtime) -> tuple[UUID, RequestEventRow]:
    """A draft between two new agencies; returns the request id and its CREATE event."""
    codes = [f"N-{secrets.token_hex(4).upper()}" for _ in range(2)]
    async with open_scope(runtime) as scope:
        views = [
            await agencies.register_agency(
                scope,
                code=code,
                name=f"Agency {code}",
                jurisdiction="MY",
                kind=AgencyKind.LAW_ENFORCEMENT,
                as_operator=True,
            )
            for code in codes
        ]
        _id, token = await auth.issue_token(
            scope, agency_code=codes[0], roles=[Role.LIAISON_OFFICER]
        )
    async with open_scope(runtime) as scope:
        scope.principal = await auth.authenticate(runtime, scope, f"Bearer {token}")
        row = await lifecycle.create_request(
            scope,
            requested_agency_id=views[1].id,
            kind=RequestKind.INFORMATION_REQUEST,
            priority=Priority.ROUTINE,
            title="Who runs the channel?",
            body="Subscriber details, please.",
        )
        (event,) = await scope.store.events_by_request([row.id])
    return row.id, event


def copy_of(event: RequestEventRow, number: int) -> RequestEventRow:
    # The store reads events as column rows (a mapping of the columns), not ORM instances.
    fields = {
        key: value
        for key, value in event._mapping.items()  # type: ignore[attr-defined]
        if key not in {"seq", "id", "number"}
    }
    return RequestEventRow(**fields, id=uuid4(), number=number)


class Seen:
    """The sequence numbers a listener announced."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self._changed = asyncio.Event()

    def __call__(self, seq: int) -> None:
        self.values.append(seq)
        self._changed.set()

    async def until(self, condition: Callable[[list[int]], bool]) -> None:
        """Wait (bounded) until the announcements satisfy the condition."""
        async with asyncio.timeout(WAIT):
            while not condition(self.values):
                self._changed.clear()
                await self._changed.wait()


async def test_writers_never_wait_each_carries_its_stamp_and_notify_is_on_commit(
    pg_runtime: Runtime,
) -> None:
    runtime = pg_runtime
    _request_id, event = await new_request(runtime)
    seen = Seen()
    listener = runtime.database.event_listener(seen)
    task = asyncio.create_task(listener.run())
    first, second = runtime.database.session(), runtime.database.session()
    committed: list[int] = []
    try:
        await asyncio.wait_for(listener.connected.wait(), WAIT)
        seen.values.clear()
        early = copy_of(event, 90)
        first.add(early)
        await first.flush()
        late = copy_of(event, 91)
        second.add(late)
        # No lock among writers: the second insert does not wait for the first transaction.
        await asyncio.wait_for(second.flush(), WAIT)
        assert early.seq is not None
        assert late.seq is not None
        assert late.seq > early.seq
        # Each row carries its transaction's id, the first part of its feed position.
        xids = [
            (await session.execute(text("SELECT pg_current_xact_id()::text::bigint"))).scalar()
            for session in (first, second)
        ]
        assert [early.position_xid, late.position_xid] == xids
        assert seen.values == []  # nothing is announced before the commit
        await second.commit()
        committed.append(late.seq)
        await seen.until(lambda values: values == [late.seq])
        await first.rollback()  # a rolled-back event is never announced
        await asyncio.sleep(0.3)
        assert seen.values == [late.seq]
    finally:
        await second.close()
        await first.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        if committed:
            async with runtime.database.session() as cleanup:
                await cleanup.execute(
                    delete(RequestEventRow).where(col(RequestEventRow.seq).in_(committed))
                )
                await cleanup.commit()


async def test_a_transaction_of_many_rows_sends_one_notification(pg_runtime: Runtime) -> None:
    """The listener hears one announcement for a transaction that wrote several events (it
    re-reads the feed from its position), and one for each later transaction."""
    runtime = pg_runtime
    _request_id, event = await new_request(runtime)
    seen = Seen()
    listener = runtime.database.event_listener(seen)
    task = asyncio.create_task(listener.run())
    committed: list[int] = []
    statements: list[str] = []

    def sent(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = runtime.database.engine.sync_engine
    try:
        await asyncio.wait_for(listener.connected.wait(), WAIT)
        seen.values.clear()
        sa_event.listen(engine, "before_cursor_execute", sent)
        for first_number in (100, 110):
            async with runtime.database.session() as session:
                rows = [copy_of(event, first_number + n) for n in range(5)]
                session.add_all(rows)
                await session.flush()
                await session.commit()
            committed += [row.seq for row in rows if row.seq is not None]
        sa_event.remove(engine, "before_cursor_execute", sent)
        assert len(committed) == 10
        assert sum("pg_notify" in statement for statement in statements) == 2
        await seen.until(lambda values: len(values) == 2)
        await asyncio.sleep(0.3)
        assert len(seen.values) == 2
        assert set(seen.values) <= set(committed)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        if committed:
            async with runtime.database.session() as cleanup:
                await cleanup.execute(
                    delete(RequestEventRow).where(col(RequestEventRow.seq).in_(committed))
                )
                await cleanup.commit()


async def test_the_listener_reconnects_and_catches_up(
    pg_runtime: Runtime, postgres_url: str
) -> None:
    runtime = pg_runtime
    seen = Seen()
    listener = runtime.database.event_listener(seen)
    task = asyncio.create_task(listener.run())
    admin_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        await asyncio.wait_for(listener.connected.wait(), WAIT)
        seen.values.clear()
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as admin:
            killed = await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (LISTENER_NAME,),
            )
            assert await killed.fetchall() == [(True,)]
            # Back again, it announces the newest seq: what it may have missed.
            await seen.until(lambda values: len(values) == 1)
            latest = await admin.execute("SELECT max(seq) FROM request_event")
            assert seen.values == [(await latest.fetchone() or [0])[0]]
        _request_id, event = await new_request(runtime)
        await seen.until(lambda values: event.seq in values)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
