"""An independent reference for RFC 9162 §2.1 Merkle trees, written from the RFC's text only.

Deliberately naive (recursion over lists of leaves, no stored nodes) and sharing no code with
`casehub.domain.audit.merkle`, so tests that compare the two catch mistakes in either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash_leaf(data: bytes) -> bytes:
    """The leaf hash of raw leaf data: SHA-256(0x00 || data)."""
    return _h(b"\x00" + data)


def hash_children(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return _h(b"\x01" + left + right)


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of raw leaf data, by the RFC's recursive definition."""
    n = len(leaves)
    if n == 0:
        return _h(b"")
    if n == 1:
        return hash_leaf(leaves[0])
    k = _split(n)
    return hash_children(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the inclusion proof of leaf m, by the RFC's recursive definition."""
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): the consistency proof from the first m leaves (0 < m <= n)."""
    return _subproof(m, leaves, True)


def _lsb(x: int) -> bool:
    return x % 2 == 1


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size or index < 0:
        return False
    fn = index
    sn = size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            r = hash_children(p, r)
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn, sn = fn // 2, sn // 2
        else:
            r = hash_children(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, step by step; equal sizes or an empty old tree need an empty proof."""
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == 0:
        return len(proof) == 0
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    # Step 1.
    if len(proof) == 0:
        return False
    path = list(proof)
    # Step 2: "If first is an exact power of 2, then prepend first_hash".
    if bin(old_size).count("1") == 1:
        path = [old_root, *path]
    # Steps 3 and 4.
    fn = old_size - 1
    sn = new_size - 1
    while _lsb(fn):
        fn, sn = fn // 2, sn // 2
    # Step 5.
    fr = path[0]
    sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn, sn = fn // 2, sn // 2
        else:
            sr = hash_children(sr, c)
        fn, sn = fn // 2, sn // 2
    # Step 7.
    return fr == old_root and sr == new_root and sn == 0
