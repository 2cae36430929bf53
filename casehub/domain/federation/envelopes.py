"""The federation wire protocol's shapes (pure): envelope, header, signing inputs, time window,
and the typed refusals a receiving hub answers with. docs/FEDERATION.md is the specification;
casehub.crypto.federation_envelopes seals, signs, verifies and opens.

An envelope is a JSON object {"v", "protected", "sealed", "signature"}: `protected` is the
unpadded base64url of the header's RFC 8785 (JCS) bytes, `sealed` that of the HPKE output
(enc || ciphertext). Every signed or bound byte is one of these ASCII strings, so a receiver
never re-serializes anything it checks, and the header must already be canonical: two
implementations that agree on JCS agree on every byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import rfc8785

from casehub.domain.requests.receipts import b64url_decode, b64url_encode
from casehub.domain.signatures.shapes import Rule, first_malformed, is_uuid

PROTOCOL = "casehub-federation/1"
ENVELOPE_MAX_BYTES = 1024 * 1024
# The header's JCS text is about 300 bytes; the bound keeps the signing input far below the
# 8 KiB a hub key signs (casehub.crypto.agency_keys.MESSAGE_MAX_BYTES).
PROTECTED_MAX_CHARS = 4096
# A hybrid signature is about 4.5 KB of text (casehub.crypto.agency_keys.SIGNATURE_MAX_CHARS).
SIGNATURE_MAX_CHARS = 6000
# A payload's JSON bytes: sealed and base64url-encoded it must still fit in an envelope.
PAYLOAD_MAX_BYTES = 512 * 1024
# JSON numbers above 2**53 - 1 are not exact in every implementation (RFC 8785 uses doubles).
SEQUENCE_MAX = 2**53 - 1
DEFAULT_WINDOW = timedelta(seconds=300)
HPKE_INFO_PREFIX = PROTOCOL.encode("ascii") + b"\x00"
# ML-KEM-768 ciphertext (1088) + X25519 public (32), then AES-256-GCM's 16-byte tag.
SEALED_MIN_BYTES = 1120 + 16

ENVELOPE_MEMBERS = frozenset({"v", "protected", "sealed", "signature"})
_SENT_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# Dotted lowercase names ("federation.ping"): the area first, so item 3's types group by area.
_TYPE = re.compile(r"[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+")
TYPE_MAX_CHARS = 64


class RefusalCode(StrEnum):
    """Why a receiving hub refused an envelope: the `code` of its JSON error."""

    MALFORMED = "MALFORMED"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    WRONG_RECIPIENT = "WRONG_RECIPIENT"
    UNKNOWN_HUB = "UNKNOWN_HUB"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    OUTSIDE_WINDOW = "OUTSIDE_WINDOW"
    REPLAYED = "REPLAYED"
    UNREADABLE = "UNREADABLE"
    UNKNOWN_TYPE = "UNKNOWN_TYPE"


STATUS: Mapping[RefusalCode, int] = {
    RefusalCode.MALFORMED: 400,
    RefusalCode.TOO_LARGE: 413,
    RefusalCode.UNSUPPORTED_VERSION: 400,
    RefusalCode.WRONG_RECIPIENT: 400,
    RefusalCode.UNKNOWN_HUB: 403,
    RefusalCode.BAD_SIGNATURE: 403,
    RefusalCode.OUTSIDE_WINDOW: 400,
    RefusalCode.REPLAYED: 409,
    RefusalCode.UNREADABLE: 400,
    RefusalCode.UNKNOWN_TYPE: 422,
}


class InboxState(StrEnum):
    """Where an accepted envelope stands in the receiver's inbox (applying messages is the
    later work of issue 16 item 3; for now every accepted envelope is RECEIVED)."""

    RECEIVED = "RECEIVED"


class EnvelopeRefused(Exception):
    """An envelope the receiver will not accept: its code and a message for the sender's
    operator (never anything from the sealed payload)."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status of the refusal."""
        return STATUS[self.code]


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        # Two parsers could keep different duplicates: refuse rather than pick one.
        raise ValueError("duplicate member")
    return found


def strict_json(text: bytes) -> object:
    """The JSON value of UTF-8 bytes, refusing what implementations read differently
    (duplicate members, NaN and Infinity, another encoding, a BOM); ValueError otherwise."""
    try:
        decoded = text.decode("utf-8")
        return json.loads(decoded, object_pairs_hook=_unique_members, parse_constant=_no_constants)
    except (UnicodeDecodeError, RecursionError) as error:
        raise ValueError(str(error)) from None


def format_moment(moment: datetime) -> str:
    """A timezone-aware moment as wire text: UTC, milliseconds, 'Z' (fixed width)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("A wire instant needs a timezone-aware datetime.")
    utc = moment.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_moment(text: object) -> datetime | None:
    """The UTC moment of wire text, or None for anything not written exactly so."""
    if not isinstance(text, str) or not _SENT_AT.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:  # a day or hour that does not exist
        return None


def _sequence(value: object) -> bool:
    # bool is an int in Python; true is no sequence number.
    return type(value) is int and 1 <= value <= SEQUENCE_MAX


def is_message_type(value: object) -> bool:
    """A message type's shape (whether the hub knows it is casehub.domain.federation.payloads)."""
    return isinstance(value, str) and len(value) <= TYPE_MAX_CHARS and bool(_TYPE.fullmatch(value))


HEADER_RULES: Mapping[str, Rule] = {
    "sender": is_uuid,
    "recipient": is_uuid,
    "id": lambda value: isinstance(value, str) and _UUID7.fullmatch(value) is not None,
    "type": is_message_type,
    "conversation": is_uuid,
    "sequence": _sequence,
    "sentAt": lambda value: parse_moment(value) is not None,
}


@dataclass(frozen=True, slots=True)
class Header:
    """What an envelope says in clear, signed by its sender."""

    sender: UUID
    recipient: UUID
    id: UUID
    type: str
    conversation: UUID
    sequence: int
    sent_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The header's JSON members (checked: ValueError when one breaks its rule)."""
        members: dict[str, Any] = {
            "sender": str(self.sender),
            "recipient": str(self.recipient),
            "id": str(self.id),
            "type": self.type,
            "conversation": str(self.conversation),
            "sequence": self.sequence,
            "sentAt": format_moment(self.sent_at),
        }
        bad = first_malformed(members, HEADER_RULES)
        if bad is not None:
            raise ValueError(f"The header's {bad!r} is malformed.")
        return members

    def canonical(self) -> bytes:
        """The header's RFC 8785 bytes: what `protected` encodes and HPKE's info binds."""
        return rfc8785.dumps(self.to_json())


def parse_header(raw: bytes) -> Header:
    """The header of its canonical bytes; MALFORMED unless they are RFC 8785 JCS of exactly
    the header's members, each well formed."""
    try:
        members = strict_json(raw)
    except ValueError:
        raise _malformed("The header is not JSON.") from None
    if not isinstance(members, dict):
        raise _malformed("The header is not a JSON object.")
    bad = first_malformed(members, HEADER_RULES)
    if bad is not None:
        raise _malformed(f"The header's member {bad!r} is missing, unknown or malformed.")
    if rfc8785.dumps(members) != raw:
        raise _malformed("The header is not in RFC 8785 canonical form.")
    sent_at = parse_moment(members["sentAt"])
    assert sent_at is not None  # HEADER_RULES checked it
    return Header(
        sender=UUID(members["sender"]),
        recipient=UUID(members["recipient"]),
        id=UUID(members["id"]),
        type=members["type"],
        conversation=UUID(members["conversation"]),
        sequence=members["sequence"],
        sent_at=sent_at,
    )


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed envelope: its three strings as received and the header they carry."""

    protected: str
    sealed: str
    signature: str
    header: Header

    @property
    def header_bytes(self) -> bytes:
        """The header's canonical bytes (what `protected` decodes to)."""
        raw = b64url_decode(self.protected)
        assert raw is not None  # parse_envelope decoded it
        return raw

    @property
    def sealed_bytes(self) -> bytes:
        """HPKE's enc || ciphertext."""
        raw = b64url_decode(self.sealed)
        assert raw is not None  # parse_envelope decoded it
        return raw

    def signing_input(self) -> bytes:
        """The bytes the sender hub signed (see `signing_input`)."""
        return signing_input(self.protected, self.sealed)

    def to_bytes(self) -> bytes:
        """The envelope as sent: the RFC 8785 bytes of its four members."""
        return envelope_bytes(self.protected, self.sealed, self.signature)


def signing_input(protected: str, sealed: str) -> bytes:
    """What the sender hub signs: the protocol line, the protected header text, and the
    SHA-256 of the sealed text (a hub key signs at most 8 KiB, and the digest binds every byte
    of the sealed part as well as the text itself would)."""
    digest = hashlib.sha256(sealed.encode("ascii")).hexdigest()
    return f"{PROTOCOL}\n{protected}\nsha256:{digest}".encode("ascii")


def hpke_info(header_bytes: bytes) -> bytes:
    """HPKE's info for an envelope: the payload is bound to its header, so a sealed part moved
    under another header does not open."""
    return HPKE_INFO_PREFIX + header_bytes


def envelope_bytes(protected: str, sealed: str, signature: str) -> bytes:
    """An envelope's bytes as a sender writes them (RFC 8785; a receiver takes any JSON)."""
    return rfc8785.dumps(
        {"v": PROTOCOL, "protected": protected, "sealed": sealed, "signature": signature}
    )


def protect(header: Header) -> str:
    """The `protected` text of a header."""
    return b64url_encode(header.canonical())


def digest(body: bytes) -> str:
    """The digest naming an envelope as received: "sha256:" + lowercase hex."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _malformed(message: str) -> EnvelopeRefused:
    return EnvelopeRefused(RefusalCode.MALFORMED, message)


def parse_envelope(body: bytes) -> Envelope:
    """The envelope of a request body, checked in the protocol's order: size, JSON, version,
    then shape and the canonical header. EnvelopeRefused (TOO_LARGE, MALFORMED,
    UNSUPPORTED_VERSION) otherwise."""
    if len(body) > ENVELOPE_MAX_BYTES:
        raise EnvelopeRefused(
            RefusalCode.TOO_LARGE, f"An envelope is at most {ENVELOPE_MAX_BYTES} bytes."
        )
    try:
        members = strict_json(body)
    except ValueError:
        raise _malformed("The body is not JSON (UTF-8, no duplicate members).") from None
    if not isinstance(members, dict):
        raise _malformed("An envelope is a JSON object.")
    version = members.get("v")
    if not isinstance(version, str):
        raise _malformed("An envelope names its protocol version in 'v'.")
    if version != PROTOCOL:
        raise EnvelopeRefused(
            RefusalCode.UNSUPPORTED_VERSION,
            f"Protocol version {version[:64]!r} is not supported; this hub speaks {PROTOCOL!r}.",
        )
    if set(members) != ENVELOPE_MEMBERS or not all(isinstance(v, str) for v in members.values()):
        raise _malformed(
            "An envelope has exactly the string members v, protected, sealed, signature."
        )
    protected, sealed, signature = members["protected"], members["sealed"], members["signature"]
    if len(protected) > PROTECTED_MAX_CHARS or (header_raw := b64url_decode(protected)) is None:
        raise _malformed("'protected' is not unpadded base64url of a header.")
    sealed_raw = b64url_decode(sealed)
    if sealed_raw is None or len(sealed_raw) < SEALED_MIN_BYTES:
        raise _malformed("'sealed' is not unpadded base64url of an HPKE output.")
    if not signature or len(signature) > SIGNATURE_MAX_CHARS:
        raise _malformed("'signature' is empty or too long.")
    return Envelope(protected, sealed, signature, parse_header(header_raw))


def within_window(sent_at: datetime, now: datetime, window: timedelta) -> bool:
    """Whether an envelope sent at `sent_at` is acceptable at `now`: either side of it by at
    most `window` (clocks of two hubs differ; a stale envelope is refused even when unseen)."""
    return abs(now - sent_at) <= window
