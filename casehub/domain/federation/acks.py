"""The signed acknowledgement a receiving hub answers an accepted envelope with (pure shapes).

Wire: {"v", "ack": base64url(JCS(ack)), "signature"}, the signature by the receiving hub over
b"casehub-federation/1 ack\\n" + the `ack` text. The ack names the envelope by the SHA-256 of
its bytes as received, so the sender holds proof of exactly what arrived, and when.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import rfc8785

from casehub.domain.federation.envelopes import (
    PROTOCOL,
    SIGNATURE_MAX_CHARS,
    format_moment,
    parse_moment,
    strict_json,
)
from casehub.domain.requests.receipts import b64url_decode, b64url_encode
from casehub.domain.signatures.shapes import Rule, first_malformed, is_hex, is_uuid

ACK_CONTEXT = f"{PROTOCOL} ack\n".encode("ascii")
ACK_MAX_BYTES = 16 * 1024
WIRE_MEMBERS = frozenset({"v", "ack", "signature"})
DIGEST_PREFIX = "sha256:"

ACK_RULES: Mapping[str, Rule] = {
    "id": is_uuid,
    "sender": is_uuid,
    "recipient": is_uuid,
    "receivedAt": lambda value: parse_moment(value) is not None,
    "envelope": lambda value: (
        isinstance(value, str)
        and value.startswith(DIGEST_PREFIX)
        and is_hex(value[len(DIGEST_PREFIX) :])
    ),
}


class AckInvalid(ValueError):
    """An acknowledgement that proves nothing: malformed, not the recipient's, or of
    another envelope."""


@dataclass(frozen=True, slots=True)
class Ack:
    """What a receiving hub acknowledged: the envelope's id, sender and recipient, when it was
    received, and the envelope's digest ("sha256:<hex>")."""

    id: UUID
    sender: UUID
    recipient: UUID
    received_at: datetime
    envelope: str

    def canonical(self) -> bytes:
        """The ack's RFC 8785 bytes."""
        return rfc8785.dumps(
            {
                "id": str(self.id),
                "sender": str(self.sender),
                "recipient": str(self.recipient),
                "receivedAt": format_moment(self.received_at),
                "envelope": self.envelope,
            }
        )


def ack_signing_input(ack_text: str) -> bytes:
    """What the receiving hub signs."""
    return ACK_CONTEXT + ack_text.encode("ascii")


def ack_text(ack: Ack) -> str:
    """The `ack` member of an acknowledgement."""
    return b64url_encode(ack.canonical())


def ack_bytes(text: str, signature: str) -> bytes:
    """An acknowledgement's bytes as the receiver answers them (RFC 8785)."""
    return rfc8785.dumps({"v": PROTOCOL, "ack": text, "signature": signature})


def parse_ack(body: bytes) -> tuple[str, str, Ack]:
    """The `ack` text, the signature and the ack of an acknowledgement's bytes; AckInvalid
    when any part is malformed (the signature is crypto's to check)."""
    if len(body) > ACK_MAX_BYTES:
        raise AckInvalid("The acknowledgement is too large.")
    try:
        wire = strict_json(body)
    except ValueError:
        raise AckInvalid("The acknowledgement is not JSON.") from None
    if not isinstance(wire, dict) or set(wire) != WIRE_MEMBERS or wire["v"] != PROTOCOL:
        raise AckInvalid(f"An acknowledgement is {{v: {PROTOCOL!r}, ack, signature}}.")
    text, signature = wire["ack"], wire["signature"]
    if not isinstance(signature, str) or len(signature) > SIGNATURE_MAX_CHARS:
        raise AckInvalid("The acknowledgement's signature is malformed.")
    raw = b64url_decode(text) if isinstance(text, str) and len(text) <= ACK_MAX_BYTES else None
    if raw is None:
        raise AckInvalid("The acknowledgement's 'ack' is not unpadded base64url.")
    try:
        members = strict_json(raw)
    except ValueError:
        raise AckInvalid("The acknowledgement's 'ack' is not JSON.") from None
    if not isinstance(members, dict) or first_malformed(members, ACK_RULES) is not None:
        raise AckInvalid("The acknowledgement's 'ack' does not have the ack's members.")
    if rfc8785.dumps(members) != raw:
        raise AckInvalid("The acknowledgement's 'ack' is not in RFC 8785 canonical form.")
    received_at = parse_moment(members["receivedAt"])
    assert received_at is not None  # ACK_RULES checked it
    ack = Ack(
        id=UUID(members["id"]),
        sender=UUID(members["sender"]),
        recipient=UUID(members["recipient"]),
        received_at=received_at,
        envelope=members["envelope"],
    )
    return text, signature, ack
