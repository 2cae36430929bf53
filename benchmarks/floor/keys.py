"""Data keys for the floor: one query for an agency's wraps, unwrapped with casehub's crypto."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.tables import WRAP
from casehub.crypto import DataKey, KeyProvider, unwrap_data_key


async def data_keys(
    connection: AsyncConnection, keys: KeyProvider, agency_id: UUID, scope_ids: Sequence[UUID]
) -> dict[UUID, DataKey]:
    """The agency's unwrapped data keys of these scopes (absent where it holds no wrap)."""
    if not scope_ids:
        return {}
    statement = select(WRAP).where(WRAP.c.scope_id.in_(scope_ids), WRAP.c.agency_id == agency_id)
    return {
        wrap.scope_id: unwrap_data_key(
            keys,
            scope_id=wrap.scope_id,
            generation=wrap.generation,
            agency_id=wrap.agency_id,
            version=wrap.kek_version,
            blob=wrap.wrapped,
        )
        for wrap in await connection.execute(statement)
    }
