"""The audit log tampered with straight in the database (SQLite and PostgreSQL): entries edited,
deleted or inserted, stored tree nodes edited, a tail rewritten with every node recomputed and
its tree heads deleted or re-signed, history cut off or forked. `log.verify_log` names and
locates the first fault, and a tree head kept outside the hub catches what the database alone
cannot show (a rewrite whose heads were deleted, a cut-off end, a fork)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from casehub.crypto import ReceiptSigner
from casehub.domain.audit import merkle
from casehub.domain.audit.log import LogVerdict
from casehub.domain.audit.tree_head import TreeHead, statement
from casehub.domain.enums import Role
from casehub.domain.ids import new_id
from casehub.persistence.tables import AuditEventRow
from casehub.services.agencies import auth
from casehub.services.audit import log
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime, open_scope
from tests import rfc9162
from tests.audit_support import (
    Databases,
    databases_fixture,
    heads,
    integrate_all_settled,
    integrate_settled,
    keep_audit_tables,
    leaf_bytes,
    leaves,
    pending,
    restore_audit_tables,
    run_many,
    run_sql,
    runtime_for,
    verify,
)
from tests.support import register

EVENTS = 8  # seeded: two agencies, two tokens, four failed log-ins; sequence numbers 1 to 8
SIZES = [3, 6, 8]  # the signed tree heads of the seeded log (integrated three at a time)
# Node (level, index) is complete once leaf ((index + 1) << level) - 1 is appended.
LEVELS = range(8)


databases = databases_fixture("audit", "the audit tamper suite")


@pytest.fixture(scope="module")
async def seeded(databases: Databases, keyring_path: Path) -> AsyncIterator[Runtime]:
    """A database whose log holds EVENTS entries written through the services, integrated by
    the sequencer three at a time (tree heads of sizes 3, 6 and 8); its audit tables kept."""
    url = await asyncio.to_thread(databases.new)
    runtime = runtime_for(url, keyring_path)
    try:
        async with open_scope(runtime) as scope:
            for code in ("MY-PDRM", "FR-PARQUET-J3"):
                await register(scope, code)
                await auth.issue_token(scope, agency_code=code, roles=[Role.READER])
        for number in range(4):
            await audit.record_auth_failure(runtime, "unknown", f"client-{number}")
        while (await integrate_settled(runtime, batch=3)).integrated:
            pass
        await keep_audit_tables(runtime)
        yield runtime
    finally:
        await runtime.database.dispose()


@pytest.fixture
async def hub(seeded: Runtime) -> Runtime:
    """The seeded database with its audit log as seeded, to tamper with."""
    await restore_audit_tables(seeded)
    return seeded


def _intact(size: int, signed: list[int]) -> LogVerdict:
    return LogVerdict(size, len(signed), max(signed, default=0))


def _held(kept: list[TreeHead], size: int) -> TreeHead:
    return next(head for head in kept if head.size == size)


# What an intruder who knows the construction does


async def _rebuild_nodes(runtime: Runtime) -> None:
    """Recompute every stored node from the entries as they now are, in leaf order."""
    hashes = [merkle.leaf_hash(leaf_bytes(row)) for row in await leaves(runtime)]
    nodes, _front = merkle.append(0, {}, hashes)
    await run_sql(runtime, "DELETE FROM audit_node")
    await run_many(
        runtime,
        "INSERT INTO audit_node (level, idx, hash) VALUES (:level, :idx, :hash)",
        [{"level": level, "idx": index, "hash": h} for (level, index), h in nodes.items()],
    )


async def _forget_heads(runtime: Runtime, beyond: int) -> None:
    await run_sql(runtime, "DELETE FROM audit_tree_head WHERE tree_size > :size", size=beyond)


async def _cut_tree(runtime: Runtime, size: int, *, keep_entries: bool) -> None:
    """Take the tree back to `size` leaves: the later entries deleted, or (keep_entries) left
    for the sequencer to integrate again; their nodes and tree heads deleted."""
    if keep_entries:
        await run_sql(
            runtime, "UPDATE audit_event SET leaf_index = NULL WHERE leaf_index >= :s", s=size
        )
    else:
        await run_sql(runtime, "DELETE FROM audit_event WHERE leaf_index >= :s", s=size)
    await run_many(
        runtime,
        "DELETE FROM audit_node WHERE level = :level AND idx >= :first",
        [{"level": level, "first": size >> level} for level in LEVELS],
    )
    await _forget_heads(runtime, size)


async def _shift_leaves(runtime: Runtime, start: int, by: int) -> None:
    """Move every leaf from `start` on by `by` places (in two steps, so that no intermediate
    state collides on the unique leaf index)."""
    await run_sql(
        runtime,
        "UPDATE audit_event SET leaf_index = -1 - leaf_index WHERE leaf_index >= :start",
        "UPDATE audit_event SET leaf_index = :by - 1 - leaf_index WHERE leaf_index < 0",
        start=start,
        by=by,
    )


async def _sign_head(runtime: Runtime, size: int, signer: ReceiptSigner, key_id: str) -> None:
    """A tree head over the first `size` entries as they now are, signed by `signer`."""
    root = rfc9162.mth([leaf_bytes(row) for row in (await leaves(runtime))[:size]])
    timestamp_ms = 1_800_000_000_000
    message = statement(size, root, timestamp_ms, key_id)
    await run_sql(
        runtime,
        "INSERT INTO audit_tree_head (tree_size, root_hash, timestamp_ms, key_id, signature) "
        "VALUES (:size, :root, :ts, :kid, :sig)",
        size=size,
        root=root.hex(),
        ts=timestamp_ms,
        kid=key_id,
        sig=signer.sign(hashlib.sha256(message).hexdigest()),
    )


async def _edit(runtime: Runtime, seq: int) -> None:
    await run_sql(runtime, "UPDATE audit_event SET action = 'case.open' WHERE seq = :s", s=seq)


# An intact log


async def test_the_seeded_log_is_intact(hub: Runtime) -> None:
    rows = await leaves(hub)
    assert [(row.leaf_index, row.seq) for row in rows] == [(n, n + 1) for n in range(EVENTS)]
    kept = await heads(hub)
    assert [head.size for head in kept] == SIZES
    for head in kept:
        assert head.root == rfc9162.mth([leaf_bytes(row) for row in rows[: head.size]])
    assert await verify(hub) == _intact(EVENTS, SIZES)
    assert await verify(hub, batch=1000) == _intact(EVENTS, SIZES)
    assert await verify(hub, held=kept) == _intact(EVENTS, SIZES)


async def test_a_log_with_pending_entries_verifies_and_keeps_its_heads(hub: Runtime) -> None:
    kept = await heads(hub)
    for number in range(3):
        await audit.record_auth_failure(hub, "unknown", f"later-{number}")
    assert await pending(hub) == 3
    # Entries not integrated yet are neither checked nor a fault.
    assert await verify(hub, held=kept) == _intact(EVENTS, SIZES)
    assert await integrate_all_settled(hub) == log.Integration(True, 3, EVENTS + 3)
    assert await pending(hub) == 0
    assert await verify(hub, held=kept) == _intact(EVENTS + 3, [*SIZES, EVENTS + 3])


# Entries


@pytest.mark.parametrize(
    ("seq", "column", "value"),
    [
        (1, "action", "'case.open'"),
        (4, "outcome", "'FORBIDDEN'"),
        (5, "details", "'{}'"),
        (EVENTS, "object_type", "'Case'"),
    ],
)
async def test_an_edited_entry_is_named(hub: Runtime, seq: int, column: str, value: str) -> None:
    await run_sql(hub, f"UPDATE audit_event SET {column} = {value} WHERE seq = {seq}")
    verdict = await verify(hub)
    assert verdict.problem == f"entry {seq} (leaf {seq - 1}) was edited after it was logged"
    assert (verdict.leaf, verdict.seq, verdict.size) == (seq - 1, seq, seq - 1)


@pytest.mark.parametrize("seq", [1, 4, 7])
async def test_a_deleted_entry_leaves_a_gap(hub: Runtime, seq: int) -> None:
    await run_sql(hub, "DELETE FROM audit_event WHERE seq = :s", s=seq)
    verdict = await verify(hub)
    assert verdict.problem == (
        f"leaf {seq - 1} is missing (the entry was deleted, or leaf indexes rewritten)"
    )
    # Located at the entry after the gap: the deleted one has no row left to name.
    assert (verdict.leaf, verdict.seq, verdict.size) == (seq, seq + 1, seq - 1)


async def test_a_deleted_last_entry_is_past_the_log_end(hub: Runtime) -> None:
    await run_sql(hub, "DELETE FROM audit_event WHERE seq = :s", s=EVENTS)
    verdict = await verify(hub)
    assert verdict.problem == (
        f"a signed tree head has size {EVENTS} but the log ends at {EVENTS - 1}: "
        "entries were deleted from its end"
    )


async def _insert_forged(runtime: Runtime, leaf: int) -> None:
    """A forged entry at `leaf`, the later ones moved up a place."""
    await _shift_leaves(runtime, leaf, 1)
    forged = AuditEventRow(
        seq=100,
        id=new_id(),
        occurred_at=(await leaves(runtime))[0].occurred_at,
        action="case.share",
        outcome="OK",
        details="{}",
        leaf_index=leaf,
    )
    async with open_scope(runtime) as scope, scope.store.transaction():
        scope.store.add(forged)


async def test_an_inserted_entry_is_caught_by_its_leaf_hash(hub: Runtime) -> None:
    await _insert_forged(hub, 4)
    verdict = await verify(hub)
    assert verdict.problem == "entry 100 (leaf 4) was edited after it was logged"
    assert (verdict.leaf, verdict.seq) == (4, 100)


async def test_an_inserted_entry_with_nodes_recomputed_is_caught_by_the_first_head_over_it(
    hub: Runtime,
) -> None:
    await _insert_forged(hub, 4)
    await _rebuild_nodes(hub)
    verdict = await verify(hub)
    # Leaf hashes and nodes all match now; the head of size 3 still does; the one of size 6
    # does not.
    assert verdict.problem == (
        "the signed tree head of size 6 does not match the entries: "
        "entries before leaf 6 were rewritten"
    )
    # Leaf 5 is the old leaf 4 (sequence number 5), moved up by the forgery.
    assert (verdict.leaf, verdict.seq, verdict.size) == (5, 5, 6)


async def test_a_deleted_entry_with_leaves_renumbered_and_nodes_recomputed_is_caught(
    hub: Runtime,
) -> None:
    await run_sql(hub, "DELETE FROM audit_event WHERE seq = 2")
    await _shift_leaves(hub, 2, -1)
    await _rebuild_nodes(hub)
    verdict = await verify(hub)
    assert verdict.problem == (
        "the signed tree head of size 3 does not match the entries: "
        "entries before leaf 3 were rewritten"
    )
    assert (verdict.leaf, verdict.seq) == (2, 4)


# Stored nodes


@pytest.mark.parametrize(
    ("level", "index", "completed_at"), [(0, 6, 6), (1, 0, 1), (1, 2, 5), (2, 0, 3)]
)
async def test_an_edited_stored_node_is_found_where_it_completes(
    hub: Runtime, level: int, index: int, completed_at: int
) -> None:
    await run_sql(
        hub,
        "UPDATE audit_node SET hash = :bad WHERE level = :level AND idx = :idx",
        bad=b"\xee" * 32,
        level=level,
        idx=index,
    )
    verdict = await verify(hub)
    if level == 0:
        # A leaf's stored hash no longer matches its entry: the entry is what is named.
        expected = f"entry {completed_at + 1} (leaf {completed_at}) was edited after it was logged"
    else:
        expected = (
            f"stored tree node ({level}, {index}) does not match the entries below it "
            "(proofs served from it would not verify)"
        )
    assert verdict.problem == expected
    assert (verdict.leaf, verdict.seq) == (completed_at, completed_at + 1)


async def test_a_deleted_stored_node_is_found(hub: Runtime) -> None:
    await run_sql(hub, "DELETE FROM audit_node WHERE level = 2 AND idx = 0")
    verdict = await verify(hub)
    assert verdict.problem is not None
    assert verdict.problem.startswith("stored tree node (2, 0) does not match")
    assert verdict.leaf == 3


# Rewritten history


async def _rewrite_tail(runtime: Runtime) -> None:
    """Entry 7 (leaf 6) edited and every node recomputed: only the head of size 8 differs."""
    await _edit(runtime, 7)
    await _rebuild_nodes(runtime)


@pytest.mark.parametrize("claimed", ["own", "hub's"])
async def test_a_rewritten_tail_re_signed_with_another_key_fails_the_signature(
    hub: Runtime, claimed: str
) -> None:
    await _rewrite_tail(hub)
    await _forget_heads(hub, 6)
    forger = ReceiptSigner.generate()
    key_id = forger.key_id if claimed == "own" else hub.keys.receipt_signer().key_id
    await _sign_head(hub, EVENTS, forger, key_id)
    verdict = await verify(hub)
    assert verdict.problem == f"the tree head of size {EVENTS} has a bad signature"
    assert not verdict.intact


async def test_a_rewritten_tail_with_its_heads_deleted_is_caught_only_by_a_held_head(
    hub: Runtime,
) -> None:
    kept = await heads(hub)
    await _rewrite_tail(hub)
    await _forget_heads(hub, 6)
    # What the database alone cannot show: every remaining head still matches.
    assert await verify(hub) == _intact(EVENTS, [3, 6])
    assert await verify(hub, held=[_held(kept, 6)]) == _intact(EVENTS, [3, 6])
    verdict = await verify(hub, held=[_held(kept, EVENTS)])
    assert verdict.problem == (
        f"the tree head you hold (size {EVENTS}) does not match this log: the first {EVENTS} "
        "entries were rewritten (a forked or rewritten history)"
    )
    assert (verdict.leaf, verdict.seq) == (EVENTS - 1, EVENTS)


async def test_a_rewritten_tail_keeping_its_old_head_fails_it(hub: Runtime) -> None:
    await _rewrite_tail(hub)
    verdict = await verify(hub)
    assert verdict.problem == (
        f"the signed tree head of size {EVENTS} does not match the entries: "
        f"entries before leaf {EVENTS} were rewritten"
    )
    assert verdict.leaf == EVENTS - 1


@pytest.mark.parametrize("size", [0, 2, 5])
async def test_a_cut_off_end_is_caught_by_a_held_head_of_a_larger_size(
    hub: Runtime, size: int
) -> None:
    kept = await heads(hub)
    await _cut_tree(hub, size, keep_entries=False)
    signed = [s for s in SIZES if s <= size]
    # A shorter log is a valid log.
    assert await verify(hub) == _intact(size, signed)
    assert await verify(hub, held=[h for h in kept if h.size <= size]) == _intact(size, signed)
    for held in (_held(kept, 6), _held(kept, EVENTS)):
        verdict = await verify(hub, held=[held])
        assert verdict.problem == (
            f"the tree head you hold has size {held.size} but the log ends at {size}: "
            "entries were deleted from its end"
        )
    # Several held heads: the smallest one past the end is named.
    verdict = await verify(hub, held=kept)
    assert verdict.problem is not None
    assert f"has size {min(s for s in SIZES if s > size)} but" in verdict.problem


async def test_a_fork_two_signed_heads_of_one_size_is_caught(hub: Runtime) -> None:
    """The hub rewrites leaf 6 with its own key and sequencer after an agency kept the head of
    size 8: two validly signed heads of size 8 with different roots."""
    kept = await heads(hub)
    agency = _held(kept, EVENTS)
    await _cut_tree(hub, 6, keep_entries=True)
    await _edit(hub, 7)
    assert await integrate_all_settled(hub) == log.Integration(True, 2, EVENTS)
    forked = await heads(hub)
    assert [head.size for head in forked] == SIZES
    hub_head = forked[-1]
    assert hub_head.size == agency.size
    assert hub_head.root != agency.root
    signed = log.signature_check(hub)
    for head in (agency, hub_head):
        assert signed(
            head.key_id,
            statement(head.size, head.root, head.timestamp_ms, head.key_id),
            head.signature,
        )
    # The hub's own records agree with each other.
    assert await verify(hub) == _intact(EVENTS, SIZES)
    verdict = await verify(hub, held=[agency])
    assert verdict.problem == (
        f"the tree head you hold (size {EVENTS}) does not match this log: the first {EVENTS} "
        "entries were rewritten (a forked or rewritten history)"
    )
    # Heads the fork left alone still verify.
    assert await verify(hub, held=[_held(kept, 6)]) == _intact(EVENTS, SIZES)


async def test_a_held_head_the_hub_never_signed_is_refused(hub: Runtime) -> None:
    real = (await heads(hub))[-1]
    forger = ReceiptSigner.generate()
    message = statement(real.size, real.root, real.timestamp_ms, forger.key_id)
    forged = TreeHead(
        real.size,
        real.root,
        real.timestamp_ms,
        forger.key_id,
        forger.sign(hashlib.sha256(message).hexdigest()),
    )
    verdict = await verify(hub, held=[forged])
    assert verdict.problem == (
        f"the tree head you hold (size {EVENTS}) is not signed by a key of this hub"
    )
