"""The session wrapper every query module builds on: one statement at a time per session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from uuid import UUID

from cachetools import LRUCache
from sqlalchemy import Executable, Select, any_, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel

from casehub.persistence.horizon import horizon

Row = TypeVar("Row", bound=SQLModel)
# A row's place in a live feed: (position_xid, seq), compared as a pair.
Position = tuple[int, int]
T = TypeVar("T")


class DuplicateError(Exception):
    """A unique constraint refused the write."""


Params = Mapping[str, Any] | None
S = TypeVar("S", bound=Executable)


def bound(name: str, *, expanding: bool = False) -> Any:
    """A named bind parameter, where a template takes a value (typed Any: it stands in for the
    value in the builders that also take values)."""
    return bindparam(name, expanding=expanding)


def among(column: Any, name: str, dialect: str) -> Any:
    """`column IN` the list bound to `name`. On PostgreSQL one array parameter (`= ANY`): one
    statement text for any length, converted and prepared once, where an IN list has a
    parameter per value (a page's worth of ids cost a third of the statement's CPU)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


class Templates:
    """Statements of a hot read, built once per shape with bind parameters and reused.

    Building a statement of subqueries and aliases, and computing its cache key, cost more CPU
    than PostgreSQL spends running it; a statement object reused keeps its cache key, and its
    compiled form stays in the engine's cache. Bounded: at most `size` shapes, least recently
    used dropped."""

    def __init__(self, size: int = 256) -> None:
        self._built: LRUCache[Hashable, Any] = LRUCache(size)

    def get(self, shape: Hashable, build: Callable[[], S]) -> S:
        """The statement of this shape, built by `build` the first time."""
        statement = self._built.get(shape)
        if statement is None:
            statement = self._built[shape] = build()
        return statement


_PARENTS = Templates()
_BY_IDS = Templates()


def _ids_template(model: type[SQLModel], dialect: str) -> Any:
    column: Any = model.id  # type: ignore[attr-defined]  # every table has an id
    statement = select(model).where(among(column, "ids", dialect))
    # Refresh rows already in the session: a row read before a lock may have changed.
    return statement.execution_options(populate_existing=True)


def _parent_template(
    dialect: str, model: type[SQLModel], key: str, limited: bool, entities: bool
) -> Any:
    """The rows of a batch of parents (`_of_parents` binds them), in id order; at most the
    first few of each parent when `limited` (a row number over each parent's rows)."""
    table: Any = model.__table__  # type: ignore[attr-defined]  # every model is a table
    parent = table.c[key]
    wanted = among(parent, "parents", dialect)
    if not limited:
        selected: Any = model if entities else table
        return select(selected).where(wanted).order_by(table.c.id)
    number = func.row_number().over(partition_by=parent, order_by=table.c.id).label("n")
    ranked = select(table, number).where(wanted).subquery()
    rows: Any = aliased(model, ranked) if entities else [ranked.c[each.key] for each in table.c]
    chosen = select(rows) if entities else select(*rows)
    return chosen.where(ranked.c.n <= bindparam("per_parent")).order_by(ranked.c.id)


class StoreBase:
    """A session and its lock; services own the transactions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # GraphQL runs sibling resolvers concurrently; one session must serve them one at a time.
        self._lock = asyncio.Lock()

    async def _execute(self, statement: Executable, params: Params = None) -> Result[Any]:
        async with self._lock:
            return await self.session.execute(statement, params)

    async def _all(self, statement: Select[T], params: Params = None) -> list[T]:
        async with self._lock:
            return list((await self.session.execute(statement, params)).scalars())

    async def _one_or_none(self, statement: Select[T]) -> T | None:
        async with self._lock:
            return (await self.session.execute(statement)).scalar_one_or_none()

    async def _one(self, statement: Select[T]) -> T:
        async with self._lock:
            return (await self.session.execute(statement)).scalar_one()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Commit on success, roll back on any error; unique violations become DuplicateError."""
        try:
            yield
            await self.session.commit()
        except IntegrityError as exc:
            await self.session.rollback()
            raise DuplicateError from exc
        except BaseException:
            await self.session.rollback()
            raise

    async def end_read(self) -> None:
        """Close a read-only transaction so the next request sees fresh data."""
        async with self._lock:
            await self.session.rollback()

    def add(self, *rows: SQLModel) -> None:
        """Stage new rows for the current transaction."""
        self.session.add_all(rows)

    async def flush(self) -> None:
        """Send staged rows now (inside the transaction)."""
        try:
            async with self._lock:
                await self.session.flush()
        except IntegrityError as exc:
            raise DuplicateError from exc

    async def _by_ids(self, model: type[Row], ids: Iterable[UUID]) -> list[Row]:
        wanted = list(set(ids))
        if not wanted:
            return []
        dialect = self.dialect
        statement = _BY_IDS.get((model, dialect), lambda: _ids_template(model, dialect))
        return await self._all(statement, {"ids": wanted})

    async def _by_parent(
        self,
        model: type[Row],
        column: Any,
        parent_ids: Iterable[UUID],
        per_parent: int | None = None,
    ) -> list[Row]:
        """Rows of these parents in id order; at most the first `per_parent` of each parent
        when given (one statement: a row number over each parent's rows)."""
        return await self._of_parents(model, column, parent_ids, per_parent, entities=True)

    async def _columns_by_parent(
        self,
        model: type[Row],
        column: Any,
        parent_ids: Iterable[UUID],
        per_parent: int | None = None,
    ) -> list[Row]:
        """`_by_parent` for hot reads that only render what they read: each row is the
        model's columns by name (a sqlalchemy Row, typed as the model it mirrors), without an
        ORM instance to build (a cases page reads several hundred). Never change one."""
        return await self._of_parents(model, column, parent_ids, per_parent, entities=False)

    async def _of_parents(
        self,
        model: type[Row],
        column: Any,
        parent_ids: Iterable[UUID],
        per_parent: int | None,
        *,
        entities: bool,
    ) -> list[Row]:
        wanted = list(set(parent_ids))
        if not wanted:
            return []
        shape = (self.dialect, model, column.key, per_parent is not None, entities)
        statement = _PARENTS.get(shape, lambda: _parent_template(*shape))
        params = {"parents": wanted, "per_parent": per_parent}
        if entities:
            return await self._all(statement, params)
        return await self._column_rows(statement, params)

    async def _column_rows(self, statement: Executable, params: Params = None) -> list[Any]:
        """The rows of a statement selecting a table's columns, each the columns by name (a
        sqlalchemy Row standing for the model it mirrors: read, never changed)."""
        async with self._lock:
            return list((await self.session.execute(statement, params)).all())

    async def _lock_row(self, model: type[Any], row_id: UUID, column: Any, *where: Any) -> None:
        """Lock one row by id for the rest of the transaction.

        PostgreSQL locks the row; SQLite takes its single write lock with a no-op update of
        `column`, which also starts the transaction before anything is read.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            statement = select(model.id).where(model.id == row_id, *where)
            await self._execute(statement.with_for_update(of=model))
        else:
            await self._execute(
                update(model)
                .where(model.id == row_id, *where)
                .values({column.key: column})
                .execution_options(synchronize_session=False)
            )

    async def count_rows(self, model: type[SQLModel]) -> int:
        """Rows in one table (for checks and tests)."""
        return await self._one(select(func.count()).select_from(model))

    async def feed_horizon(self, model: type[Any]) -> Position:
        """The position every row of a feed table (with `position_xid` and `seq`) below which is
        committed and visible now, and no row can still commit (casehub.persistence.horizon):
        read up to it in (position_xid, seq) order, a feed misses and repeats nothing."""
        if self.dialect == "postgresql":
            return (int(await self._one(select(horizon(self.dialect)))), 0)
        # One writer at a time, committing in seq order: everything up to the newest seq.
        newest = await self._one(select(func.coalesce(func.max(model.seq), 0)))
        return (0, int(newest) + 1)

    async def feed_beyond(self, model: type[Any], horizon_: Position, limit: int) -> set[Position]:
        """Positions of committed rows of the feed at or past the horizon (waiting for an older
        writing transaction to end), at most `limit` of them."""
        position = tuple_(model.position_xid, model.seq)
        statement = (
            select(model.position_xid, model.seq)
            .where(position >= tuple_(*horizon_))
            .order_by(model.position_xid, model.seq)
            .limit(limit)
        )
        rows: list[Any] = list((await self._execute(statement)).all())
        return {(int(xid), int(seq)) for xid, seq in rows}

    async def feed_position(self, model: type[Any], seq: int) -> Position:
        """The feed position of the row numbered `seq`, or of the newest row before it (a
        resumed subscriber gives the last `seq` it received)."""
        statement = (
            select(model.position_xid).where(model.seq <= seq).order_by(model.seq.desc()).limit(1)
        )
        xid = await self._one_or_none(statement)
        return (int(xid or 0), seq)

    @property
    def dialect(self) -> str:
        """sqlite or postgresql."""
        return self.session.get_bind().dialect.name
