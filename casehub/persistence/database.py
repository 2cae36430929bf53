"""The async engine and session factory, configured alike for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from casehub.domain.errors import ValidationFailed
from casehub.persistence.notify import REQUEST_EVENTS, EventListener, Feed, install_event_hooks


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


_SIDE_FILES = ("-wal", "-shm", "-journal")


def secure_sqlite_file(path: Path) -> None:
    """Make the database file private to this user; FileNotFoundError when its directory
    does not exist (a mistyped path must not silently become a new, empty database).

    SQLite creates a new file 0644 and its -wal and -shm files with the database file's mode:
    any local user could read case titles and references. Creating the file 0600 before
    SQLite opens it (an empty file is a new database to SQLite) keeps all three private;
    files of an older install that are readable by group or others are tightened."""
    if not path.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            "The directory of the SQLite database does not exist: create it, or correct "
            "CASEHUB_DATABASE_URL",
            str(path.parent),
        )
    with_sides = [path, *(path.with_name(path.name + suffix) for suffix in _SIDE_FILES)]
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for each in with_sides:
        try:
            mode = stat.S_IMODE(each.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            each.chmod(mode & 0o700)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


NUL_MESSAGE = "Text must not contain the NUL character (U+0000)."


def _refuse_nul(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    """Refuse any text parameter holding NUL before it reaches the database, on both engines.

    PostgreSQL text cannot hold NUL (the statement failed: INTERNAL), SQLite stored it. The
    domain's text rules refuse it in the fields they check, with the field's path; this
    closes the class for every other way text reaches a statement (filters, look-ups by
    code, anything added later). Nothing has run yet, so the transaction is intact and the
    refusal is an ordinary VALIDATION error (a payload error in a mutation)."""
    rows = parameters if executemany else (parameters,)
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row or ()
        for value in values:
            if isinstance(value, str) and "\x00" in value:
                raise ValidationFailed(NUL_MESSAGE)


def unreachable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached (refused or lost connection,
    a pool with no connection to give), rather than a fault of the statement."""
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return isinstance(error, sa_exc.TimeoutError | ConnectionError)


# sqlalchemy's own default wait for a pooled connection; the app passes its setting
# (CASEHUB_DB_POOL_TIMEOUT_SECONDS), below the operation time budget.
POOL_TIMEOUT_SECONDS = 30.0


class Database:
    """Owns the engine; hands out one session per request or command."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int | None = None,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
    ) -> None:
        """PostgreSQL pools `pool_size` connections, `max_overflow` more at a peak (as many
        again by default); a checkout waits at most `pool_timeout` seconds for one, then
        fails with sqlalchemy's TimeoutError (`unreachable`: the caller answers 503)."""
        kwargs: dict[str, Any] = {}
        path = sqlite_path(url)
        if path is not None:
            secure_sqlite_file(path)
        if make_url(url).get_backend_name() == "postgresql":
            overflow = pool_size if max_overflow is None else max_overflow
            kwargs.update(
                pool_size=pool_size,
                max_overflow=overflow,
                pool_timeout=pool_timeout,
                pool_pre_ping=True,
            )
            # Feed rows are stamped with their transaction and announce themselves (NOTIFY).
            install_event_hooks()
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _refuse_nul)
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
