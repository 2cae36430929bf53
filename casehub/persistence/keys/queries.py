"""Queries on data-key wraps: one agency's wraps of a scope's key, and the key lifecycle's
wraps counted by key version, read and rewritten in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlmodel import col

from casehub.persistence.base import StoreBase, Templates, among
from casehub.persistence.tables import DataKeyWrapRow

# A hot read (every decrypting page), built once (persistence.base.Templates says why).
_AGENCY_WRAPS = Templates()


def _agency_wraps_template(dialect: str) -> Select[DataKeyWrapRow]:
    return select(DataKeyWrapRow).where(
        among(col(DataKeyWrapRow.scope_id), "scopes", dialect),
        col(DataKeyWrapRow.agency_id) == bindparam("agency"),
    )


class KeyQueries(StoreBase):
    """Operations on data-key wraps: per agency (for services) and across all agencies (for
    operators' key commands)."""

    async def wraps_for_agency(
        self, scope_ids: Iterable[UUID], agency_id: UUID
    ) -> list[DataKeyWrapRow]:
        """One agency's wraps of these scopes' data keys."""
        wanted = list(set(scope_ids))
        if not wanted:
            return []
        dialect = self.dialect
        statement = _AGENCY_WRAPS.get(dialect, lambda: _agency_wraps_template(dialect))
        return await self._all(statement, {"scopes": wanted, "agency": agency_id})

    async def delete_wrap(self, scope_id: UUID, agency_id: UUID) -> None:
        """Remove one agency's wrap of a data key."""
        wraps = await self.wraps_for_agency([scope_id], agency_id)
        for wrap in wraps:
            await self.session.delete(wrap)

    async def delete_all_wraps(self, scope_id: UUID) -> int:
        """Remove every agency's wrap of a scope's data key (crypto-shredding); how many."""
        statement = (
            delete(DataKeyWrapRow)
            .where(col(DataKeyWrapRow.scope_id) == scope_id)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self._execute(statement)
        return int(result.rowcount)

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
