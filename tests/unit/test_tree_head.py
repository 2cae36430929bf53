"""Signed tree heads: the exact signed bytes, the JSON form and the chain of heads."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

import pytest

from casehub.domain.audit.tree_head import (
    TreeHead,
    check_heads,
    from_json,
    head_statement,
    statement,
    to_json,
)

ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
KEY = "0123456789abcdef"


def test_statement_known_answer():
    expected = (
        b'{"keyId":"0123456789abcdef","log":"casehub-audit-v1",'
        b'"rootHash":"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",'
        b'"timestamp":1700000000000,"treeSize":8}'
    )
    assert statement(8, ROOT, 1_700_000_000_000, KEY) == expected


def test_statement_of_the_empty_tree():
    empty = hashlib.sha256(b"").digest()
    assert statement(0, empty, 0, "k") == (
        b'{"keyId":"k","log":"casehub-audit-v1","rootHash":"'
        + empty.hex().encode()
        + b'","timestamp":0,"treeSize":0}'
    )


@pytest.mark.parametrize(
    ("size", "root", "timestamp", "key_id", "message"),
    [
        (-1, ROOT, 0, KEY, "treeSize"),
        (2**53, ROOT, 0, KEY, "treeSize"),
        (True, ROOT, 0, KEY, "treeSize"),
        (8, ROOT[:31], 0, KEY, "rootHash"),
        (8, ROOT.hex(), 0, KEY, "rootHash"),
        (8, ROOT, -5, KEY, "timestamp"),
        (8, ROOT, 1.5, KEY, "timestamp"),
        (8, ROOT, 0, "", "keyId"),
        (8, ROOT, 0, "clé", "keyId"),
        (8, ROOT, 0, "a b", "keyId"),
    ],
)
def test_statement_refuses_fields_out_of_range(size, root, timestamp, key_id, message):
    with pytest.raises(ValueError, match=message):
        statement(size, root, timestamp, key_id)


def fake_sign(key_id: str, message: bytes) -> str:
    """A stand-in for Ed25519: 64 bytes, so 86 unpadded base64url characters."""
    digest = hashlib.sha512(key_id.encode() + b"|" + message).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def fake_verify(key_id: str, message: bytes, signature: str) -> bool:
    return signature == fake_sign(key_id, message)


def signed(size: int, timestamp_ms: int = 1_700_000_000_000, key_id: str = KEY) -> TreeHead:
    root = hashlib.sha256(str(size).encode()).digest()
    sig = fake_sign(key_id, statement(size, root, timestamp_ms, key_id))
    return TreeHead(size, root, timestamp_ms, key_id, sig)


def test_json_round_trip():
    head = signed(8)
    data = to_json(head)
    assert data == {
        "treeSize": 8,
        "rootHash": head.root.hex(),
        "timestamp": 1_700_000_000_000,
        "keyId": KEY,
        "signature": head.signature,
    }
    assert from_json(data) == head
    draft = dataclasses.replace(head, signature="")
    assert from_json(to_json(draft)) == draft


GOOD = to_json(signed(8))


def changed(**fields: object) -> dict[str, object]:
    return {**GOOD, **fields}


def without(key: str) -> dict[str, object]:
    return {k: v for k, v in GOOD.items() if k != key}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([GOOD], "JSON object"),
        (None, "JSON object"),
        (without("treeSize"), "lacks treeSize"),
        (without("signature"), "lacks signature"),
        ({}, "lacks treeSize, rootHash, timestamp, keyId, signature"),
        (changed(extra=1), "unknown keys: extra"),
        (changed(rootHash=ROOT.hex().upper()), "rootHash"),
        (changed(rootHash=ROOT.hex()[:62]), "rootHash"),
        (changed(rootHash="zz" * 32), "rootHash"),
        (changed(rootHash=list(ROOT)), "rootHash"),
        (changed(treeSize=-1), "treeSize"),
        (changed(treeSize=True), "treeSize"),
        (changed(treeSize="8"), "treeSize"),
        (changed(treeSize=8.0), "treeSize"),
        (changed(treeSize=2**53), "treeSize"),
        (changed(timestamp=False), "timestamp"),
        (changed(timestamp=-1), "timestamp"),
        (changed(timestamp="2024-01-01"), "timestamp"),
        (changed(keyId=""), "keyId"),
        (changed(keyId=7), "keyId"),
        (changed(keyId="k\u00e9y"), "keyId"),
        (changed(signature=None), "signature"),
        (changed(signature=str(GOOD["signature"]) + "=="), "signature"),
        (changed(signature=str(GOOD["signature"])[:85]), "signature"),
        (changed(signature="+" * 86), "signature"),
    ],
)
def test_from_json_refuses_malformed_input(data, message):
    with pytest.raises(ValueError, match=message):
        from_json(data)


def test_check_heads_accepts_a_good_sequence():
    assert check_heads([], fake_verify) is None
    assert check_heads([signed(1), signed(2), signed(8), signed(100)], fake_verify) is None


def test_check_heads_passes_the_statement_to_verify():
    seen: list[tuple[str, bytes, str]] = []

    def record(key_id: str, message: bytes, signature: str) -> bool:
        seen.append((key_id, message, signature))
        return True

    head = signed(3)
    assert check_heads([head], record) is None
    assert seen == [(KEY, head_statement(head), head.signature)]


@pytest.mark.parametrize(
    ("heads", "message"),
    [
        (
            [signed(1), dataclasses.replace(signed(2), signature=signed(3).signature), signed(4)],
            "size 2 has a bad signature",
        ),
        ([signed(1), dataclasses.replace(signed(5), size=6)], "size 6 has a bad signature"),
        ([dataclasses.replace(signed(5), key_id="other")], "size 5 has a bad signature"),
        ([dataclasses.replace(signed(5), timestamp_ms=1)], "size 5 has a bad signature"),
        ([signed(1), dataclasses.replace(signed(2), signature="")], "size 2 is not signed"),
        ([signed(3), signed(3)], "size 3 follows one of size 3"),
        ([signed(1), signed(5), signed(4), signed(9)], "size 4 follows one of size 5"),
        ([dataclasses.replace(signed(5), root=b"short")], "size 5 is malformed"),
    ],
)
def test_check_heads_names_the_first_bad_head(heads, message):
    problem = check_heads(heads, fake_verify)
    assert problem is not None
    assert message in problem
