"""Federation envelopes and acknowledgements: sealing and signing, verifying and opening.

HPKE (RFC 9180) single-shot, base mode: KEM ML-KEM-768 + X25519 (the hybrid of
draft-ietf-hpke-pq), KDF HKDF-SHA256, AEAD AES-256-GCM; info = b"casehub-federation/1\\x00" +
the header's RFC 8785 bytes, so the payload opens only under the header it was sealed with.
The sender hub signs the envelope (casehub.domain.federation.envelopes.signing_input), the
receiver signs its acknowledgement; both with their hybrid hub keys (casehub.crypto.hub_identity).
docs/FEDERATION.md is the specification.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import rfc8785
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from casehub.crypto.hub_identity import HubIdentity, HubPublicIdentity
from casehub.domain.federation.acks import (
    Ack,
    AckInvalid,
    ack_bytes,
    ack_signing_input,
    ack_text,
    parse_ack,
)
from casehub.domain.federation.envelopes import (
    PAYLOAD_MAX_BYTES,
    Envelope,
    EnvelopeRefused,
    Header,
    RefusalCode,
    digest,
    envelope_bytes,
    hpke_info,
    parse_envelope,
    protect,
    signing_input,
)
from casehub.domain.ids import new_id
from casehub.domain.requests.receipts import b64url_encode

# Base mode, as the spec names it; no pre-shared key, no sender key: the signature is what
# authenticates the sender hub (and, unlike HPKE's auth mode, a hybrid post-quantum one).
SUITE = Suite(KEM.MLKEM768_X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def seal_envelope(
    sender: HubIdentity,
    recipient: HubPublicIdentity,
    *,
    type: str,  # the header member's name, as the spec's interface has it
    conversation: UUID,
    sequence: int,
    payload: dict[str, Any],
    message_id: UUID | None = None,
    sent_at: datetime | None = None,
) -> bytes:
    """The envelope's bytes: `payload` sealed to the recipient hub under a header naming both
    hubs, signed by the sender hub. ValueError for a header member or payload out of shape."""
    header = Header(
        sender=sender.hub_id,
        recipient=recipient.hub_id,
        id=message_id or new_id(),
        type=type,
        conversation=conversation,
        sequence=sequence,
        sent_at=sent_at or datetime.now(UTC),
    )
    plaintext = rfc8785.dumps(payload)
    if len(plaintext) > PAYLOAD_MAX_BYTES:
        raise ValueError(f"A payload is at most {PAYLOAD_MAX_BYTES} bytes.")
    sealed = SUITE.encrypt(plaintext, recipient.sealing_key(), info=hpke_info(header.canonical()))
    protected, sealed_text = protect(header), b64url_encode(sealed)
    signature = sender.sign(signing_input(protected, sealed_text))
    return envelope_bytes(protected, sealed_text, signature)


def verify_envelope(sender: HubPublicIdentity, envelope: Envelope) -> None:
    """BAD_SIGNATURE unless the envelope carries the sender hub's signature (both halves)."""
    if not sender.verify(envelope.signing_input(), envelope.signature):
        raise EnvelopeRefused(
            RefusalCode.BAD_SIGNATURE, "The signature is not the sender hub's pinned key's."
        )


def open_envelope(recipient: HubIdentity, envelope: Envelope) -> bytes:
    """The payload's bytes; UNREADABLE when they do not open with this hub's sealing key
    under this header (sealed to another key, or moved under another header, or altered)."""
    try:
        return SUITE.decrypt(
            envelope.sealed_bytes,
            recipient.sealing_private(),
            info=hpke_info(envelope.header_bytes),
        )
    except Exception:  # every failure is the one opaque refusal
        raise EnvelopeRefused(
            RefusalCode.UNREADABLE, "The sealed part does not open with this hub's key."
        ) from None


def sign_ack(recipient: HubIdentity, header: Header, received_at: datetime, body: bytes) -> bytes:
    """The acknowledgement of an accepted envelope (`body` as received), signed by this hub."""
    ack = Ack(
        id=header.id,
        sender=header.sender,
        recipient=header.recipient,
        received_at=received_at,
        envelope=digest(body),
    )
    text = ack_text(ack)
    return ack_bytes(text, recipient.sign(ack_signing_input(text)))


def verify_ack(recipient: HubPublicIdentity, ack: bytes, envelope: bytes) -> Ack:
    """The acknowledgement the recipient hub answered to `envelope` (the bytes sent), once it
    is signed by that hub and names exactly that envelope; AckInvalid otherwise."""
    text, signature, parsed = parse_ack(ack)
    if not recipient.verify(ack_signing_input(text), signature):
        raise AckInvalid("The acknowledgement is not signed by the recipient hub.")
    try:
        header = parse_envelope(envelope).header
    except EnvelopeRefused:
        raise AckInvalid("The acknowledged envelope is not an envelope.") from None
    named = (parsed.id, parsed.sender, parsed.recipient, parsed.envelope)
    if named != (header.id, header.sender, recipient.hub_id, digest(envelope)):
        raise AckInvalid("The acknowledgement is of another envelope.")
    if header.recipient != recipient.hub_id:
        raise AckInvalid("The envelope was not sent to this hub.")
    return parsed
