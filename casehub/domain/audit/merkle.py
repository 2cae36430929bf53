"""The audit log's Merkle tree, as RFC 9162 (Certificate Transparency v2) §2.1 defines it.

Pure: no I/O. The caller stores the hash of every *perfect* subtree, keyed by `NodeId`
``(level, index)``: the node covers leaves ``[index << level, (index + 1) << level)`` and level 0
holds the leaf hashes. Such a node never changes once its last leaf is appended, so the store is
append-only. Any other hash the RFC needs (a root, the right-hand part of an unbalanced tree) is
the right fold of a few stored nodes: `range_ids` names them, the proof builders fold them.

Proofs are built in two steps so that a database is asked once: `inclusion_ids` /
`consistency_ids` name every node needed, then `inclusion_proof` / `consistency_proof` build the
RFC's PATH and PROOF from the fetched mapping. The verifiers are the RFC's §2.1.3.2 and §2.1.4.2
algorithms and return False, never raise, on malformed input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

NodeId = tuple[int, int]
"""A perfect subtree: (level, index), covering leaves [index << level, (index + 1) << level)."""

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# A range of the tree, [start, end) in leaf indexes.
_Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2): the RFC's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def _decompose(start: int, count: int) -> list[NodeId]:
    """The perfect nodes covering [start, start + count), biggest first (start suitably aligned)."""
    ids: list[NodeId] = []
    for level in range(count.bit_length() - 1, -1, -1):
        if count >> level & 1:
            ids.append((level, start >> level))
            start += 1 << level
    return ids


def frontier_ids(size: int) -> list[NodeId]:
    """The roots of the perfect subtrees a tree of `size` leaves splits into, left to right."""
    _check_size("size", size)
    return _decompose(0, size)


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """The tree hash of consecutive perfect subtrees, biggest first: their right fold.

    MTH splits at the largest power of two below n, and the left part of every split of such a
    range is its first perfect subtree, so MTH = H(s1, H(s2, ... H(s_{k-1}, s_k))).
    """
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1]
    for h in reversed(frontier[:-1]):
        acc = node_hash(h, acc)
    return acc


def _fetch(nodes: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    try:
        value = nodes[node]
    except KeyError:
        raise ValueError(f"the node {node} is missing") from None
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"the node {node} is not a {HASH_SIZE}-byte hash")
    return value


def append(
    size: int, frontier: Mapping[NodeId, bytes], leaves: Sequence[bytes]
) -> tuple[dict[NodeId, bytes], list[bytes]]:
    """Append leaf hashes to a tree of `size` leaves.

    `frontier` must hold the hashes of `frontier_ids(size)` (it may hold more). Returns every
    node completed by the new leaves, the leaves themselves included, and the hashes of
    `frontier_ids(size + len(leaves))` in order. O(len(leaves) + log size): each new leaf merges
    with as many stacked subtrees as its index has trailing one bits.
    """
    _check_size("size", size)
    stack = [_fetch(frontier, node) for node in frontier_ids(size)]
    created: dict[NodeId, bytes] = {}
    for offset, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes) or len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf {size + offset} is not a {HASH_SIZE}-byte leaf hash")
        index = size + offset
        created[(0, index)] = current = leaf
        level = 0
        # A node at `level` completes its parent when it is a right child (odd index).
        while index & 1:
            current = node_hash(stack.pop(), current)
            level += 1
            index >>= 1
            created[(level, index)] = current
        stack.append(current)
    return created, stack


def _check_range(start: int, end: int) -> None:
    _check_size("start", start)
    _check_size("end", end)
    if end < start:
        raise ValueError(f"the range [{start}, {end}) is reversed")
    count = end - start
    if count and start % (1 << (count - 1).bit_length()):
        # Only ranges met by the RFC's recursion are folds of stored perfect nodes.
        raise ValueError(f"the range [{start}, {end}) is not aligned to a subtree")


def range_ids(start: int, end: int) -> list[NodeId]:
    """The stored nodes whose right fold is MTH(D[start:end]), left to right.

    `start` must be a multiple of the smallest power of two >= end - start, as it is for every
    subtree RFC 9162's split reaches (ValueError otherwise). An empty range needs no nodes.
    """
    _check_range(start, end)
    return _decompose(start, end - start)


def _fold(nodes: Mapping[NodeId, bytes], span: _Range) -> bytes:
    return root_from_frontier([_fetch(nodes, node) for node in range_ids(*span)])


def root(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """MTH of the first `size` leaves from the stored nodes; EMPTY_ROOT for size 0."""
    return _fold(nodes, (0, size))


def _inclusion_spans(index: int, size: int) -> list[_Range]:
    """The subtrees whose hashes make PATH(index, D[0:size]), leaf end first."""
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    spans: list[_Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_below(end - start)
        if index < start + k:
            spans.append((start + k, end))
            end = start + k
        else:
            spans.append((start, start + k))
            start += k
    spans.reverse()
    return spans


def _consistency_spans(old_size: int, new_size: int) -> list[_Range]:
    """The subtrees whose hashes make PROOF(old_size, D[0:new_size]), in proof order."""
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size > new_size:
        raise ValueError(f"old size {old_size} is greater than new size {new_size}")
    if old_size in (0, new_size):
        return []
    head: list[_Range] = []
    tail: list[_Range] = []
    start, end = 0, new_size
    whole = True  # SUBPROOF's flag b: the subtree is the old tree's root itself
    while old_size != end:
        k = _largest_power_below(end - start)
        if old_size <= start + k:
            tail.append((start + k, end))
            end = start + k
        else:
            tail.append((start, start + k))
            start += k
            whole = False
    if not whole:
        head.append((start, end))
    return head + tail[::-1]


def _ids_of(spans: list[_Range]) -> list[NodeId]:
    # dict keeps order and drops repeats.
    return list(dict.fromkeys(node for span in spans for node in range_ids(*span)))


def inclusion_ids(index: int, size: int) -> list[NodeId]:
    """Every stored node `inclusion_proof(index, size, ...)` reads; ValueError if out of range."""
    return _ids_of(_inclusion_spans(index, size))


def consistency_ids(old_size: int, new_size: int) -> list[NodeId]:
    """Every stored node `consistency_proof(old_size, new_size, ...)` reads."""
    return _ids_of(_consistency_spans(old_size, new_size))


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) from the stored nodes.

    ValueError when index >= size, either is negative, or a needed node is missing.
    """
    return [_fold(nodes, span) for span in _inclusion_spans(index, size)]


def consistency_proof(old_size: int, new_size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]) from the stored nodes.

    Empty when old_size is 0 or equals new_size; ValueError when old_size > new_size, either
    is negative, or a needed node is missing.
    """
    return [_fold(nodes, span) for span in _consistency_spans(old_size, new_size)]


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_proof(proof: object) -> bool:
    return (
        isinstance(proof, Sequence)
        and not isinstance(proof, (bytes, str))
        and all(_is_hash(p) for p in proof)
    )


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows the leaf hash `leaf` at `index` in the tree of `size` with `root`.

    RFC 9162 §2.1.3.2. False, never an exception, for malformed input.
    """
    if not (_is_hash(leaf) and _is_hash(root) and _is_size(index) and _is_size(size)):
        return False
    if not _is_proof(proof) or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree (new_size, new_root) extends (old_size, old_root).

    RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; from the empty tree,
    an empty proof and old_root == EMPTY_ROOT. False, never an exception, for malformed input.
    """
    if not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root)):
        return False
    if not (_is_hash(new_root) and _is_proof(proof)) or old_size > new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect subtree: its root is the proof's implicit first element.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
