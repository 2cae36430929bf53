"""Signed receipts for cooperation-request events: a hash chain each link of which is signed.

Each receipt's digest is SHA-256 over the canonical JSON of {"event": event, "prev": prev},
where prev is the previous receipt's digest (GENESIS, 64 zeros, for the first receipt). The
hub signs the 32 raw digest bytes, so either side can verify a chain offline with the hub's
public keys: an edited event, a bad signature, a dropped, reordered or foreign receipt all
break it.

Canonical JSON: object keys sorted, no whitespace, ASCII only (other characters escaped).
Only str, int, bool, None, list and dict with str keys are allowed: no floats (their text form
is not portable), no datetimes (pass `event_timestamp(...)` strings) and no integers beyond
±(2**53 - 1), which JavaScript and most JSON tools cannot represent exactly.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

GENESIS = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1

_DIGEST = re.compile(r"[0-9a-f]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")

SignatureVerifier = Callable[[str, bytes, bytes], bool]
"""verify_signature(key_id, digest_bytes, signature_bytes) -> whether the signature is good."""


class ReceiptSigningKey(Protocol):
    """What issuing a receipt needs from a signing key (casehub.crypto.ReceiptSigner has it)."""

    @property
    def key_id(self) -> str:
        """The public identifier verifiers look the key up by."""

    def sign(self, digest_hex: str) -> str:
        """The base64url (unpadded) signature over the 32 raw bytes of a hex digest."""


def _check(value: object, depth: int, path: str) -> None:
    if depth > 64:
        raise ValueError(f"Event is nested too deeply at {path}.")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(f"Integer at {path} is outside ±(2**53 - 1).")
        return
    if isinstance(value, str):
        _check_text(value, path)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, depth + 1, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"Object key at {path} is {type(key).__name__}, not str.")
            _check_text(key, path)
            _check(item, depth + 1, f"{path}.{key}")
        return
    raise TypeError(f"Value at {path} is {type(value).__name__}, which is not canonical JSON.")


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"Text at {path} holds a lone surrogate.") from None


def canonical_event(event: Mapping[str, object]) -> bytes:
    """The canonical JSON bytes of an event; TypeError for a value JSON cannot carry exactly.

    Raises TypeError for floats, datetimes, tuples, sets, bytes, non-str keys and any other
    non-JSON type; ValueError for integers beyond ±(2**53 - 1), lone surrogates, or nesting
    deeper than 64 levels.
    """
    if not isinstance(event, Mapping):
        raise TypeError(f"An event is a mapping, not {type(event).__name__}.")
    body = dict(event)
    _check(body, 0, "event")
    return json.dumps(
        body,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
        check_circular=False,
    ).encode("ascii")


def receipt_digest(event: Mapping[str, object], prev_digest: str | None) -> str:
    """Hex SHA-256 over canonical {"event": event, "prev": prev_digest or GENESIS}."""
    if not isinstance(event, Mapping):
        raise TypeError(f"An event is a mapping, not {type(event).__name__}.")
    prev = GENESIS if prev_digest is None else prev_digest
    if not isinstance(prev, str) or not _DIGEST.fullmatch(prev):
        raise ValueError("A previous digest is 64 lowercase hex characters.")
    return hashlib.sha256(canonical_event({"event": dict(event), "prev": prev})).hexdigest()


def event_timestamp(moment: datetime) -> str:
    """The canonical text of a moment for an event: ISO-8601 in UTC with 'Z', microseconds."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("An event timestamp needs a timezone-aware datetime.")
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def b64url_decode(text: str) -> bytes | None:
    """Strict unpadded base64url: None for padding, foreign characters or non-canonical text."""
    if not isinstance(text, str) or len(text) % 4 == 1 or not _B64URL.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if b64url_encode(raw) == text else None


def b64url_encode(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Receipt:
    """One signed link: the event, the digest chaining it to the previous receipt, the signature."""

    event: dict[str, object] = field(hash=False)
    prev_digest: str
    digest: str
    signature: str
    key_id: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy: event, prev_digest, digest, signature, key_id."""
        return {
            "event": copy.deepcopy(self.event),
            "prev_digest": self.prev_digest,
            "digest": self.digest,
            "signature": self.signature,
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Receipt:
        """Read what to_dict wrote; ValueError when a field is missing or of the wrong type.

        Only the shape is checked here: whether the receipt is genuine is verify_chain's job.
        """
        if not isinstance(data, Mapping):
            raise ValueError("A receipt is a JSON object.")
        event = data.get("event")
        if not isinstance(event, dict) or not all(isinstance(k, str) for k in event):
            raise ValueError("A receipt's event is a JSON object.")
        texts: list[str] = []
        for name in ("prev_digest", "digest", "signature", "key_id"):
            value = data.get(name)
            if not isinstance(value, str):
                raise ValueError(f"A receipt's {name} is a string.")
            texts.append(value)
        prev_digest, digest, signature, key_id = texts
        return cls(
            event=copy.deepcopy(event),
            prev_digest=prev_digest,
            digest=digest,
            signature=signature,
            key_id=key_id,
        )


def issue_receipt(
    event: Mapping[str, object], prev_digest: str | None, signer: ReceiptSigningKey
) -> Receipt:
    """Chain an event after prev_digest (None for the first receipt) and sign it."""
    prev = GENESIS if prev_digest is None else prev_digest
    digest = receipt_digest(event, prev)
    stored: dict[str, object] = json.loads(canonical_event(event))
    return Receipt(
        event=stored,
        prev_digest=prev,
        digest=digest,
        signature=signer.sign(digest),
        key_id=signer.key_id,
    )


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """ok, how many receipts verified, and the index and reason of the first that did not."""

    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None


def _first_problem(receipt: Receipt, expected_prev: str, verify: SignatureVerifier) -> str | None:
    if receipt.prev_digest != expected_prev:
        if expected_prev == GENESIS:
            return "the first receipt does not start at the genesis digest"
        return "prev_digest is not the previous receipt's digest (dropped, reordered or foreign)"
    try:
        recomputed = receipt_digest(receipt.event, receipt.prev_digest)
    except (TypeError, ValueError) as exc:
        return f"the event is not canonical JSON: {exc}"
    if recomputed != receipt.digest:
        return "the digest does not match the event (edited event or digest)"
    if not isinstance(receipt.key_id, str) or not receipt.key_id:
        return "the receipt names no key id"
    signature = b64url_decode(receipt.signature)
    if signature is None:
        return "the signature is not unpadded base64url"
    if verify(receipt.key_id, bytes.fromhex(receipt.digest), signature) is not True:
        return f"the signature does not verify with key {receipt.key_id!r} (bad or unknown key)"
    return None


def verify_chain(
    receipts: Sequence[Receipt], verify_signature: SignatureVerifier
) -> VerificationResult:
    """Verify a whole chain in list order; the first receipt must chain from GENESIS.

    first_bad is the index at which the chain first breaks: for a receipt dropped from the
    middle or swapped for another chain's, that is the receipt after the gap. The check also
    cannot tell which request a chain belongs to: put the request id in every event and
    compare it. An empty chain verifies (ok, checked=0).
    """
    expected_prev = GENESIS
    for index, receipt in enumerate(receipts):
        problem = _first_problem(receipt, expected_prev, verify_signature)
        if problem is not None:
            return VerificationResult(ok=False, checked=index, first_bad=index, reason=problem)
        expected_prev = receipt.digest
    return VerificationResult(ok=True, checked=len(receipts))
