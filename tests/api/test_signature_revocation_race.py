"""A revocation in flight while a signed step is taken, on both engines.

The step reads its key without a lock and verifies it; the signature row is written only if the
key's revocation is still what that read saw (on PostgreSQL the write waits for the
revocation's row lock and then sees its outcome; on SQLite the step's writes wait for the
revocation's write lock). Here a revoking transaction (as `revokeAgencySigningKey` runs it:
the key's row locked, then its revocation written) holds its lock while the step is taken, and
commits only once the step is waiting for it: the step must be refused as KEY_REVOKED, with
nothing of it written. Without the check, it would be accepted under a key revoked before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from casehub.config import Settings
from casehub.persistence.tables import AgencySigningKeyRow, RequestSignatureRow
from tests.request_support import three_agencies
from tests.signing_support import SignedHub, signed_hub, uuid_of

KEYS = AgencySigningKeyRow.__table__  # type: ignore[attr-defined]
# Long enough for the step to reach the point where it waits, on a loaded machine.
WAIT_SECONDS = 15.0


@pytest.fixture(scope="module")
async def hub(settings: Settings) -> AsyncIterator[SignedHub]:
    async with signed_hub(settings) as built:
        yield built


async def _lock_and_revoke(conn: AsyncConnection, key_id: Any, hub: SignedHub) -> None:
    """Open a transaction that locks the key's row and revokes it (uncommitted)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(KEYS.c.id).where(KEYS.c.id == key_id).with_for_update())
    else:
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    await conn.execute(
        update(KEYS).where(KEYS.c.id == key_id).values(revoked_at=hub.now() - timedelta(minutes=1))
    )


async def _step_is_waiting(conn: AsyncConnection, step: asyncio.Task[Any]) -> None:
    """Return once the step waits on the revocation's lock (PostgreSQL: a backend waiting on a
    row lock; SQLite: the step has not finished in a second, which only the lock explains)."""
    if conn.dialect.name != "postgresql":
        await asyncio.sleep(1.0)
        assert not step.done(), "the step did not wait for the revocation's write lock"
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while loop.time() < deadline:
        assert not step.done(), "the step finished while the key was locked"
        waiting = (await conn.execute(query)).scalar_one()
        await conn.commit()  # pg_stat_activity is read once a transaction
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the step never waited for the revocation's row lock")


async def test_a_step_signed_while_its_key_is_being_revoked_is_refused(hub: SignedHub) -> None:
    police, _platform, prosecutor = await three_agencies(hub.world)
    key, key_node = await hub.key(police)
    request_id = await hub.req.draft(police.token, prosecutor.id)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    before = await hub.req.snapshot(police.token, request_id)
    engine = hub.runtime.database.engine
    async with engine.connect() as revoking, engine.connect() as watching:
        await _lock_and_revoke(revoking, uuid_of(key_node), hub)
        step = asyncio.create_task(
            hub.req.step(police.token, "submit", request_id, signature=signature)
        )
        try:
            await _step_is_waiting(watching, step)
        finally:
            await revoking.commit()
        payload = await asyncio.wait_for(step, WAIT_SECONDS)
    assert payload["request"] is None, payload
    assert [(error["code"], error["field"]) for error in payload["errors"]] == [
        ("KEY_REVOKED", ["signature", "keyThumbprint"])
    ]
    assert await hub.req.snapshot(police.token, request_id) == before
    async with hub.runtime.database.sessions() as session:
        kept = await session.execute(
            select(RequestSignatureRow.id).where(  # type: ignore[call-overload]
                RequestSignatureRow.request_id == uuid_of(request_id)
            )
        )
        assert kept.all() == []
