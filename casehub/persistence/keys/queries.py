"""Queries of the key lifecycle: wraps counted by key version, read and rewritten in batches."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select, update
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import DataKeyWrapRow


class KeyQueries(StoreBase):
    """Operations on data-key wraps across all agencies (for operators' key commands)."""

    async def wrap_counts_by_version(self) -> dict[int, int]:
        """How many wraps each key-encryption-key version holds."""
        statement = select(col(DataKeyWrapRow.kek_version), func.count()).group_by(
            col(DataKeyWrapRow.kek_version)
        )
        async with self._lock:
            rows = (await self.session.execute(statement)).all()
        return {int(version): int(count) for version, count in rows}

    async def count_wraps_not_under(self, version: int) -> int:
        """Wraps made under any other version than this one."""
        statement = (
            select(func.count())
            .select_from(DataKeyWrapRow)
            .where(col(DataKeyWrapRow.kek_version) != version)
        )
        return await self._one(statement)

    async def wraps_not_under(
        self, version: int, *, limit: int, after: UUID | None
    ) -> list[DataKeyWrapRow]:
        """Up to `limit` wraps under another version, by id, after a cursor."""
        statement = (
            select(DataKeyWrapRow)
            .where(col(DataKeyWrapRow.kek_version) != version)
            .order_by(col(DataKeyWrapRow.id))
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(col(DataKeyWrapRow.id) > after)
        return await self._all(statement)

    async def replace_wrap(
        self, wrap_id: UUID, *, old_version: int, old_blob: bytes, version: int, blob: bytes
    ) -> bool:
        """Swap one wrap for its rewrap, only if nobody changed or removed it meanwhile."""
        statement = (
            update(DataKeyWrapRow)
            .where(
                col(DataKeyWrapRow.id) == wrap_id,
                col(DataKeyWrapRow.kek_version) == old_version,
                col(DataKeyWrapRow.wrapped) == old_blob,
            )
            .values(kek_version=version, wrapped=blob)
        )
        result = await self._execute(statement)
        return bool(getattr(result, "rowcount", 0))
