"""PostgreSQL LISTEN/NOTIFY for the live feeds (request events, hit notices), so that every
server process can wake its live subscribers.

Writers: every insert of a feed row (request event or hit notice), in any process (server, CLI,
demo), stamps the row with its transaction's id (`position_xid`, never below what the service
set: a request's previous event) and sends `pg_notify(<its feed's channel>, seq)` inside the
committing transaction; the notification is delivered only if, and when, the transaction
commits. No lock: readers deliver rows in (position_xid, seq) order up to the commit-safe
horizon (casehub.persistence.horizon), so a row committed late is never skipped.

Readers: `EventListener` keeps one autocommit connection per process and feed on
`LISTEN <channel>` and hands every sequence number to a callback; it reconnects with backoff
when the connection drops, and announces the newest sequence number after each (re)connect,
since notifications sent while it was away are lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from casehub.persistence.tables import HitNoticeRow, RequestEventRow

if TYPE_CHECKING:
    from casehub.persistence.database import Database

log = logging.getLogger("casehub.notify")


@dataclass(frozen=True)
class Feed:
    """A table whose rows are announced, by sequence number, on a channel of their own."""

    channel: str
    table: str

    @property
    def latest_sql(self) -> str:
        """The statement reading the newest sequence number of the feed."""
        return f"SELECT coalesce(max(seq), 0) FROM {self.table}"  # noqa: S608


REQUEST_EVENTS = Feed("casehub_request_events", RequestEventRow.__tablename__)
HIT_NOTICES = Feed("casehub_hit_notices", HitNoticeRow.__tablename__)
_FEED_OF: dict[type[Any], Feed] = {RequestEventRow: REQUEST_EVENTS, HitNoticeRow: HIT_NOTICES}
LISTENER_NAME = "casehub-event-listener"  # application_name of the LISTEN connections
_STAMPED_IN = "casehub_feed_stamp"  # connection.info: (transaction, its id)
# connection.info: (transaction, the channels it has notified)
_ANNOUNCED_IN = "casehub_feed_announced"


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _stamp(_mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    if not _postgres(connection):
        return
    transaction = connection.get_transaction()
    stamped = connection.info.get(_STAMPED_IN)
    # One transaction id per transaction: ask once, not per row.
    if stamped is None or stamped[0] is not transaction:
        xid = connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
        connection.info[_STAMPED_IN] = stamped = (transaction, int(xid))
    target.position_xid = max(target.position_xid or 0, stamped[1])


def _notify(_mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    if not _postgres(connection) or target.seq is None:
        return
    channel = _FEED_OF[type(target)].channel
    transaction = connection.get_transaction()
    announced: tuple[Any, set[str]] | None = connection.info.get(_ANNOUNCED_IN)
    if announced is None or announced[0] is not transaction:
        announced = connection.info[_ANNOUNCED_IN] = (transaction, set())
    # Delivered at commit, a notification wakes listeners, who re-read the feed from their
    # position (the payload is only a hint): one a transaction and feed, not one a row (a
    # hit check notifying ten holders sent ten).
    if channel in announced[1]:
        return
    announced[1].add(channel)
    connection.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": channel, "payload": str(target.seq)},
    )


def install_event_hooks() -> None:
    """Stamp and announce feed-row inserts on PostgreSQL (idempotent; no-op on SQLite)."""
    for model in _FEED_OF:
        if not event.contains(model, "before_insert", _stamp):
            event.listen(model, "before_insert", _stamp)
        if not event.contains(model, "after_insert", _notify):
            event.listen(model, "after_insert", _notify)


class EventListener:
    """One LISTEN connection per process and feed; calls `on_seq` for every committed row."""

    def __init__(
        self,
        database: Database,
        on_seq: Callable[[int], None],
        *,
        feed: Feed = REQUEST_EVENTS,
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
        self._feed = feed
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
                log.warning("%s listener lost its connection: %s", self._feed.channel, error)
            except Exception:
                log.exception("%s listener failed", self._feed.channel)
            if self.connected.is_set():
                self.connected.clear()
                delay = self._min_backoff
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(**self._connect_kwargs, autocommit=True)
        async with connection:
            await connection.execute(f"LISTEN {self._feed.channel}")
            # Anything committed while not listening: wake subscribers so they re-read.
            cursor = await connection.execute(self._feed.latest_sql)
            row = await cursor.fetchone()
            self._on_seq(int(row[0]) if row else 0)
            self.connected.set()
            log.info("listening on %s", self._feed.channel)
            while True:
                async for notification in connection.notifies(timeout=self._health_check):
                    try:
                        self._on_seq(int(notification.payload))
                    except ValueError:
                        log.warning("ignored a malformed notification on %s", self._feed.channel)
                # Quiet for a while: make sure the connection is still alive.
                await connection.execute("SELECT 1")
