"""The audit hash chain: each link's hash covers its content and the previous link's hash.

A chain proves that nothing was edited, inserted, deleted or reordered *before its last link*;
it cannot prove that links were not cut off its end (truncation), nor that an intruder did not
rewrite it from some point on with freshly computed hashes. Both are caught by an anchor: a
link's sequence number and hash copied out of the database (`SEQ:HASH`, printed by `casehub audit
verify`); a later verification that does not find that very link proves the chain was cut or
rewritten.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
_ANCHOR = re.compile(r"([0-9]{1,18}):([0-9a-f]{64})")


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


@dataclass(frozen=True, slots=True)
class Anchor:
    """A link's sequence number and hash, kept outside the database."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read `SEQ:HASH` as `casehub audit verify` prints it; ValueError otherwise."""
        found = _ANCHOR.fullmatch(text.strip().lower())
        if found is None:
            raise ValueError("an anchor is SEQ:HASH, e.g. 42:<64 hexadecimal digits>")
        return cls(int(found[1]), found[2])


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a verification: intact when `problem` is None."""

    checked: int
    head: Anchor | None
    broken: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Whether every link follows and the anchor, if any, was found."""
        return self.problem is None


class ChainCheck:
    """Verifies a chain fed in order, a batch at a time, so a long log never sits in memory."""

    def __init__(self, anchor: Anchor | None = None) -> None:
        self.anchor = anchor
        self.checked = 0
        self.head: Anchor | None = None
        self.broken: int | None = None
        self.problem: str | None = None

    def feed(self, links: Iterable[Link]) -> bool:
        """Check the next links; False once a link is bad (stop feeding)."""
        for link in links:
            self.problem = self._fault(link)
            if self.problem is not None:
                self.broken = link.seq
                return False
            self.checked += 1
            self.head = Anchor(link.seq, link.hash)
        return True

    def _fault(self, link: Link) -> str | None:
        expected = self.head.hash if self.head else GENESIS
        if link.prev_hash != expected or link_hash(link.content, link.prev_hash) != link.hash:
            return (
                f"event {link.seq} does not follow from the one before it "
                "(an event was edited, inserted, deleted or reordered)"
            )
        anchor = self.anchor
        if anchor is None or link.seq < anchor.seq or (self.head and self.head.seq >= anchor.seq):
            return None
        # The first link at or past the anchor's place must be the anchored link itself.
        if link.seq > anchor.seq:
            return f"the anchored event {anchor.seq} is missing (the chain was rewritten)"
        if link.hash != anchor.hash:
            return f"event {link.seq} does not match the anchor {anchor} (the chain was rewritten)"
        return None

    def verdict(self) -> Verdict:
        """The result once every link was fed (or feeding stopped)."""
        problem, anchor, head = self.problem, self.anchor, self.head
        if problem is None and anchor is not None and (head is None or head.seq < anchor.seq):
            end = f"ends at event {head.seq}" if head else "is empty"
            problem = (
                f"the chain {end}, before the anchored event {anchor.seq}: "
                "events were deleted from its end"
            )
        return Verdict(self.checked, self.head, self.broken, problem)
