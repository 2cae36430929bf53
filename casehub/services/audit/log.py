"""The audit log as a Merkle tree (RFC 9162): the sequencer that integrates committed entries
and signs tree heads, the proofs served from the stored tree, and the verification of it all.

Requests only insert entries (casehub.services.audit.trail). One sequencer at a time (an
advisory lock on PostgreSQL, the write lock on SQLite) takes the entries whose transactions have
all ended (casehub.persistence.horizon), gives them the next leaf indexes in the order they were
written, stores every newly complete subtree and signs a tree head over the new size and root
with the hub's receipt key. The signed heads are what agencies keep: a hub that later rewrites
or truncates its history cannot show a consistency proof from a kept head to its current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from casehub.crypto import verify_with_jwks
from casehub.domain.audit import merkle
from casehub.domain.audit.log import (
    Leaf,
    LogCheck,
    LogVerdict,
    Verify,
    leaf_data,
    new_node_ranges,
)
from casehub.domain.audit.tree_head import TreeHead, statement
from casehub.domain.errors import ValidationFailed
from casehub.domain.requests.receipts import b64url_decode
from casehub.domain.roles import Operation
from casehub.persistence import Store
from casehub.persistence.tables import AuditTreeHeadRow
from casehub.services.audit.trail import entry_content
from casehub.services.runtime import Runtime, Scope, open_scope

log = logging.getLogger("casehub.audit")

# Entries integrated per transaction (and signed tree head).
BATCH = 1000


@dataclass(frozen=True, slots=True)
class Integration:
    """One sequencer round: whether it held the lock, how many entries it added, the size."""

    leader: bool
    integrated: int = 0
    size: int = 0


@dataclass(frozen=True, slots=True)
class Inclusion:
    """Where an entry sits in the log, and the audit path to a signed root."""

    leaf_index: int
    leaf_hash: bytes
    tree_size: int
    root: bytes
    hashes: tuple[bytes, ...]


def head_of(row: AuditTreeHeadRow) -> TreeHead:
    """A stored tree head as the domain verifies it."""
    root = bytes.fromhex(row.root_hash)
    return TreeHead(row.tree_size, root, row.timestamp_ms, row.key_id, row.signature)


class LogRegressed(Exception):
    """The stored log is not the one the hub signed: the sequencer refuses to extend it."""


async def integrate(runtime: Runtime, *, batch: int = BATCH, at_least: int = 0) -> Integration:
    """Integrate up to `batch` committed entries and sign the new head, in one transaction;
    refuse (LogRegressed) when the stored tree does not match the newest signed head, or that
    head is smaller than `at_least` (a size this process saw signed)."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        store = scope.store
        if not await store.take_sequencer_lock():
            return Integration(leader=False)
        rows = await store.pending_audit_events(batch)
        latest = await store.latest_tree_head()
        size = latest.tree_size if latest else 0
        if size < at_least:
            raise LogRegressed(
                f"the newest signed tree head has size {size}, but this sequencer signed one "
                f"of size {at_least}: tree heads were deleted; not signing over it"
            )
        if not rows:
            return Integration(leader=True, size=size)
        frontier = await store.audit_nodes(merkle.frontier_ids(size))
        stored_root = merkle.root_from_frontier(
            [frontier.get(node, b"") for node in merkle.frontier_ids(size)]
        )
        if latest is not None and stored_root.hex() != latest.root_hash:
            raise LogRegressed(
                f"the stored tree does not match the signed tree head of size {size}: "
                "the log was tampered with; not signing over it (run `casehub audit verify`)"
            )
        leaves = [merkle.leaf_hash(leaf_data(entry_content(row))) for row in rows]
        nodes, front = merkle.append(size, frontier, leaves)
        await store.place_audit_events({row.seq or 0: size + n for n, row in enumerate(rows)})
        await store.add_audit_nodes(nodes)
        new_size = size + len(rows)
        root = merkle.root_from_frontier(front)
        signer = runtime.keys.receipt_signer()
        timestamp_ms = int(scope.now.timestamp() * 1000)
        signed = statement(new_size, root, timestamp_ms, signer.key_id)
        await store.add_tree_head(
            AuditTreeHeadRow(
                tree_size=new_size,
                root_hash=root.hex(),
                timestamp_ms=timestamp_ms,
                key_id=signer.key_id,
                signature=signer.sign(hashlib.sha256(signed).hexdigest()),
            )
        )
    return Integration(leader=True, integrated=len(rows), size=new_size)


async def integrate_all(runtime: Runtime, *, batch: int = BATCH, at_least: int = 0) -> Integration:
    """Integrate until nothing committed is left (an operator's `casehub audit integrate`)."""
    total = 0
    while True:
        round_ = await integrate(runtime, batch=batch, at_least=at_least)
        total += round_.integrated
        at_least = max(at_least, round_.size)
        if not round_.leader or round_.integrated < batch:
            # Led if any round did: another sequencer may take over between rounds.
            return Integration(round_.leader or total > 0, total, max(round_.size, at_least))


async def run_sequencer(runtime: Runtime, every: float, stop: asyncio.Event) -> None:
    """Integrate every `every` seconds until `stop` is set; with several replicas, whichever
    holds the lock in a round does the work and the others skip it.

    A round is never cancelled halfway: a task cancelled inside a database call can abandon
    its connection mid-transaction, and on SQLite that connection keeps the write lock until
    it is garbage collected, refusing every other writer ("database is locked")."""
    failing: str | None = None
    signed = 0  # the largest tree this process saw signed: the log never shrinks below it
    while not stop.is_set():
        try:
            signed = max(signed, (await integrate_all(runtime, at_least=signed)).size)
        except Exception as error:
            # A missing key or a lost database: said when it starts (not every round), retried.
            if repr(error) != failing:
                log.exception("audit sequencer round failed; retrying every %s s", every)
            failing = repr(error)
        else:
            if failing is not None:
                log.info("audit sequencer recovered")
            failing = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


# Reading the tree


async def latest_head(scope: Scope) -> TreeHead | None:
    """The newest signed tree head (AGENCY_ADMIN: administrators keep them)."""
    scope.require(Operation.READ_AUDIT)
    row = await scope.store.latest_tree_head()
    return head_of(row) if row else None


async def inclusions(scope: Scope, leaf_indexes: Sequence[int]) -> dict[int, Inclusion]:
    """Audit paths of these leaves to the newest signed head (leaves it does not cover yet are
    left out); one query for every node of every path."""
    row = await scope.store.latest_tree_head()
    if row is None:
        return {}
    size = row.tree_size
    wanted = sorted({index for index in leaf_indexes if 0 <= index < size})
    ids = [node for index in wanted for node in [(0, index), *merkle.inclusion_ids(index, size)]]
    nodes = await scope.store.audit_nodes(ids)
    root = bytes.fromhex(row.root_hash)
    return {
        index: Inclusion(
            index,
            nodes[(0, index)],
            size,
            root,
            tuple(merkle.inclusion_proof(index, size, nodes)),
        )
        for index in wanted
    }


async def inclusions_of(scope: Scope, event_ids: Sequence[UUID]) -> dict[UUID, Inclusion]:
    """Audit paths of these events (an administrator's, listed by `auditEvents`) to the newest
    signed head; events not yet covered by one are left out."""
    scope.require(Operation.READ_AUDIT)
    leaves = await scope.store.audit_leaf_indexes(event_ids)
    proofs = await inclusions(scope, list(leaves.values()))
    return {event: proofs[leaf] for event, leaf in leaves.items() if leaf in proofs}


async def consistency(scope: Scope, *, from_size: int, to_size: int) -> list[bytes]:
    """The proof that the log of `to_size` entries extends the one of `from_size` (both sizes
    of signed tree heads, up to the newest one)."""
    scope.require(Operation.READ_AUDIT)
    latest = await scope.store.latest_tree_head()
    newest = latest.tree_size if latest else 0
    if not 1 <= from_size <= newest:
        raise ValidationFailed(f"Must be from 1 to the newest tree size ({newest}).", ["fromSize"])
    if not from_size <= to_size <= newest:
        raise ValidationFailed(
            f"Must be from fromSize to the newest tree size ({newest}).", ["toSize"]
        )
    nodes = await scope.store.audit_nodes(merkle.consistency_ids(from_size, to_size))
    return merkle.consistency_proof(from_size, to_size, nodes)


# Verification


def signature_check(runtime: Runtime) -> Verify:
    """Checks a tree head's signature against every receipt key the hub ever used."""
    jwks = runtime.keys.receipt_public_keys()

    def verify(key_id: str, message: bytes, signature: str) -> bool:
        raw = b64url_decode(signature)
        return raw is not None and verify_with_jwks(
            jwks, key_id, hashlib.sha256(message).digest(), raw
        )

    return verify


async def verify_log(
    store: Store, runtime: Runtime, *, held: Sequence[TreeHead] = (), batch: int = BATCH
) -> LogVerdict:
    """Recompute the tree from every integrated entry, a batch at a time, against the stored
    nodes and every signed tree head (and tree heads kept elsewhere)."""
    check = LogCheck(signature_check(runtime), held)
    heads_to = 0  # heads of sizes up to here were added

    async def add_heads(up_to: int | None) -> bool:
        nonlocal heads_to
        while signed := await store.tree_heads(after_size=heads_to, up_to=up_to, limit=batch):
            heads_to = signed[-1].tree_size
            if not check.add_heads([head_of(row) for row in signed]) or up_to is None:
                return check.problem is None
        return check.problem is None

    after = -1
    while check.problem is None and (
        rows := await store.audit_leaves(after_index=after, limit=batch)
    ):
        start = check.size
        end = start + len(rows)
        if not await add_heads(end):
            break
        stored = await store.audit_nodes_in(new_node_ranges(start, end))
        leaves = [
            Leaf(row.leaf_index or 0, row.seq or 0, leaf_data(entry_content(row))) for row in rows
        ]
        if not check.feed(leaves, stored):
            break
        after = rows[-1].leaf_index or 0
    if check.problem is None:
        await add_heads(None)  # any head past the log's end: one batch is enough to tell
    return check.verdict()
