"""The audit log's RFC 9162 Merkle tree: published vectors, an independent reference, tampering."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Mapping

import pytest

from casehub.domain.audit.merkle import (
    EMPTY_ROOT,
    NodeId,
    append,
    consistency_ids,
    consistency_proof,
    frontier_ids,
    inclusion_ids,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_ids,
    root,
    root_from_frontier,
    verify_consistency,
    verify_inclusion,
)
from tests import rfc9162 as ref

# --- Known answers ------------------------------------------------------------------------------
# Copied from transparency-dev/merkle (Apache-2.0), the successor of Google's
# certificate-transparency merkletree tests: testonly/constants.go (LeafInputs, NodeHashes,
# RootHashes, CompactTrees) and proof/verify_test.go (inclusionProofs, consistencyProofs).

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# Indexed by tree size, 0..8.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# CompactTrees(): the frontier of each size as (level, index) into NODE_HASHES.
FRONTIERS: list[tuple[int, list[NodeId]]] = [
    (0, []),
    (1, [(0, 0)]),
    (2, [(1, 0)]),
    (3, [(1, 0), (0, 2)]),
    (4, [(2, 0)]),
    (5, [(2, 0), (0, 4)]),
    (6, [(2, 0), (1, 2)]),
    (7, [(2, 0), (1, 2), (0, 6)]),
    (8, [(3, 0)]),
]

# inclusionProofs: verify_test.go numbers leaves from 1; these indexes are from 0.
INCLUSION: list[tuple[int, int, list[str]]] = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

CONSISTENCY: list[tuple[int, int, list[str]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def build(data: list[bytes]) -> tuple[dict[NodeId, bytes], list[bytes]]:
    """Every stored node and the frontier of a tree of `data`, appended one leaf at a time."""
    nodes: dict[NodeId, bytes] = {}
    frontier: list[bytes] = []
    for size, item in enumerate(data):
        known = dict(zip(frontier_ids(size), frontier, strict=True))
        created, frontier = append(size, known, [leaf_hash(item)])
        assert not created.keys() & nodes.keys()
        nodes.update(created)
    return nodes, frontier


class Recording(Mapping[NodeId, bytes]):
    """A node store that remembers which nodes were read."""

    def __init__(self, nodes: dict[NodeId, bytes]) -> None:
        self.nodes = nodes
        self.read: set[NodeId] = set()

    def __getitem__(self, key: NodeId) -> bytes:
        value = self.nodes[key]
        self.read.add(key)
        return value

    def __iter__(self) -> Iterator[NodeId]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)


KNOWN_NODES, _ = build(LEAVES)

# A bigger tree of arbitrary data for the exhaustive checks.
DATA = [hashlib.sha256(str(i).encode()).digest()[: i % 7] for i in range(70)]
NODES, _ = build(DATA)
LEAF_HASHES = [leaf_hash(d) for d in DATA]
MTH = [ref.mth(DATA[:n]) for n in range(len(DATA) + 1)]


def test_hash_constructions():
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = bytes(32), bytes(range(32))
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


def test_stored_nodes_are_the_published_node_hashes():
    expected = {
        (level, index): h for level, row in enumerate(NODE_HASHES) for index, h in enumerate(row)
    }
    assert {node: h.hex() for node, h in KNOWN_NODES.items()} == expected


@pytest.mark.parametrize("size", range(9))
def test_roots_match_published_roots(size):
    assert root(size, KNOWN_NODES).hex() == ROOTS[size]
    assert ref.mth(LEAVES[:size]).hex() == ROOTS[size]
    _, frontier = build(LEAVES[:size])
    assert root_from_frontier(frontier).hex() == ROOTS[size]


@pytest.mark.parametrize(("size", "ids"), FRONTIERS)
def test_frontier_ids_match_published_compact_trees(size, ids):
    assert frontier_ids(size) == ids
    _, frontier = build(LEAVES[:size])
    assert frontier == [KNOWN_NODES[node] for node in ids]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_published_vectors(index, size, expected):
    proof = inclusion_proof(index, size, KNOWN_NODES)
    assert hexes(proof) == expected
    root_hash = bytes.fromhex(ROOTS[size])
    leaf = leaf_hash(LEAVES[index])
    assert verify_inclusion(leaf, index, size, proof, root_hash)
    assert ref.verify_inclusion(leaf, index, size, proof, root_hash)


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY)
def test_consistency_proofs_match_published_vectors(old, new, expected):
    proof = consistency_proof(old, new, KNOWN_NODES)
    assert hexes(proof) == expected
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert ref.verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(
    ("start", "end", "ids"),
    [
        (0, 0, []),
        (5, 5, []),
        (0, 1, [(0, 0)]),
        (0, 8, [(3, 0)]),
        (0, 7, [(2, 0), (1, 2), (0, 6)]),
        (4, 7, [(1, 2), (0, 6)]),
        (4, 6, [(1, 2)]),
        (6, 7, [(0, 6)]),
        (8, 13, [(2, 2), (0, 12)]),
        (16, 32, [(4, 1)]),
    ],
)
def test_range_ids(start, end, ids):
    assert range_ids(start, end) == ids


@pytest.mark.parametrize(
    ("start", "end"),
    [(1, 3), (2, 5), (4, 9), (3, 5), (-1, 0), (3, 2)],
)
def test_range_ids_refuses_ranges_the_rfc_never_splits_into(start, end):
    with pytest.raises(ValueError, match=r"range|non-negative"):
        range_ids(start, end)


def test_inclusion_every_leaf_of_every_size_matches_the_reference():
    for size in range(1, len(DATA) + 1):
        for index in range(size):
            ids = inclusion_ids(index, size)
            assert all((i + 1) << level <= size for level, i in ids)
            store = Recording({node: NODES[node] for node in ids})
            proof = inclusion_proof(index, size, store)
            assert store.read == set(ids), "inclusion_ids names exactly the nodes read"
            assert proof == ref.path(index, DATA[:size])
            leaf = LEAF_HASHES[index]
            assert verify_inclusion(leaf, index, size, proof, MTH[size])
            assert ref.verify_inclusion(leaf, index, size, proof, MTH[size])


def test_consistency_every_pair_matches_the_reference():
    for new in range(0, 41):
        for old in range(0, new + 1):
            ids = consistency_ids(old, new)
            assert all((i + 1) << level <= new for level, i in ids)
            store = Recording({node: NODES[node] for node in ids})
            proof = consistency_proof(old, new, store)
            assert store.read == set(ids), "consistency_ids names exactly the nodes read"
            if old > 0:
                assert proof == ref.proof(old, DATA[:new])
            else:
                assert proof == []
            assert verify_consistency(old, new, MTH[old], MTH[new], proof)
            assert ref.verify_consistency(old, new, MTH[old], MTH[new], proof)


@pytest.mark.parametrize("size", range(len(DATA) + 1))
def test_root_from_stored_nodes(size):
    ids = range_ids(0, size)
    assert root(size, {node: NODES[node] for node in ids}) == MTH[size]


@pytest.mark.parametrize("seed", range(12))
def test_appending_in_batches_equals_appending_one_by_one(seed):
    rng = random.Random(seed)
    nodes: dict[NodeId, bytes] = {}
    frontier: list[bytes] = []
    size = 0
    while size < len(DATA):
        batch = LEAF_HASHES[size : size + rng.choice([0, 1, 2, 3, 5, 8, 13, 21])]
        # The frontier may come from a store holding more than the frontier.
        known = dict(nodes)
        known.update(zip(frontier_ids(size), frontier, strict=True))
        created, frontier = append(size, known, batch)
        assert not created.keys() & nodes.keys()
        nodes.update(created)
        size += len(batch)
        assert frontier == [NODES[node] for node in frontier_ids(size)]
        assert root_from_frontier(frontier) == MTH[size]
    assert nodes == NODES


def test_append_costs_log_size_not_size():
    size = 2**40 - 1  # 40 perfect subtrees; one more leaf merges them all
    frontier = {node: bytes([node[0]]) * 32 for node in frontier_ids(size)}
    created, new_frontier = append(size, frontier, [leaf_hash(b"x")])
    assert set(created) == {(level, size >> level) for level in range(41)}
    assert frontier_ids(size + 1) == [(40, 0)]
    assert len(new_frontier) == 1
    assert new_frontier[0] == created[(40, 0)]


def test_append_nothing_changes_nothing():
    frontier = {node: NODES[node] for node in frontier_ids(13)}
    created, new_frontier = append(13, frontier, [])
    assert created == {}
    assert new_frontier == [NODES[node] for node in frontier_ids(13)]


@pytest.mark.parametrize(
    ("size", "frontier", "leaves", "message"),
    [
        (3, {(1, 0): bytes(32)}, [bytes(32)], r"node \(0, 2\) is missing"),
        (1, {(0, 0): b"short"}, [bytes(32)], "not a 32-byte hash"),
        (0, {}, [b"raw leaf data"], "leaf 0 is not a 32-byte leaf hash"),
        (0, {}, ["text"], "leaf 0"),
        (-1, {}, [], "non-negative"),
    ],
)
def test_append_refuses_bad_input(size, frontier, leaves, message):
    with pytest.raises(ValueError, match=message):
        append(size, frontier, leaves)


@pytest.mark.parametrize(
    ("index", "size"),
    [(0, 0), (5, 5), (6, 5), (-1, 5), (0, -1), (True, 2)],
)
def test_inclusion_refuses_out_of_range(index, size):
    with pytest.raises(ValueError, match=r"not in a tree|non-negative"):
        inclusion_ids(index, size)
    with pytest.raises(ValueError, match=r"not in a tree|non-negative"):
        inclusion_proof(index, size, NODES)


@pytest.mark.parametrize(("old", "new"), [(6, 5), (1, 0), (-1, 3), (2, -1)])
def test_consistency_refuses_out_of_range(old, new):
    with pytest.raises(ValueError, match=r"greater than|non-negative"):
        consistency_ids(old, new)
    with pytest.raises(ValueError, match=r"greater than|non-negative"):
        consistency_proof(old, new, NODES)


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 9), (9, 9)])
def test_trivial_consistency_proofs_are_empty(old, new):
    assert consistency_ids(old, new) == []
    assert consistency_proof(old, new, {}) == []


def test_missing_node_is_a_value_error():
    nodes = dict(NODES)
    del nodes[(0, 4)]
    with pytest.raises(ValueError, match=r"node \(0, 4\) is missing"):
        inclusion_proof(5, 8, nodes)
    with pytest.raises(ValueError, match="missing"):
        root(5, nodes)


def test_large_trees_need_few_nodes():
    size = 2**40 + 2**20 + 3
    assert len(inclusion_ids(2**40 + 7, size)) <= 2 * 41
    assert len(consistency_ids(2**39 + 5, size)) <= 2 * 41
    assert range_ids(0, size) == [(40, 0), (20, 2**20), (1, (2**40 + 2**20) >> 1), (0, size - 1)]


# --- Tampering ----------------------------------------------------------------------------------

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def flipped(proof: list[bytes], i: int) -> list[bytes]:
    changed = bytearray(proof[i])
    changed[0] ^= 8
    return [*proof[:i], bytes(changed), *proof[i + 1 :]]


# After transparency-dev/merkle proof/verify_test.go corruptInclusionProof. A size one bigger is
# left out on purpose: a proof binds the tree's shape only along its path, so e.g. leaf 0's proof
# in a tree of 3 also verifies in a tree of 4 whose last subtree hashes to leaf 2's hash.
def inclusion_tamperings(index, size, proof, leaf, root_hash):
    yield index - 1, size, proof, leaf, root_hash
    yield index + 1, size, proof, leaf, root_hash
    yield index ^ 2, size, proof, leaf, root_hash
    yield index, size * 2, proof, leaf, root_hash
    yield index, size // 2, proof, leaf, root_hash
    yield index, size, proof, SOME_HASH, root_hash
    yield index, size, proof, leaf, SOME_HASH
    yield index, size, proof, leaf, EMPTY_ROOT
    yield index, size, [*proof, root_hash], leaf, root_hash
    yield index, size, [root_hash, *proof], leaf, root_hash
    yield index, size, [*proof, SOME_HASH], leaf, root_hash
    for i in range(len(proof)):
        yield index, size, flipped(proof, i), leaf, root_hash
    if proof:
        yield index, size, proof[:-1], leaf, root_hash
    if len(proof) > 1:
        yield index, size, [proof[0], SOME_HASH, *proof[1:]], leaf, root_hash
        yield index, size, proof[::-1], leaf, root_hash


def test_tampered_inclusion_proofs_fail():
    for size in range(1, 34):
        for index in range(size):
            proof = inclusion_proof(index, size, NODES)
            for probe in inclusion_tamperings(index, size, proof, LEAF_HASHES[index], MTH[size]):
                i, n, p, leaf, r = probe
                assert not verify_inclusion(leaf, i, n, p, r), (index, size, probe)
                assert not ref.verify_inclusion(leaf, i, n, p, r), (index, size, probe)


# After corruptConsistencyProof in the same file.
def consistency_tamperings(old, new, proof, old_root, new_root):
    yield old - 1, new, old_root, new_root, proof
    yield old + 1, new, old_root, new_root, proof
    yield old ^ 2, new, old_root, new_root, proof
    yield old, new * 2, old_root, new_root, proof
    yield old, new // 2, old_root, new_root, proof
    yield old, new, SOME_HASH, new_root, proof
    yield old, new, old_root, SOME_HASH, proof
    yield old, new, new_root, old_root, proof
    yield old, new, old_root, new_root, []
    yield old, new, old_root, new_root, [*proof, old_root]
    yield old, new, old_root, new_root, [*proof, new_root]
    yield old, new, old_root, new_root, [old_root, *proof]
    yield old, new, old_root, new_root, [new_root, *proof]
    yield old, new, old_root, new_root, [proof[0], *proof]
    yield old, new, old_root, new_root, proof[:-1]
    for i in range(len(proof)):
        yield old, new, old_root, new_root, flipped(proof, i)


def test_tampered_consistency_proofs_fail():
    for new in range(2, 34):
        for old in range(1, new):
            proof = consistency_proof(old, new, NODES)
            for probe in consistency_tamperings(old, new, proof, MTH[old], MTH[new]):
                m, n, r1, r2, p = probe
                assert not verify_consistency(m, n, r1, r2, p), (old, new, probe)
                if 0 <= m <= n:
                    assert not ref.verify_consistency(m, n, r1, r2, p), (old, new, probe)


# --- Malformed input never raises ---------------------------------------------------------------

GOOD_LEAF = LEAF_HASHES[5]
GOOD_PROOF = inclusion_proof(5, 8, NODES)
ROOT8 = MTH[8]


@pytest.mark.parametrize(
    ("leaf", "index", "size", "proof", "root_hash"),
    [
        (GOOD_LEAF[:31], 5, 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF + b"\x00", 5, 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF.hex(), 5, 8, GOOD_PROOF, ROOT8),
        (None, 5, 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, 5, 8, GOOD_PROOF, ROOT8[:16]),
        (GOOD_LEAF, 5, 8, GOOD_PROOF, None),
        (GOOD_LEAF, -1, 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, 5.0, 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, "5", 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, 5, None, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, 8, 8, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, 0, 0, [], EMPTY_ROOT),
        (GOOD_LEAF, 5, 8, None, ROOT8),
        (GOOD_LEAF, 5, 8, b"".join(GOOD_PROOF), ROOT8),
        (GOOD_LEAF, 5, 8, [h.hex() for h in GOOD_PROOF], ROOT8),
        (GOOD_LEAF, 5, 8, [*GOOD_PROOF[:2], GOOD_PROOF[2][:31]], ROOT8),
        (GOOD_LEAF, 5, 8, [*GOOD_PROOF, b""], ROOT8),
        (GOOD_LEAF, 5, 2**80, GOOD_PROOF, ROOT8),
        (GOOD_LEAF, 5, 8, GOOD_PROOF * 40, ROOT8),
        (GOOD_LEAF, 0, 1, [], None),
    ],
)
def test_verify_inclusion_returns_false_on_malformed_input(leaf, index, size, proof, root_hash):
    assert verify_inclusion(leaf, index, size, proof, root_hash) is False


def test_bools_are_not_sizes():
    one = leaf_hash(b"x")
    assert verify_inclusion(one, 0, 1, [], one) is True
    assert verify_inclusion(one, False, True, [], one) is False
    assert verify_consistency(True, True, one, one, []) is False


C_PROOF = consistency_proof(6, 8, NODES)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (6, 8, MTH[6][:31], ROOT8, C_PROOF),
        (6, 8, MTH[6], ROOT8.hex(), C_PROOF),
        (6, 8, MTH[6], ROOT8, None),
        (6, 8, MTH[6], ROOT8, b"".join(C_PROOF)),
        (6, 8, MTH[6], ROOT8, [*C_PROOF[:2], C_PROOF[2][:31]]),
        (6, 8, MTH[6], ROOT8, [*C_PROOF, b"\x00" * 33]),
        (8, 6, ROOT8, MTH[6], C_PROOF),
        (-1, 8, MTH[6], ROOT8, C_PROOF),
        ("6", 8, MTH[6], ROOT8, C_PROOF),
        (6, 2**80, MTH[6], ROOT8, C_PROOF),
        (6, 8, MTH[6], ROOT8, C_PROOF * 30),
        (0, 8, SOME_HASH, ROOT8, []),  # the empty tree's root is fixed
        (0, 8, EMPTY_ROOT, ROOT8, [EMPTY_ROOT]),
        (0, 0, EMPTY_ROOT, SOME_HASH, []),
        (8, 8, ROOT8, ROOT8, [ROOT8]),
        (8, 8, ROOT8, SOME_HASH, []),
        (4, 8, MTH[4], ROOT8, []),
    ],
)
def test_verify_consistency_returns_false_on_malformed_input(old, new, old_root, new_root, proof):
    assert verify_consistency(old, new, old_root, new_root, proof) is False


def test_consistency_from_the_empty_tree():
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 8, EMPTY_ROOT, ROOT8, [])
