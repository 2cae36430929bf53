"""Verifying the audit log: its entries, the stored tree built from them, and the signed tree
heads that commit to it.

The checks, in the order entries are fed (by leaf index):
- leaf indexes run 0, 1, 2, … without a gap (a gap is a deleted entry);
- each entry's content hashes to the leaf hash stored for it (else the entry was edited);
- every stored subtree node equals the one recomputed from the entries (inclusion and
  consistency proofs are served from them);
- at the size of every signed tree head, the recomputed root equals the signed root (else the
  entries before it were rewritten, hashes included), and every signature is the hub's;
- a tree head kept outside the hub (by an agency or an operator) must match the root at its size:
  a different root is a rewritten or forked history, a size past the log's is truncation.

Entries inserted in SQL *without* a leaf index are indistinguishable from new writes: the
sequencer integrates them like any other (an append only, which the heads then commit to).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from casehub.domain.audit import merkle
from casehub.domain.audit.merkle import NodeId
from casehub.domain.audit.tree_head import TreeHead, check_heads, head_statement

Verify = Callable[[str, bytes, str], bool]


def leaf_data(content: Mapping[str, Any]) -> bytes:
    """The bytes an entry's leaf hash covers: the canonical JSON of its content."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def new_node_ranges(start: int, end: int) -> list[tuple[int, int, int]]:
    """(level, first index, last index) of every node completed by appending leaves
    [start, end): node (level, i) completes at (i + 1) << level leaves."""
    ranges = []
    level = 0
    while end >> level:
        first, last = start >> level, (end >> level) - 1
        if last >= first:
            ranges.append((level, first, last))
        level += 1
    return ranges


@dataclass(frozen=True, slots=True)
class Leaf:
    """One integrated entry as the verifier reads it."""

    index: int
    seq: int
    data: bytes


@dataclass(frozen=True, slots=True)
class LogVerdict:
    """The outcome: intact when `problem` is None; `leaf`/`seq` locate the first fault."""

    size: int
    heads: int
    signed_size: int
    problem: str | None = None
    leaf: int | None = None
    seq: int | None = None

    @property
    def intact(self) -> bool:
        """Whether everything checked out."""
        return self.problem is None


@dataclass(frozen=True, slots=True, order=True)
class _Milestone:
    size: int
    held: bool  # kept outside the hub rather than read from its database
    head: TreeHead = field(compare=False)


class LogCheck:
    """Recomputes the tree from entries fed in leaf order, a batch at a time, with the signed
    tree heads up to each batch's end (`add_heads`), so that neither a long log nor its many
    heads sit in memory: only the O(log n) frontier and the heads not yet reached do."""

    def __init__(self, verify: Verify, held: Sequence[TreeHead] = ()) -> None:
        self.size = 0
        self._verify = verify
        self._frontier: dict[NodeId, bytes] = {}
        self._front: list[bytes] = []
        self._heads = 0
        self._last: TreeHead | None = None  # the newest signed head added
        self.problem: str | None = None
        for head in held:
            if self.problem is None and not verify(
                head.key_id, head_statement(head), head.signature
            ):
                self.problem = (
                    f"the tree head you hold (size {head.size}) is not signed by a key of this hub"
                )
        self._leaf: int | None = None
        self._seq: int | None = None
        self._milestones = [_Milestone(head.size, True, head) for head in held]
        heapq.heapify(self._milestones)
        self.problem = self.problem or self._reached(0)

    def add_heads(self, heads: Sequence[TreeHead]) -> bool:
        """Take the next signed heads, in size order; False once one is bad (stop)."""
        if self.problem is None and heads:
            previous = [self._last] if self._last is not None else []
            self.problem = check_heads([*previous, *heads], self._verify)
            self._heads += len(heads)
            self._last = heads[-1]
            for head in heads:
                heapq.heappush(self._milestones, _Milestone(head.size, False, head))
            # Heads are added before the leaves they cover are fed: only one of the current
            # size (the empty log's, or at a batch's end) is due already.
            self.problem = self.problem or self._reached(self.size)
        return self.problem is None

    def feed(self, leaves: Sequence[Leaf], stored: Mapping[NodeId, bytes]) -> bool:
        """Check the next leaves against the stored nodes of their range (`new_node_ranges`);
        False once a fault is found (stop feeding)."""
        for leaf in leaves:
            if self.problem is None:
                self.problem = self._leaf_fault(leaf, stored)
            if self.problem is not None:
                self._leaf = self._leaf if self._leaf is not None else leaf.index
                self._seq = self._seq if self._seq is not None else leaf.seq
                return False
        return True

    def _leaf_fault(self, leaf: Leaf, stored: Mapping[NodeId, bytes]) -> str | None:
        if leaf.index != self.size:
            return f"leaf {self.size} is missing (the entry was deleted, or leaf indexes rewritten)"
        digest = merkle.leaf_hash(leaf.data)
        if stored.get((0, leaf.index)) != digest:
            return f"entry {leaf.seq} (leaf {leaf.index}) was edited after it was logged"
        nodes, self._front = merkle.append(self.size, self._frontier, [digest])
        for node, value in nodes.items():
            if stored.get(node) != value:
                return (
                    f"stored tree node {node} does not match the entries below it "
                    "(proofs served from it would not verify)"
                )
        self._frontier = dict(zip(merkle.frontier_ids(self.size + 1), self._front, strict=True))
        self.size += 1
        return self._reached(self.size)

    def _reached(self, size: int) -> str | None:
        """Check every head of this size against the recomputed root."""
        while self._milestones and self._milestones[0].size == size:
            milestone = heapq.heappop(self._milestones)
            if merkle.root_from_frontier(self._front) == milestone.head.root:
                continue
            self._leaf = max(size - 1, 0)
            if milestone.held:
                return (
                    f"the tree head you hold (size {size}) does not match this log: the first "
                    f"{size} entries were rewritten (a forked or rewritten history)"
                )
            return (
                f"the signed tree head of size {size} does not match the entries: entries "
                f"before leaf {size} were rewritten"
            )
        return None

    def verdict(self) -> LogVerdict:
        """The result once every leaf was fed (or feeding stopped)."""
        problem = self.problem
        if problem is None and self._milestones:
            beyond = self._milestones[0]
            whose = "the tree head you hold" if beyond.held else "a signed tree head"
            problem = (
                f"{whose} has size {beyond.head.size} but the log ends at {self.size}: "
                "entries were deleted from its end"
            )
        signed = self._last.size if self._last else 0
        return LogVerdict(self.size, self._heads, signed, problem, self._leaf, self._seq)
