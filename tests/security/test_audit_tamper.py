"""Rows of the audit chain edited, deleted, inserted, reordered and cut off straight in the
database (SQLite and PostgreSQL): verification names the first bad event, and an anchor kept
outside the database catches what a chain alone cannot (a cut-off end, a rewritten chain)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from casehub.domain.audit.chain import Anchor, Verdict, link_hash
from casehub.domain.enums import Role
from casehub.domain.ids import new_id
from casehub.persistence.tables import AuditEventRow
from casehub.services.agencies import auth
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime, open_scope
from tests.audit_support import Databases, run_sql, runtime_for
from tests.postgres import require_postgres
from tests.support import register

EVENTS = 8  # seeded: two agencies, two tokens, four failed log-ins; sequence numbers 1 to 8


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    if request.param == "postgres":
        require_postgres("the audit tamper suite")
    made = Databases(request.param, tmp_path_factory.mktemp("audit"))
    yield made
    made.close()


@pytest.fixture(scope="module")
async def seeded(databases: Databases, keyring_path: Path) -> str:
    """A database whose audit chain holds EVENTS events, written through the services."""
    url = await asyncio.to_thread(databases.new)
    runtime = runtime_for(url, keyring_path)
    try:
        async with open_scope(runtime) as scope:
            for code in ("MY-PDRM", "FR-PARQUET-J3"):
                await register(scope, code)
                await auth.issue_token(scope, agency_code=code, roles=[Role.READER])
        for number in range(4):
            await audit.record_auth_failure(runtime, "unknown", f"client-{number}")
    finally:
        await runtime.database.dispose()
    return url


@pytest.fixture
async def chain(databases: Databases, seeded: str, keyring_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a fresh copy of the seeded database, to tamper with."""
    runtime = runtime_for(await asyncio.to_thread(databases.copy, seeded), keyring_path)
    yield runtime
    await runtime.database.dispose()


async def _rows(runtime: Runtime) -> list[AuditEventRow]:
    async with open_scope(runtime) as scope:
        return list(await scope.store.audit_chain())


async def _verify(runtime: Runtime, anchor: Anchor | None = None, batch: int = 3) -> Verdict:
    # Small batches: a break found in a later batch must still be found.
    async with open_scope(runtime) as scope:
        return await audit.verify_chain(scope.store, anchor=anchor, batch=batch)


async def _anchor_at(runtime: Runtime, seq: int) -> Anchor:
    row = next(row for row in await _rows(runtime) if row.seq == seq)
    return Anchor(seq, row.hash)


async def _rehash_from(runtime: Runtime, seq: int) -> None:
    """What an intruder who knows the construction does: recompute every hash from `seq` on."""
    rows = await _rows(runtime)
    prev = next((row.hash for row in reversed(rows) if (row.seq or 0) < seq), "0" * 64)
    for row in rows:
        if (row.seq or 0) < seq:
            continue
        row.prev_hash, row.hash = prev, link_hash(audit.link_content(row), prev)
        prev = row.hash
        await run_sql(
            runtime,
            "UPDATE audit_event SET prev_hash = :prev, hash = :hash WHERE seq = :seq",
            prev=row.prev_hash,
            hash=row.hash,
            seq=row.seq,
        )


async def test_the_seeded_chain_is_intact_and_reports_its_head(chain: Runtime) -> None:
    rows = await _rows(chain)
    assert [row.seq for row in rows] == list(range(1, EVENTS + 1))
    verdict = await _verify(chain)
    assert verdict == Verdict(EVENTS, Anchor(EVENTS, rows[-1].hash))
    assert verdict.intact
    assert (await _verify(chain, batch=1000)) == verdict


@pytest.mark.parametrize(
    ("seq", "column", "value"),
    [
        (1, "action", "'case.open'"),
        (4, "outcome", "'FORBIDDEN'"),
        (5, "details", "'{}'"),
        (EVENTS, "object_type", "'Case'"),
    ],
)
async def test_an_edited_event_is_the_first_broken(
    chain: Runtime, seq: int, column: str, value: str
) -> None:
    await run_sql(chain, f"UPDATE audit_event SET {column} = {value} WHERE seq = {seq}")
    verdict = await _verify(chain)
    assert (verdict.broken, verdict.checked) == (seq, seq - 1)
    assert f"event {seq} does not follow" in (verdict.problem or "")


@pytest.mark.parametrize("column", ["hash", "prev_hash"])
async def test_an_edited_hash_is_the_first_broken(chain: Runtime, column: str) -> None:
    await run_sql(chain, f"UPDATE audit_event SET {column} = :bad WHERE seq = 5", bad="f" * 64)
    assert (await _verify(chain)).broken == 5


async def test_an_edit_with_its_hash_recomputed_breaks_the_next_event(chain: Runtime) -> None:
    await run_sql(chain, "UPDATE audit_event SET outcome = 'OK' WHERE seq = 6")
    rows = {row.seq: row for row in await _rows(chain)}
    forged = link_hash(audit.link_content(rows[6]), rows[6].prev_hash)
    await run_sql(chain, "UPDATE audit_event SET hash = :hash WHERE seq = 6", hash=forged)
    assert (await _verify(chain)).broken == 7


@pytest.mark.parametrize(("deleted", "broken"), [([1], 2), ([3], 4), ([4, 5], 6), ([2, 7], 3)])
async def test_a_deleted_event_breaks_the_next_one(
    chain: Runtime, deleted: list[int], broken: int
) -> None:
    for seq in deleted:
        await run_sql(chain, "DELETE FROM audit_event WHERE seq = :seq", seq=seq)
    verdict = await _verify(chain)
    assert verdict.broken == broken
    assert verdict.checked == broken - 1 - sum(1 for seq in deleted if seq < broken)


async def _insert_forged(runtime: Runtime, seq: int, prev_hash: str, valid: bool) -> None:
    """A forged event at `seq` (shifting the later ones up by one), chained onto `prev_hash`."""
    # Two steps, so that no intermediate state collides on the primary key.
    await run_sql(
        runtime,
        "UPDATE audit_event SET seq = -seq WHERE seq >= :seq",
        "UPDATE audit_event SET seq = 1 - seq WHERE seq < 0",
        seq=seq,
    )
    forged = AuditEventRow(
        seq=seq,
        id=new_id(),
        occurred_at=(await _rows(runtime))[0].occurred_at,
        action="case.share",
        outcome="OK",
        details="{}",
        prev_hash=prev_hash,
        hash="",
    )
    forged.hash = link_hash(audit.link_content(forged), prev_hash) if valid else "e" * 64
    async with open_scope(runtime) as scope, scope.store.transaction():
        scope.store.add(forged)


@pytest.mark.parametrize("valid", [True, False], ids=["well-hashed", "badly-hashed"])
async def test_an_inserted_event_is_found(chain: Runtime, valid: bool) -> None:
    rows = {row.seq: row for row in await _rows(chain)}
    await _insert_forged(chain, 4, rows[3].hash, valid)
    assert [row.seq for row in await _rows(chain)] == list(range(1, EVENTS + 2))
    # A well-hashed forgery follows from event 3; the event after it (the old 4) does not.
    assert (await _verify(chain)).broken == (5 if valid else 4)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (3, 6), (7, 8)])
async def test_reordered_events_are_found(chain: Runtime, first: int, second: int) -> None:
    await run_sql(
        chain,
        "UPDATE audit_event SET seq = -1 WHERE seq = :first",
        "UPDATE audit_event SET seq = :first WHERE seq = :second",
        "UPDATE audit_event SET seq = :second WHERE seq = -1",
        first=first,
        second=second,
    )
    assert (await _verify(chain)).broken == first


async def test_a_cut_off_end_passes_alone_and_fails_against_an_anchor(chain: Runtime) -> None:
    anchor = await _anchor_at(chain, EVENTS)
    await run_sql(chain, "DELETE FROM audit_event WHERE seq > 5")
    # What a bare chain cannot see: the shorter chain is a valid chain.
    assert (await _verify(chain)).intact
    verdict = await _verify(chain, anchor)
    assert not verdict.intact
    assert (verdict.broken, verdict.checked, verdict.head) == (None, 5, await _anchor_at(chain, 5))
    assert verdict.problem == (
        "the chain ends at event 5, before the anchored event 8: events were deleted from its end"
    )


async def test_an_emptied_chain_fails_against_an_anchor(chain: Runtime) -> None:
    anchor = await _anchor_at(chain, 2)
    await run_sql(chain, "DELETE FROM audit_event")
    verdict = await _verify(chain, anchor)
    assert (verdict.intact, verdict.checked, verdict.head) == (False, 0, None)
    assert "the chain is empty, before the anchored event 2" in (verdict.problem or "")


async def test_a_rewritten_chain_fails_at_the_anchor(chain: Runtime) -> None:
    anchor = await _anchor_at(chain, 6)
    await run_sql(chain, "UPDATE audit_event SET action = 'case.open' WHERE seq = 3")
    await _rehash_from(chain, 3)
    assert (await _verify(chain)).intact
    verdict = await _verify(chain, anchor)
    assert (verdict.broken, verdict.checked) == (6, 5)
    assert "event 6 does not match the anchor 6:" in (verdict.problem or "")


async def test_a_deleted_anchored_event_is_missing_even_when_rehashed(chain: Runtime) -> None:
    anchor = await _anchor_at(chain, 6)
    await run_sql(chain, "DELETE FROM audit_event WHERE seq = 6")
    await _rehash_from(chain, 7)
    assert (await _verify(chain)).intact
    verdict = await _verify(chain, anchor)
    assert verdict.broken == 7
    assert verdict.problem == "the anchored event 6 is missing (the chain was rewritten)"


@pytest.mark.parametrize("seq", [1, 5, EVENTS])
async def test_an_intact_chain_holds_any_of_its_anchors(chain: Runtime, seq: int) -> None:
    anchor = await _anchor_at(chain, seq)
    await audit.record_auth_failure(chain, "unknown", "later")
    verdict = await _verify(chain, anchor)
    assert (verdict.intact, verdict.checked) == (True, EVENTS + 1)
