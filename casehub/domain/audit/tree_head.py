"""Signed tree heads of the audit log's Merkle tree: their signed bytes, JSON form and checks.

Pure: no I/O and no keys. Signing lives in casehub.crypto; checking takes a `verify` callable
``(key_id, message, signature) -> bool`` so this module never sees key material.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

LOG_ID = "casehub-audit-v1"

# Every integer in a statement stays below 2**53, where JSON numbers are exact (RFC 8785 §3.2.2.3).
_MAX_INT = 2**53 - 1
_ROOT_HEX = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[\x21-\x7e]{1,128}")
# Unpadded base64url of a 64-byte Ed25519 signature is 86 characters.
_SIGNATURE = re.compile(r"(?:[A-Za-z0-9_-]{86})?")
_FIELDS = ("treeSize", "rootHash", "timestamp", "keyId", "signature")

Verify = Callable[[str, bytes, str], bool]


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A tree size and root hash at a moment, signed by a log key (signature "" for a draft)."""

    size: int
    root: bytes
    timestamp_ms: int
    key_id: str
    signature: str


def _check(size: object, root: object, timestamp_ms: object, key_id: object) -> None:
    # bool is an int subclass: True must not pass for a size of 1.
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_INT:
        raise ValueError(f"treeSize must be an integer from 0 to 2**53 - 1, not {size!r}")
    if not isinstance(root, bytes) or len(root) != 32:
        raise ValueError("rootHash must be a 32-byte SHA-256 hash")
    if (
        isinstance(timestamp_ms, bool)
        or not isinstance(timestamp_ms, int)
        or not 0 <= timestamp_ms <= _MAX_INT
    ):
        raise ValueError(
            f"timestamp must be an integer from 0 to 2**53 - 1 ms, not {timestamp_ms!r}"
        )
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("keyId must be 1 to 128 printable ASCII characters without spaces")


def statement(size: int, root: bytes, timestamp_ms: int, key_id: str) -> bytes:
    """The bytes a tree head's signature covers: its canonical JSON, UTF-8.

    ValueError for a field out of range. The fields are integers below 2**53 and printable
    ASCII strings, for which json.dumps with sorted keys, no spaces and ensure_ascii produces
    exactly the RFC 8785 (JCS) serialization, so no JCS library is needed.
    """
    _check(size, root, timestamp_ms, key_id)
    body = {
        "log": LOG_ID,
        "keyId": key_id,
        "rootHash": root.hex(),
        "timestamp": timestamp_ms,
        "treeSize": size,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def head_statement(head: TreeHead) -> bytes:
    """The signed bytes of a tree head."""
    return statement(head.size, head.root, head.timestamp_ms, head.key_id)


def to_json(head: TreeHead) -> dict[str, object]:
    """The JSON object of a tree head (root as lowercase hex)."""
    return {
        "treeSize": head.size,
        "rootHash": head.root.hex(),
        "timestamp": head.timestamp_ms,
        "keyId": head.key_id,
        "signature": head.signature,
    }


def from_json(data: object) -> TreeHead:
    """A tree head from its JSON object; ValueError naming the fault for anything malformed.

    Exactly the five keys of `to_json` are accepted: rootHash 64 lowercase hex digits, sizes and
    timestamps non-negative integers below 2**53 (not booleans), signature empty or the 86
    characters of an unpadded base64url Ed25519 signature.
    """
    if not isinstance(data, Mapping):
        raise ValueError("a tree head must be a JSON object")
    missing = [key for key in _FIELDS if key not in data]
    if missing:
        raise ValueError(f"a tree head lacks {', '.join(missing)}")
    extra = sorted(str(key) for key in data if key not in _FIELDS)
    if extra:
        raise ValueError(f"a tree head has unknown keys: {', '.join(extra)}")
    root_hex = data["rootHash"]
    if not isinstance(root_hex, str) or not _ROOT_HEX.fullmatch(root_hex):
        raise ValueError("rootHash must be 64 lowercase hexadecimal digits")
    signature = data["signature"]
    if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
        raise ValueError("signature must be empty or an unpadded base64url Ed25519 signature")
    size, timestamp_ms, key_id = data["treeSize"], data["timestamp"], data["keyId"]
    root = bytes.fromhex(root_hex)
    _check(size, root, timestamp_ms, key_id)
    return TreeHead(size, root, timestamp_ms, key_id, signature)


def check_heads(heads: Sequence[TreeHead], verify: Verify) -> str | None:
    """None when every head is validly signed and sizes strictly increase; else the first fault.

    `verify(key_id, message, signature)` checks one signature and must return a bool.
    """
    previous: TreeHead | None = None
    for head in heads:
        if not head.signature:
            return f"the tree head of size {head.size} is not signed"
        try:
            message = head_statement(head)
        except ValueError as exc:
            return f"the tree head of size {head.size} is malformed: {exc}"
        if verify(head.key_id, message, head.signature) is not True:
            return f"the tree head of size {head.size} has a bad signature"
        if previous is not None and head.size <= previous.size:
            return (
                f"the tree head of size {head.size} follows one of size {previous.size}: "
                "sizes must strictly increase"
            )
        previous = head
    return None
