"""Bearer authentication in one query: token, principal and agency joined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.tables import AGENCY, PRINCIPAL, TOKEN
from casehub.crypto import hash_token
from casehub.domain.enums import Role

_BEARER = "bearer "


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated principal and what the floor needs of its agency."""

    principal_id: UUID
    agency_id: UUID
    jurisdiction: str
    roles: frozenset[Role]


async def authenticate(
    connection: AsyncConnection, authorization: str | None, now: datetime
) -> Caller | None:
    """The caller behind an `Authorization: Bearer` header, or None."""
    if not authorization or not authorization.lower().startswith(_BEARER):
        return None
    statement = (
        select(
            PRINCIPAL.c.id,
            PRINCIPAL.c.agency_id,
            AGENCY.c.jurisdiction,
            TOKEN.c.roles,
            TOKEN.c.expires_at,
            TOKEN.c.revoked_at,
        )
        .select_from(TOKEN.join(PRINCIPAL).join(AGENCY))
        .where(TOKEN.c.token_hash == hash_token(authorization[len(_BEARER) :].strip()))
    )
    row = (await connection.execute(statement)).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return Caller(
        principal_id=row.id,
        agency_id=row.agency_id,
        jurisdiction=row.jurisdiction,
        roles=frozenset(Role(name) for name in row.roles.split(",")),
    )
