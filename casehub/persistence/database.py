"""The async engine and session factory, configured alike for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from casehub.persistence.notify import REQUEST_EVENTS, EventListener, Feed, install_event_hooks


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """Owns the engine; hands out one session per request or command."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        kwargs: dict[str, Any] = {}
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if make_url(url).get_backend_name() == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
            # Request events commit in sequence order and announce themselves (LISTEN/NOTIFY).
            install_event_hooks()
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        """sqlite or postgresql."""
        return self.engine.dialect.name

    @property
    def notifies(self) -> bool:
        """Whether committed request events are announced to other processes (PostgreSQL)."""
        return self.dialect == "postgresql"

    def event_listener(
        self, on_seq: Callable[[int], None], feed: Feed = REQUEST_EVENTS
    ) -> EventListener:
        """A listener that calls `on_seq` for every row of the feed committed by any process."""
        return EventListener(self, on_seq, feed=feed)

    def pool_use(self) -> tuple[int, int] | None:
        """(connections checked out now, the pool's size), or None for an engine that pools
        none (an in-memory SQLite database)."""
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return None
        return pool.checkedout(), pool.size()

    def session(self) -> AsyncSession:
        """A new session; the caller closes it."""
        return self.sessions()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
