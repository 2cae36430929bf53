"""PostgreSQL LISTEN/NOTIFY for request events, so that every server process can wake its
live subscribers.

Writers: every insert of a request event, in any process (server, CLI, demo), takes a
transaction-level advisory lock and sends `pg_notify(CHANNEL, seq)` inside the committing
transaction. The lock makes sequence numbers commit in order (an event with seq N is never
committed after one with seq > N), so "events up to seq N are committed" holds and a reader that
resumes after N misses nothing; the notification is delivered only if, and when, the
transaction commits.

Readers: `EventListener` keeps one autocommit connection per process on `LISTEN CHANNEL` and
hands every sequence number to a callback; it reconnects with backoff when the connection drops,
and announces the newest sequence number after each (re)connect, since notifications sent while
it was away are lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from casehub.persistence.tables import RequestEventRow

if TYPE_CHECKING:
    from casehub.persistence.database import Database

log = logging.getLogger("casehub.notify")

CHANNEL = "casehub_request_events"
LISTENER_NAME = "casehub-event-listener"  # application_name of the LISTEN connections
# The audit chain's lock (Store.last_audit_hash): every transaction that records a request
# event extends the audit chain at its end anyway, so taking the same lock a little earlier adds
# no lock-ordering (deadlock) risk and only a few statements of extra serialisation.
EVENT_ORDER_LOCK = 7426584219
_LATEST = f"SELECT coalesce(max(seq), 0) FROM {RequestEventRow.__tablename__}"  # noqa: S608


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _serialise(_mapper: Mapper[Any], connection: Connection, _target: RequestEventRow) -> None:
    if _postgres(connection):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_ORDER_LOCK})


def _notify(_mapper: Mapper[Any], connection: Connection, target: RequestEventRow) -> None:
    if _postgres(connection) and target.seq is not None:
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": str(target.seq)},
        )


def install_event_hooks() -> None:
    """Serialise and announce request-event inserts on PostgreSQL (idempotent; no-op on SQLite)."""
    if not event.contains(RequestEventRow, "before_insert", _serialise):
        event.listen(RequestEventRow, "before_insert", _serialise)
    if not event.contains(RequestEventRow, "after_insert", _notify):
        event.listen(RequestEventRow, "after_insert", _notify)


class EventListener:
    """One LISTEN connection per process; calls `on_seq` for every committed request event."""

    def __init__(
        self,
        database: Database,
        on_seq: Callable[[int], None],
        *,
        min_backoff: float = 0.2,
        max_backoff: float = 10.0,
        health_check: float = 30.0,
    ) -> None:
        engine = database.engine
        _args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._connect_kwargs: dict[str, Any] = dict(kwargs)
        self._connect_kwargs.pop("context", None)  # SQLAlchemy's adapters; not needed here
        self._connect_kwargs.setdefault("application_name", LISTENER_NAME)
        self._connect_kwargs.setdefault("connect_timeout", 10)
        self._on_seq = on_seq
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._health_check = health_check
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with exponential backoff."""
        delay = self._min_backoff
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                log.warning("request-event listener lost its connection: %s", error)
            except Exception:
                log.exception("request-event listener failed")
            if self.connected.is_set():
                self.connected.clear()
                delay = self._min_backoff
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(**self._connect_kwargs, autocommit=True)
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            # Anything committed while not listening: wake subscribers so they re-read.
            cursor = await connection.execute(_LATEST)
            row = await cursor.fetchone()
            self._on_seq(int(row[0]) if row else 0)
            self.connected.set()
            log.info("listening for request events on %s", CHANNEL)
            while True:
                async for notification in connection.notifies(timeout=self._health_check):
                    try:
                        self._on_seq(int(notification.payload))
                    except ValueError:
                        log.warning("ignored a malformed notification on %s", CHANNEL)
                # Quiet for a while: make sure the connection is still alive.
                await connection.execute("SELECT 1")
