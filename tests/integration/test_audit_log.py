"""The audit log's proofs and its sequencer, on SQLite and PostgreSQL: inclusion and
consistency proofs checked by an independent RFC 9162 verifier against the signed tree heads,
whose signatures check against the hub's published keys; the consistency query's limits; the
sequencer lock; the commit-safe horizon; and a hash-chained log of revision 0004 migrated into
the Merkle log."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from casehub.crypto import verify_with_jwks
from casehub.domain.audit.log import LogVerdict
from casehub.domain.audit.tree_head import TreeHead
from casehub.domain.enums import Role
from casehub.domain.errors import Forbidden, ValidationFailed
from casehub.domain.ids import new_id
from casehub.domain.requests.receipts import b64url_decode
from casehub.persistence import migrate
from casehub.persistence.types import UTCDateTime
from casehub.services.agencies import auth
from casehub.services.audit import log
from casehub.services.audit import trail as audit
from casehub.services.runtime import Principal, Runtime, Scope, open_scope
from tests import rfc9162
from tests.audit_support import (
    Databases,
    append_entries,
    databases_fixture,
    heads,
    integrate_all_settled,
    integrate_settled,
    leaf_bytes,
    leaves,
    pending,
    run_sql,
    runtime_for,
    settled,
    verify,
    write_events,
)
from tests.postgres import require_postgres
from tests.support import register

ENTRIES = 40  # in the grown log
SIZES = [1, 8, 15, 22, 29, 36, 40]  # its signed tree heads: one entry, then seven at a time


databases = databases_fixture("audit_log", "the audit log suite")


@pytest.fixture
async def fresh(databases: Databases, keyring_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on an empty database of its own."""
    runtime = runtime_for(await asyncio.to_thread(databases.new), keyring_path)
    yield runtime
    await runtime.database.dispose()


async def _principal(runtime: Runtime, code: str, role: Role) -> Principal:
    """A principal of the agency with one role, through its token as a request would be."""
    async with open_scope(runtime) as scope:
        _id, token = await auth.issue_token(
            scope, agency_code=code, roles=[role], principal_name=f"{role.value.lower()}-tool"
        )
        return await auth.authenticate(runtime, scope, f"Bearer {token}")


@dataclass
class Grown:
    """A log grown head by head, with what an administrator was served at each head."""

    runtime: Runtime
    admin: Principal
    reader: Principal
    data: list[bytes]  # leaf data, in leaf order
    served: dict[int, tuple[TreeHead, dict[int, log.Inclusion]]]


@pytest.fixture(scope="module")
async def grown(databases: Databases, keyring_path: Path) -> AsyncIterator[Grown]:
    """ENTRIES entries (three by registering, seven the ways the app writes, thirty in bulk),
    integrated one and then seven at a time; after each integration, the newest head and the
    inclusion proofs of every leaf (and of a few past it) as an administrator reads them."""
    runtime = runtime_for(await asyncio.to_thread(databases.new), keyring_path)
    try:
        async with open_scope(runtime) as scope:
            await register(scope, "MY-PDRM")
        admin = await _principal(runtime, "MY-PDRM", Role.AGENCY_ADMIN)
        reader = await _principal(runtime, "MY-PDRM", Role.READER)
        await write_events(runtime, "w", 7)
        for _ in range(3):
            await append_entries(runtime, 10)
        served: dict[int, tuple[TreeHead, dict[int, log.Inclusion]]] = {}
        batch = 1
        while (await integrate_settled(runtime, batch=batch)).integrated:
            batch = 7
            async with open_scope(runtime, admin) as scope:
                newest = await log.latest_head(scope)
                assert newest is not None
                proofs = await log.inclusions(scope, range(-1, newest.size + 3))
            served[newest.size] = (newest, proofs)
        data = [leaf_bytes(row) for row in await leaves(runtime)]
        yield Grown(runtime, admin, reader, data, served)
    finally:
        await runtime.database.dispose()


async def test_the_grown_log_has_a_head_per_integration(grown: Grown) -> None:
    assert len(grown.data) == ENTRIES
    assert sorted(grown.served) == SIZES
    assert [head.size for head in await heads(grown.runtime)] == SIZES
    assert await verify(grown.runtime, batch=6) == LogVerdict(ENTRIES, len(SIZES), ENTRIES)


async def test_every_inclusion_proof_verifies_against_its_signed_head(grown: Grown) -> None:
    for size, (head, proofs) in grown.served.items():
        assert head.root == rfc9162.mth(grown.data[:size])
        # Leaves the head does not cover (and negative indexes) are left out.
        assert sorted(proofs) == list(range(size))
        for index, proof in proofs.items():
            leaf = rfc9162.hash_leaf(grown.data[index])
            assert (proof.leaf_index, proof.tree_size, proof.root) == (index, size, head.root)
            assert list(proof.hashes) == rfc9162.path(index, grown.data[:size])
            assert rfc9162.verify_inclusion(leaf, index, size, proof.hashes, head.root)
            # The proof is of this leaf, at this place, in this tree only.
            other = rfc9162.hash_leaf(grown.data[index - 1] + b" ")
            assert not rfc9162.verify_inclusion(other, index, size, proof.hashes, head.root)
            if size > 1:
                wrong = (index + 1) % size
                assert not rfc9162.verify_inclusion(leaf, wrong, size, proof.hashes, head.root)


async def test_inclusions_of_events_leave_out_those_not_integrated(grown: Grown) -> None:
    rows = await leaves(grown.runtime)
    async with open_scope(grown.runtime, grown.admin) as scope:
        found = await log.inclusions_of(scope, [rows[0].id, rows[-1].id, new_id()])
    assert sorted(proof.leaf_index for proof in found.values()) == [0, ENTRIES - 1]
    assert all(proof.tree_size == ENTRIES for proof in found.values())


async def test_consistency_proofs_verify_between_every_pair_of_signed_heads(
    grown: Grown,
) -> None:
    roots = {head.size: head.root for head in await heads(grown.runtime)}
    async with open_scope(grown.runtime, grown.admin) as scope:
        for old in SIZES:
            for new in (size for size in SIZES if size >= old):
                proof = await log.consistency(scope, from_size=old, to_size=new)
                assert rfc9162.verify_consistency(old, new, roots[old], roots[new], proof)
                if old < new:
                    assert proof == rfc9162.proof(old, grown.data[:new])
                    # The proof ties these two roots together and no others.
                    other = rfc9162.mth(grown.data[1 : old + 1])
                    assert not rfc9162.verify_consistency(old, new, other, roots[new], proof)
                else:
                    assert proof == []


async def test_tree_head_signatures_verify_with_the_published_keys(grown: Grown) -> None:
    jwks = grown.runtime.keys.receipt_public_keys()
    published = {key["kid"] for key in jwks["keys"]}
    for head in await heads(grown.runtime):
        assert head.key_id in published
        # The signed statement, built here from its specification (RFC 8785 canonical JSON).
        signed = (
            f'{{"keyId":"{head.key_id}","log":"casehub-audit-v1","rootHash":"{head.root.hex()}",'
            f'"timestamp":{head.timestamp_ms},"treeSize":{head.size}}}'
        ).encode()
        signature = b64url_decode(head.signature)
        assert signature is not None
        assert verify_with_jwks(jwks, head.key_id, hashlib.sha256(signed).digest(), signature)
        forged = signed.replace(b'"treeSize":', b'"treeSize":1')
        assert not verify_with_jwks(jwks, head.key_id, hashlib.sha256(forged).digest(), signature)


async def _log_tables(runtime: Runtime) -> tuple[int, ...]:
    async with runtime.database.engine.connect() as connection:
        counts = [
            (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("audit_event", "audit_node", "audit_tree_head")
        ]
    return tuple(counts)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (0, 1, "fromSize"),
        (-1, 8, "fromSize"),
        (ENTRIES + 1, ENTRIES + 1, "fromSize"),
        (8, 1, "toSize"),
        (1, ENTRIES + 1, "toSize"),
        (ENTRIES, ENTRIES + 1, "toSize"),
    ],
)
async def test_consistency_refuses_sizes_out_of_range(
    grown: Grown, old: int, new: int, field: str
) -> None:
    before = await _log_tables(grown.runtime)
    async with open_scope(grown.runtime, grown.admin) as scope:
        with pytest.raises(ValidationFailed) as refused:
            await log.consistency(scope, from_size=old, to_size=new)
    assert refused.value.field == [field]
    assert f"newest tree size ({ENTRIES})" in refused.value.message
    assert await _log_tables(grown.runtime) == before


async def test_tree_heads_and_proofs_are_for_administrators(grown: Grown) -> None:
    async with open_scope(grown.runtime, grown.reader) as scope:
        with pytest.raises(Forbidden):
            await log.latest_head(scope)
        with pytest.raises(Forbidden):
            await log.consistency(scope, from_size=1, to_size=8)
        with pytest.raises(Forbidden):
            await log.inclusions_of(scope, [new_id()])


# The sequencer


async def test_an_empty_log_integrates_nothing_and_verifies(fresh: Runtime) -> None:
    assert await log.integrate(fresh) == log.Integration(leader=True, integrated=0, size=0)
    assert await verify(fresh) == LogVerdict(0, 0, 0)
    async with open_scope(fresh) as scope:
        assert await scope.store.latest_tree_head() is None


async def test_integrations_racing_never_sign_one_size_twice(
    fresh: Runtime, keyring_path: Path
) -> None:
    """Three sequencers (engines of their own) integrating four at a time at once: each round
    either holds the lock or stands aside; every entry is placed once."""
    await append_entries(fresh, 30)
    url = fresh.settings.database_url
    others = [runtime_for(url, keyring_path) for _ in range(2)]
    try:
        await settled(fresh)
        rounds = await asyncio.gather(
            *(log.integrate_all(runtime, batch=4) for runtime in [fresh, *others] for _ in range(2))
        )
    finally:
        await asyncio.gather(*(runtime.database.dispose() for runtime in others))
    assert any(round_.leader for round_ in rounds)
    assert sum(round_.integrated for round_ in rounds) == 30
    sizes = [head.size for head in await heads(fresh)]
    assert sizes == sorted(set(sizes))
    assert sizes[-1] == 30
    assert [row.leaf_index for row in await leaves(fresh)] == list(range(30))
    assert await pending(fresh) == 0
    assert (await verify(fresh)).intact


@pytest.fixture
async def on_postgres(tmp_path: Path, keyring_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on an empty PostgreSQL database of its own (advisory locks and transaction
    ids: SQLite has one writer at a time and neither)."""
    require_postgres("the sequencer's PostgreSQL tests")
    databases = Databases("postgres", tmp_path)
    runtime = runtime_for(await asyncio.to_thread(databases.new), keyring_path)
    yield runtime
    await runtime.database.dispose()
    databases.close()


@pytest.mark.postgres
async def test_a_sequencer_holding_the_lock_keeps_others_out(on_postgres: Runtime) -> None:
    runtime = on_postgres
    await append_entries(runtime, 5)
    await settled(runtime)
    async with open_scope(runtime) as holder:
        assert await holder.store.take_sequencer_lock()
        assert await log.integrate(runtime) == log.Integration(leader=False)
        assert await log.integrate_all(runtime) == log.Integration(leader=False)
        assert await pending(runtime) == 5
        await holder.store.session.rollback()
    assert await log.integrate(runtime) == log.Integration(leader=True, integrated=5, size=5)


async def _xid(scope: Scope) -> int:
    """The scope's transaction id (assigning one now if it has none)."""
    result = await scope.store.session.execute(text("SELECT pg_current_xact_id()::text"))
    return int(result.scalar_one())


@pytest.mark.postgres
async def test_an_open_transaction_is_not_integrated_until_it_commits(
    on_postgres: Runtime,
) -> None:
    """Entry A is written by a transaction left open; entry B, with a larger sequence number,
    by an older transaction that commits: B is integrated, A waits, and so does C, written by
    a transaction that began after A's (the horizon is A's transaction). Once A commits, the
    next integration adds A and C: A gets a later leaf than B although its sequence number is
    smaller, and nothing is skipped."""
    runtime = on_postgres
    async with open_scope(runtime) as older, open_scope(runtime) as held:
        older_xid = await _xid(older)  # B's transaction takes its id first
        await audit.append(held, [audit.AuditEntry(action="test.held")])
        await audit.append(older, [audit.AuditEntry(action="test.older")])
        assert older_xid < await _xid(held)
        await older.store.session.commit()
        await audit.record_auth_failure(runtime, "unknown", "after")  # C, committed
        # B below the horizon; C above it for as long as A's transaction is open (A itself
        # is not visible yet).
        await settled(runtime, leaving=1)
        assert await log.integrate(runtime) == log.Integration(True, 1, 1)
        assert [row.action for row in await leaves(runtime)] == ["test.older"]
        assert await log.integrate(runtime) == log.Integration(True, 0, 1)
        await held.store.session.commit()
    assert await integrate_all_settled(runtime) == log.Integration(True, 2, 3)
    placed = [(row.action, row.seq) for row in await leaves(runtime)]
    assert [action for action, _seq in placed] == ["test.older", "test.held", "auth.fail"]
    seqs = {action: seq or 0 for action, seq in placed}
    assert seqs["test.held"] < seqs["test.older"] < seqs["auth.fail"]
    assert await pending(runtime) == 0
    assert (await verify(runtime)).intact


# Migration


CHAINED = sa.table(
    "audit_event",
    sa.column("seq", sa.Integer()),
    sa.column("id", sa.Uuid()),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("actor_principal_id", sa.Uuid()),
    sa.column("actor_agency_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.Uuid()),
    sa.column("object_agency_id", sa.Uuid()),
    sa.column("outcome", sa.String()),
    sa.column("details", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


async def test_a_chained_log_of_revision_0004_migrates_into_the_merkle_log(
    databases: Databases, keyring_path: Path
) -> None:
    url = await asyncio.to_thread(databases.new, "0004")
    start = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    # Written in another order than their sequence numbers, with gaps, chained by hash.
    seqs = [5, 1, 8, 2, 3]
    rows = [
        {
            "seq": seq,
            "id": new_id(),
            "occurred_at": start + timedelta(minutes=seq),
            "actor_principal_id": new_id() if seq % 2 else None,
            "actor_agency_id": new_id() if seq % 2 else None,
            "action": f"old.{seq}",
            "object_type": "Case" if seq > 2 else None,
            "object_id": new_id() if seq > 2 else None,
            "object_agency_id": None,
            "outcome": "OK" if seq != 3 else "FORBIDDEN",
            "details": json.dumps({"seq": seq}),
            "prev_hash": f"{seq - 1:064x}",
            "hash": f"{seq:064x}",
        }
        for seq in seqs
    ]
    runtime = runtime_for(url, keyring_path)
    try:
        async with runtime.database.engine.begin() as connection:
            await connection.execute(sa.insert(CHAINED), rows)
            if connection.dialect.name == "postgresql":
                # Rows written with their numbers: move the sequence past them, as the
                # release that wrote them would have.
                await connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('audit_event', 'seq'), 8)")
                )
        await runtime.database.dispose()
        await migrate.upgrade_async(url)
        assert await pending(runtime) == len(seqs)
        await audit.record_auth_failure(runtime, "unknown", "after-upgrade")
        assert await integrate_all_settled(runtime) == log.Integration(True, 6, 6)
        placed = await leaves(runtime)
        assert [row.seq for row in placed] == [1, 2, 3, 5, 8, 9]
        assert [row.leaf_index for row in placed] == list(range(6))
        by_seq = dict(zip(seqs, rows, strict=True))
        for row in placed[:5]:
            old = by_seq[row.seq or 0]
            assert (row.id, row.occurred_at, row.action) == (
                old["id"],
                old["occurred_at"],
                old["action"],
            )
            assert (row.outcome, row.details, row.txid) == (old["outcome"], old["details"], 0)
        assert placed[-1].action == "auth.fail"
        assert await verify(runtime) == LogVerdict(6, 1, 6)
        async with runtime.database.engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("audit_event")}
            )
        assert {"txid", "leaf_index"} <= columns
        assert not {"prev_hash", "hash"} & columns
    finally:
        await runtime.database.dispose()


async def test_the_sequencer_refuses_to_extend_a_tampered_tree(fresh: Runtime) -> None:
    await append_entries(fresh, 5)
    assert (await integrate_all_settled(fresh)).size == 5
    # The frontier of 5 leaves is nodes (2, 0) and (0, 4): edit the larger one.
    await run_sql(fresh, "UPDATE audit_node SET hash = :h WHERE level = 2 AND idx = 0", h=b"x")
    await append_entries(fresh, 2)
    await settled(fresh)
    before = await heads(fresh)
    with pytest.raises(log.LogRegressed, match="does not match the signed tree head of size 5"):
        await log.integrate(fresh)
    assert await heads(fresh) == before
    assert await pending(fresh) == 2


async def test_the_sequencer_refuses_a_log_smaller_than_it_signed(fresh: Runtime) -> None:
    await append_entries(fresh, 3)
    signed = (await integrate_all_settled(fresh)).size
    await append_entries(fresh, 2)
    assert (await integrate_all_settled(fresh)).size == signed + 2
    # Someone deletes the newest head and unplaces its entries: the log looks shorter.
    await run_sql(
        fresh,
        "DELETE FROM audit_tree_head WHERE tree_size > :s",
        "DELETE FROM audit_node WHERE (idx + 1) * power(2, level) > :s",
        "UPDATE audit_event SET leaf_index = NULL WHERE leaf_index >= :s",
        s=signed,
    )
    with pytest.raises(log.LogRegressed, match=f"has size {signed}, but this sequencer signed"):
        await log.integrate(fresh, at_least=signed + 2)
    assert [head.size for head in await heads(fresh)] == [signed]
