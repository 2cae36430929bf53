"""A hub's identity for federation: a hub id, a name, a hybrid signing key and a sealing key.

The public half is the hub document (casehub.domain.federation.identity), served self-signed
at /federation/v1/identity and pinned by peers by its fingerprint. Signing is the hybrid
Ed25519 + ML-DSA-65 of casehub.crypto.agency_keys (both halves must verify); sealing is HPKE
with the hybrid ML-KEM-768 + X25519 KEM, whose public key is the ML-KEM-768 public key (1184
bytes) followed by the X25519 one (32), and whose private key is kept as the ML-KEM-768 seed
(64 bytes) followed by the X25519 private key (32).

A hub signature is exactly an agency key's hybrid signature over the message bytes, so it is
bounded as agency signatures are (MESSAGE_MAX_BYTES): what a hub signs is small (the document,
an envelope's signing input, which carries the sealed part by digest, an acknowledgement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import MLKEM768X25519PrivateKey, MLKEM768X25519PublicKey

from casehub.crypto.agency_keys import AgencyPrivateKey, AgencyPublicKey, KeyFormatError
from casehub.domain.federation.identity import (
    FINGERPRINT_PREFIX,
    HUB_DOCUMENT_FORMAT,
    SEALING_KEM,
    SEALING_KTY,
    SIGNED_DOCUMENT_MAX_BYTES,
    SIGNED_DOCUMENT_RULES,
    document_problem,
    name_problem,
)
from casehub.domain.ids import new_id
from casehub.domain.requests.receipts import b64url_decode, b64url_encode
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.shapes import first_malformed
from casehub.domain.signatures.statements import statement_bytes

__all__ = [
    "HUB_DOCUMENT_FORMAT",
    "HUB_KEY_FORMAT",
    "SEALING_PUBLIC_BYTES",
    "SEALING_SEED_BYTES",
    "HubIdentity",
    "HubPublicIdentity",
    "InvalidHubSignature",
    "KeyFormatError",
]

HUB_KEY_FORMAT = "casehub-hub-key/1"

_MLKEM768_PUBLIC_BYTES = 1184
_MLKEM768_SEED_BYTES = 64
_X25519_BYTES = 32
SEALING_PUBLIC_BYTES = _MLKEM768_PUBLIC_BYTES + _X25519_BYTES
SEALING_SEED_BYTES = _MLKEM768_SEED_BYTES + _X25519_BYTES


class InvalidHubSignature(KeyFormatError):
    """A hub document whose self-signature does not verify under its own signing key."""


def _sealing_public(raw: bytes) -> MLKEM768X25519PublicKey:
    """The HPKE public key of the concatenated halves; KeyFormatError when either is not one."""
    if len(raw) != SEALING_PUBLIC_BYTES:
        raise KeyFormatError(f"A sealing public key is {SEALING_PUBLIC_BYTES} bytes.")
    try:
        return MLKEM768X25519PublicKey(
            MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM768_PUBLIC_BYTES]),
            X25519PublicKey.from_public_bytes(raw[_MLKEM768_PUBLIC_BYTES:]),
        )
    except ValueError:
        raise KeyFormatError("The sealing key is not an ML-KEM-768 + X25519 key.") from None


@dataclass(frozen=True)
class HubPublicIdentity:
    """What a peer knows of a hub: its document, checked on construction."""

    hub_id: UUID
    name: str
    signing: AgencyPublicKey
    sealing: bytes = field(repr=False)

    def __post_init__(self) -> None:
        problem = name_problem(self.name)
        if problem is not None:
            raise KeyFormatError(problem)
        if self.signing.algorithm is not SigningAlgorithm.ED25519_ML_DSA_65:
            raise KeyFormatError("A hub's signing key is Ed25519+ML-DSA-65.")
        _sealing_public(self.sealing)

    def document(self) -> dict[str, object]:
        """The hub document (what the fingerprint and the self-signature cover)."""
        return {
            "format": HUB_DOCUMENT_FORMAT,
            "hub": str(self.hub_id),
            "name": self.name,
            "signing": self.signing.to_jwk(),
            "sealing": {"kty": SEALING_KTY, "kem": SEALING_KEM, "pub": b64url_encode(self.sealing)},
        }

    @cached_property  # the document's bytes: read on every pinned look-up's cache hit
    def document_text(self) -> str:
        """The document's RFC 8785 text, as stored for a pinned peer."""
        return statement_bytes(self.document()).decode("utf-8")

    def fingerprint(self) -> str:
        """ "sha256:" + the hex SHA-256 of the document's RFC 8785 bytes."""
        return FINGERPRINT_PREFIX + hashlib.sha256(self.document_text.encode()).hexdigest()

    def sealing_key(self) -> MLKEM768X25519PublicKey:
        """The HPKE public key that seals to this hub."""
        return _sealing_public(self.sealing)

    def verify(self, message: bytes, signature: str) -> bool:
        """Whether signature is this hub's over message (both halves). Never raises."""
        return self.signing.verify(message, signature)

    @classmethod
    def from_document(cls, doc: object) -> HubPublicIdentity:
        """The identity a hub document (a parsed JSON object) describes; KeyFormatError on
        anything else: a missing or unknown member at any depth, wrong sizes, a signing key
        that is not hybrid, or a document that is not exactly its canonical form."""
        problem = document_problem(doc)
        if problem is not None:
            raise KeyFormatError(problem)
        assert isinstance(doc, Mapping)  # document_problem checked it
        sealing = b64url_decode(doc["sealing"]["pub"])
        if sealing is None:
            raise KeyFormatError("The sealing key is not unpadded base64url.")
        identity = cls(
            UUID(doc["hub"]), doc["name"], AgencyPublicKey.from_jwk(doc["signing"]), sealing
        )
        # The JWK parser tolerates optional members ("use", "kid"); a document must carry
        # exactly what its fingerprint is computed from.
        if identity.document() != doc:
            raise KeyFormatError("A hub document holds members its keys do not.")
        return identity

    @classmethod
    def from_document_text(cls, text: str) -> HubPublicIdentity:
        """The identity of a stored document text (KeyFormatError when it is not one)."""
        return cls.from_document(_json(text.encode("utf-8")))

    @classmethod
    def from_signed_document(cls, signed: object) -> HubPublicIdentity:
        """The identity of {"document", "signature"} as /federation/v1/identity serves it:
        KeyFormatError when malformed, InvalidHubSignature when the signature is not the
        document's own signing key's over its RFC 8785 bytes."""
        if not isinstance(signed, Mapping):
            raise KeyFormatError("A signed hub document is a JSON object.")
        bad = first_malformed(signed, SIGNED_DOCUMENT_RULES)
        if bad is not None:
            raise KeyFormatError(f"A signed hub document's member {bad!r} is missing or unknown.")
        identity = cls.from_document(signed["document"])
        if not identity.verify(identity.document_text.encode(), signed["signature"]):
            raise InvalidHubSignature("The hub document's signature does not verify.")
        return identity

    @classmethod
    def from_signed_body(cls, body: bytes) -> HubPublicIdentity:
        """from_signed_document of a response body (at most SIGNED_DOCUMENT_MAX_BYTES)."""
        return cls.from_signed_document(_json(body))


def _json(body: bytes) -> object:
    if len(body) > SIGNED_DOCUMENT_MAX_BYTES:
        raise KeyFormatError(f"A hub document is at most {SIGNED_DOCUMENT_MAX_BYTES} bytes.")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise KeyFormatError("A hub document is JSON.") from None


@dataclass(frozen=True)
class HubIdentity:
    """This hub's identity with its private keys (kept in the keyring's "federation" entry)."""

    hub_id: UUID
    name: str
    signing: AgencyPrivateKey
    sealing_seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.sealing_seed, bytes) or len(self.sealing_seed) != SEALING_SEED_BYTES:
            raise KeyFormatError(f"A hub sealing seed is {SEALING_SEED_BYTES} bytes.")
        self.public  # noqa: B018 - checks the name and the keys now, not at first use

    @classmethod
    def generate(cls, name: str) -> HubIdentity:
        """A fresh identity: a UUIDv7 hub id and random keys (KeyFormatError for a bad name)."""
        seed = MLKEM768PrivateKey.generate().private_bytes_raw()
        x25519 = X25519PrivateKey.generate().private_bytes_raw()
        return cls(
            new_id(),
            name,
            AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65),
            seed + x25519,
        )

    @cached_property
    def public(self) -> HubPublicIdentity:
        """The public identity (the document peers pin)."""
        mlkem = MLKEM768PrivateKey.from_seed_bytes(self.sealing_seed[:_MLKEM768_SEED_BYTES])
        x25519 = X25519PrivateKey.from_private_bytes(self.sealing_seed[_MLKEM768_SEED_BYTES:])
        sealing = mlkem.public_key().public_bytes_raw() + x25519.public_key().public_bytes_raw()
        return HubPublicIdentity(self.hub_id, self.name, self.signing.public, sealing)

    def sealing_private(self) -> MLKEM768X25519PrivateKey:
        """The HPKE private key that opens what is sealed to this hub."""
        return MLKEM768X25519PrivateKey(
            MLKEM768PrivateKey.from_seed_bytes(self.sealing_seed[:_MLKEM768_SEED_BYTES]),
            X25519PrivateKey.from_private_bytes(self.sealing_seed[_MLKEM768_SEED_BYTES:]),
        )

    def sign(self, message: bytes) -> str:
        """This hub's signature over message (at most MESSAGE_MAX_BYTES; ValueError beyond)."""
        return self.signing.sign(message)

    def signed_document(self) -> dict[str, object]:
        """{"document", "signature"}: what /federation/v1/identity serves."""
        public = self.public
        return {
            "document": public.document(),
            "signature": self.sign(public.document_text.encode()),
        }

    def to_json(self) -> dict[str, object]:
        """The keyring entry (it holds the private keys: keep it secret)."""
        return {
            "format": HUB_KEY_FORMAT,
            "hub": str(self.hub_id),
            "name": self.name,
            "signing": self.signing.to_json(),
            "sealing": b64url_encode(self.sealing_seed),
            "fingerprint": self.public.fingerprint(),
        }

    @classmethod
    def from_json(cls, data: object) -> HubIdentity:
        """The identity of a keyring entry; KeyFormatError when it is malformed or its
        fingerprint is not its keys' (a hand-edited entry must not change the hub silently)."""
        what = "a hub key entry"
        members = {"format", "hub", "name", "signing", "sealing", "fingerprint"}
        if not isinstance(data, Mapping) or set(data) != members:
            raise KeyFormatError(f"Not {what}: it is not a JSON object of its members.")
        if data["format"] != HUB_KEY_FORMAT:
            raise KeyFormatError(f"Not {what}: format {data['format']!r}.")
        try:
            hub_id = UUID(data["hub"])
        except (TypeError, ValueError, AttributeError):
            raise KeyFormatError(f"Not {what}: 'hub' is not a UUID.") from None
        seed = b64url_decode(data["sealing"])
        if seed is None:
            raise KeyFormatError(f"Not {what}: 'sealing' is not unpadded base64url.")
        identity = cls(hub_id, data["name"], AgencyPrivateKey.from_json(data["signing"]), seed)
        if data["fingerprint"] != identity.public.fingerprint():
            raise KeyFormatError(f"Not {what}: its fingerprint is not its keys'.")
        return identity
