"""The audit hash chain: each link's hash covers its content and the previous link's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def link_hash(content: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of the content and the previous hash."""
    body = json.dumps(
        {"content": content, "prev": prev_hash},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """One stored link as the verifier reads it."""

    seq: int
    content: Mapping[str, Any]
    prev_hash: str
    hash: str


def first_broken(links: Iterable[Link]) -> int | None:
    """The sequence number of the first link that does not follow from the one before."""
    expected_prev = GENESIS
    for link in links:
        if link.prev_hash != expected_prev or link_hash(link.content, link.prev_hash) != link.hash:
            return link.seq
        expected_prev = link.hash
    return None
