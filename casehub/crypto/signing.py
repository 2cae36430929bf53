"""Ed25519 receipt signatures, and their verification against a JWKS of public keys only.

A key id is the first 16 hex characters of SHA-256 over the raw 32-byte public key. Public keys
travel as RFC 8037 OKP JWKs, so an agency can verify receipts offline with any JOSE library.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from casehub.domain.requests.receipts import b64url_decode, b64url_encode

_DIGEST = re.compile(r"[0-9a-f]{64}")
_KEY_BYTES = 32
_DIGEST_BYTES = 32
_SIGNATURE_BYTES = 64


def key_id_for(public_key: bytes) -> str:
    """The key id of a raw Ed25519 public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


class ReceiptSigner:
    """An Ed25519 private key and its key id; the private key never appears in repr."""

    __slots__ = ("_key", "_key_id", "_public")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._key_id = key_id_for(self._public)

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> ReceiptSigner:
        """A signer from a raw 32-byte Ed25519 private key (seed); ValueError otherwise."""
        if not isinstance(raw, bytes) or len(raw) != _KEY_BYTES:
            raise ValueError("An Ed25519 private key is 32 raw bytes.")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def generate(cls) -> ReceiptSigner:
        """A signer with a fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    def __repr__(self) -> str:
        return f"ReceiptSigner(key_id={self._key_id!r})"

    @property
    def key_id(self) -> str:
        """The public identifier of this key: 16 hex characters."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public

    def sign(self, digest_hex: str) -> str:
        """The unpadded base64url Ed25519 signature over the 32 raw bytes of a SHA-256 digest."""
        if not isinstance(digest_hex, str) or not _DIGEST.fullmatch(digest_hex):
            raise ValueError("A receipt digest is 64 lowercase hex characters.")
        return b64url_encode(self._key.sign(bytes.fromhex(digest_hex)))

    def public_jwk(self) -> dict[str, str]:
        """The public half as an RFC 8037 OKP JWK carrying the key id."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url_encode(self._public),
            "kid": self._key_id,
            "use": "sig",
            "alg": "EdDSA",
        }


def _public_key_of(jwk: object, key_id: str) -> Ed25519PublicKey | None:
    """The Ed25519 public key of a JWK with this kid, or None; any private part is ignored."""
    if not isinstance(jwk, Mapping) or jwk.get("kid") != key_id:
        return None
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("alg", "EdDSA") != "EdDSA" or jwk.get("use", "sig") != "sig":
        return None
    x = jwk.get("x")
    raw = b64url_decode(x) if isinstance(x, str) else None
    if raw is None or len(raw) != _KEY_BYTES:
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def verify_with_jwks(
    jwks: Mapping[str, object], key_id: str, digest: bytes, signature: bytes
) -> bool:
    """Whether signature is a good Ed25519 signature by the JWKS key named key_id over digest.

    Only the public part ("x") of a JWK is used. Never raises: a malformed JWKS, an unknown
    key id, a digest that is not 32 bytes or a signature that is not 64 bytes all give False.
    """
    if not isinstance(jwks, Mapping) or not isinstance(key_id, str) or not key_id:
        return False
    if not isinstance(digest, bytes) or len(digest) != _DIGEST_BYTES:
        return False
    if not isinstance(signature, bytes) or len(signature) != _SIGNATURE_BYTES:
        return False
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        return False
    for jwk in keys:
        public = _public_key_of(jwk, key_id)
        if public is None:
            continue
        try:
            public.verify(signature, digest)
        except InvalidSignature:
            continue
        return True
    return False
