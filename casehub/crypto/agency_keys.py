"""Agency signing keys: Ed25519, or the hybrid Ed25519 + ML-DSA-65 (both must verify).

Public keys travel as JWKs: an RFC 8037 OKP key, or {"kty":"casehub-hybrid","alg":
"Ed25519+ML-DSA-65","ed25519":<OKP JWK>,"mldsa65":{"kty":"AKP","alg":"ML-DSA-65","pub":...}}.
A key is named by its thumbprint: RFC 7638 for the OKP key and (as draft-ietf-cose-dilithium)
for the AKP key; for a hybrid key, base64url(SHA-256(JCS({"alg","ed25519","mldsa65"}))) over
the two halves' thumbprints. The hub never accepts a private key in a public JWK.

A signature over message bytes is unpadded base64url; a hybrid one is "<Ed25519>.<ML-DSA-65>"
(ML-DSA context empty). Private keys are kept as seeds in a 0600 JSON file
({"format":"casehub-agency-key/1","alg","ed25519","mldsa65"?,"thumbprint"}).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey, MLDSA65PublicKey

from casehub.domain.requests.receipts import b64url_decode, b64url_encode
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import STATEMENT_MAX_BYTES

HYBRID_KTY = "casehub-hybrid"
KEY_FILE_FORMAT = "casehub-agency-key/1"
# What the parsers read at most: a hybrid public JWK is about 2.8 KB of text.
JWK_TEXT_MAX = 16_384
KEY_FILE_MAX = 16_384
SIGNATURE_MAX_CHARS = 6_000
# Everything these keys sign is a statement (casehub.domain.signatures).
MESSAGE_MAX_BYTES = STATEMENT_MAX_BYTES

_MEMBERS_MAX = 16
_SEED_BYTES = 32
_ED25519_PUBLIC_BYTES = 32
_ED25519_SIGNATURE_BYTES = 64
_MLDSA65_PUBLIC_BYTES = 1952
_MLDSA65_SIGNATURE_BYTES = 3309
_ED25519_ALGS = frozenset({"EdDSA", "Ed25519"})
_PRIVATE_MEMBERS = ("d", "priv")


class KeyFormatError(ValueError):
    """A key (JWK, key file) that is refused; the message is for the user who gave it."""


def _thumbprint(members: Mapping[str, str]) -> str:
    """RFC 7638: base64url SHA-256 of the required members, sorted, without whitespace (for
    ASCII string members this is exactly their RFC 8785 form)."""
    return b64url_encode(hashlib.sha256(rfc8785.dumps(dict(members))).digest())


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise KeyFormatError(f"Not {what}: a JWK is a JSON object.")
    if len(value) > _MEMBERS_MAX:
        raise KeyFormatError(f"Not {what}: it has more than {_MEMBERS_MAX} members.")
    for member in _PRIVATE_MEMBERS:
        if member in value:
            raise KeyFormatError(
                f"Not {what}: it holds the private key ({member!r}); give the public key only."
            )
    return value


def _raw(value: object, size: int, what: str, member: str) -> bytes:
    """The bytes of a base64url member of exactly `size` bytes."""
    if not isinstance(value, str):
        raise KeyFormatError(f"Not {what}: {member!r} is missing or not a string.")
    if len(value) != -(-size * 4 // 3):
        raise KeyFormatError(f"Not {what}: {member!r} is not {size} bytes.")
    raw = b64url_decode(value)
    if raw is None:
        raise KeyFormatError(f"Not {what}: {member!r} is not unpadded base64url.")
    return raw


def _ed25519_public(jwk: object) -> bytes:
    what = "an Ed25519 JWK"
    key = _object(jwk, what)
    kty, crv = key.get("kty"), key.get("crv")
    if kty != "OKP" and crv in (None, "Ed25519"):
        raise KeyFormatError(f"Not {what}: unknown kty {kty!r}; want 'OKP'.")
    if crv != "Ed25519":
        of_kty = "" if kty == "OKP" else f" (kty {kty!r})"
        raise KeyFormatError(
            f"Not {what}: wrong curve {crv!r}{of_kty}; want kty 'OKP', crv 'Ed25519'."
        )
    if key.get("alg", "EdDSA") not in _ED25519_ALGS:
        raise KeyFormatError(f"Not {what}: alg {key.get('alg')!r}; want 'EdDSA' or none.")
    if key.get("use", "sig") != "sig":
        raise KeyFormatError(f"Not {what}: use {key.get('use')!r}; want 'sig' or none.")
    raw = _raw(key.get("x"), _ED25519_PUBLIC_BYTES, what, "x")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyFormatError(f"Not {what}: 'x' is not an Ed25519 public key.") from None
    return raw


def _mldsa65_public(jwk: object) -> bytes:
    what = "an ML-DSA-65 JWK"
    key = _object(jwk, what)
    if key.get("kty") != "AKP":
        raise KeyFormatError(f"Not {what}: unknown kty {key.get('kty')!r}; want 'AKP'.")
    if key.get("alg") != "ML-DSA-65":
        raise KeyFormatError(f"Not {what}: alg {key.get('alg')!r}; want 'ML-DSA-65'.")
    raw = _raw(key.get("pub"), _MLDSA65_PUBLIC_BYTES, what, "pub")
    try:
        MLDSA65PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyFormatError(f"Not {what}: 'pub' is not an ML-DSA-65 public key.") from None
    return raw


@dataclass(frozen=True)
class AgencyPublicKey:
    """The public half of an agency signing key (mldsa65 only for the hybrid algorithm)."""

    algorithm: SigningAlgorithm
    ed25519: bytes
    mldsa65: bytes | None

    def __post_init__(self) -> None:
        hybrid = self.algorithm is SigningAlgorithm.ED25519_ML_DSA_65
        if len(self.ed25519) != _ED25519_PUBLIC_BYTES:
            raise KeyFormatError("An Ed25519 public key is 32 bytes.")
        if hybrid != (self.mldsa65 is not None):
            raise KeyFormatError("Only a hybrid key has an ML-DSA-65 half.")
        if self.mldsa65 is not None and len(self.mldsa65) != _MLDSA65_PUBLIC_BYTES:
            raise KeyFormatError("An ML-DSA-65 public key is 1952 bytes.")

    @classmethod
    def from_jwk(cls, jwk: object) -> AgencyPublicKey:
        """The key a public JWK (a parsed JSON object) describes; KeyFormatError saying why
        not for anything else, a private key included."""
        if isinstance(jwk, Mapping) and jwk.get("kty") == HYBRID_KTY:
            what = "an Ed25519+ML-DSA-65 key"
            key = _object(jwk, what)
            if key.get("alg") != SigningAlgorithm.ED25519_ML_DSA_65.value:
                raise KeyFormatError(f"Not {what}: alg {key.get('alg')!r}.")
            for half in ("ed25519", "mldsa65"):
                if half not in key:
                    raise KeyFormatError(f"Not {what}: its {half} half is missing.")
            return cls(
                SigningAlgorithm.ED25519_ML_DSA_65,
                _ed25519_public(key["ed25519"]),
                _mldsa65_public(key["mldsa65"]),
            )
        return cls(SigningAlgorithm.ED25519, _ed25519_public(jwk), None)

    @classmethod
    def from_jwk_text(cls, text: str) -> AgencyPublicKey:
        """The key a public JWK given as JSON text describes (at most JWK_TEXT_MAX chars)."""
        if not isinstance(text, str) or len(text) > JWK_TEXT_MAX:
            raise KeyFormatError(f"Not a JWK: the text is longer than {JWK_TEXT_MAX} characters.")
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            raise KeyFormatError("Not a JWK: the text is not JSON.") from None
        return cls.from_jwk(parsed)

    def _okp(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.ed25519)}

    def _akp(self, pub: bytes) -> dict[str, str]:
        return {"kty": "AKP", "alg": "ML-DSA-65", "pub": b64url_encode(pub)}

    def to_jwk(self) -> dict[str, object]:
        """The public JWK (what `agency keygen` prints and the hub registers)."""
        if self.mldsa65 is None:
            return dict(self._okp())
        return {
            "kty": HYBRID_KTY,
            "alg": self.algorithm.value,
            "ed25519": self._okp(),
            "mldsa65": self._akp(self.mldsa65),
        }

    @cached_property  # computed once a key: verifiers compare it for every statement
    def thumbprint(self) -> str:
        """The key's name: unpadded base64url of a SHA-256 digest (see the module's text)."""
        okp = _thumbprint(self._okp())
        if self.mldsa65 is None:
            return okp
        akp = _thumbprint(self._akp(self.mldsa65))
        return _thumbprint({"alg": self.algorithm.value, "ed25519": okp, "mldsa65": akp})

    def verify(self, message: bytes, signature: str) -> bool:
        """Whether signature is this key's over message (a hybrid key: both halves). Never
        raises: a malformed or oversized signature or message gives False."""
        if not isinstance(message, bytes) or len(message) > MESSAGE_MAX_BYTES:
            return False
        if not isinstance(signature, str) or len(signature) > SIGNATURE_MAX_CHARS:
            return False
        parts = signature.split(".")
        if len(parts) != (1 if self.mldsa65 is None else 2):
            return False
        ed_signature = b64url_decode(parts[0])
        if ed_signature is None or len(ed_signature) != _ED25519_SIGNATURE_BYTES:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.ed25519).verify(ed_signature, message)
            if self.mldsa65 is not None:
                ml_signature = b64url_decode(parts[1])
                if ml_signature is None or len(ml_signature) != _MLDSA65_SIGNATURE_BYTES:
                    return False
                MLDSA65PublicKey.from_public_bytes(self.mldsa65).verify(ml_signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class AgencyPrivateKey:
    """An agency signing key pair; the private halves never appear in repr."""

    __slots__ = ("_ed25519", "_mldsa65", "_public")

    def __init__(self, ed25519: Ed25519PrivateKey, mldsa65: MLDSA65PrivateKey | None) -> None:
        self._ed25519 = ed25519
        self._mldsa65 = mldsa65
        self._public = AgencyPublicKey(
            SigningAlgorithm.ED25519 if mldsa65 is None else SigningAlgorithm.ED25519_ML_DSA_65,
            ed25519.public_key().public_bytes_raw(),
            None if mldsa65 is None else mldsa65.public_key().public_bytes_raw(),
        )

    def __repr__(self) -> str:
        return (
            f"AgencyPrivateKey(algorithm={self.algorithm.value!r}, "
            f"thumbprint={self._public.thumbprint!r})"
        )

    @classmethod
    def generate(cls, algorithm: SigningAlgorithm) -> AgencyPrivateKey:
        """A fresh random key of the algorithm."""
        hybrid = algorithm is SigningAlgorithm.ED25519_ML_DSA_65
        return cls(Ed25519PrivateKey.generate(), MLDSA65PrivateKey.generate() if hybrid else None)

    @classmethod
    def from_seeds(
        cls, algorithm: SigningAlgorithm, ed25519: bytes, mldsa65: bytes | None = None
    ) -> AgencyPrivateKey:
        """The key of these 32-byte seeds (mldsa65 for, and only for, the hybrid algorithm);
        KeyFormatError otherwise."""
        hybrid = algorithm is SigningAlgorithm.ED25519_ML_DSA_65
        if hybrid != (mldsa65 is not None):
            raise KeyFormatError(f"A {algorithm.value} key has {'two' if hybrid else 'one'} seed.")
        seeds = [ed25519] if mldsa65 is None else [ed25519, mldsa65]
        if any(not isinstance(seed, bytes) or len(seed) != _SEED_BYTES for seed in seeds):
            raise KeyFormatError("A key seed is 32 bytes.")
        return cls(
            Ed25519PrivateKey.from_private_bytes(ed25519),
            None if mldsa65 is None else MLDSA65PrivateKey.from_seed_bytes(mldsa65),
        )

    @property
    def algorithm(self) -> SigningAlgorithm:
        """The key's signing algorithm."""
        return self._public.algorithm

    @property
    def public(self) -> AgencyPublicKey:
        """The public half."""
        return self._public

    def sign(self, message: bytes) -> str:
        """The signature over message (at most MESSAGE_MAX_BYTES; ValueError beyond)."""
        if not isinstance(message, bytes) or len(message) > MESSAGE_MAX_BYTES:
            raise ValueError(f"A signed message is at most {MESSAGE_MAX_BYTES} bytes.")
        signature = b64url_encode(self._ed25519.sign(message))
        if self._mldsa65 is None:
            return signature
        return f"{signature}.{b64url_encode(self._mldsa65.sign(message))}"

    def to_json(self) -> dict[str, str]:
        """The key file's JSON object (it holds the private seeds: keep it secret)."""
        data = {
            "format": KEY_FILE_FORMAT,
            "alg": self.algorithm.value,
            "ed25519": b64url_encode(self._ed25519.private_bytes_raw()),
        }
        if self._mldsa65 is not None:
            data["mldsa65"] = b64url_encode(self._mldsa65.private_bytes_raw())
        data["thumbprint"] = self._public.thumbprint
        return data

    @classmethod
    def from_json(cls, data: object) -> AgencyPrivateKey:
        """The key of a key file's JSON object; KeyFormatError when it is malformed or its
        thumbprint is not its key's."""
        what = "an agency key file"
        if not isinstance(data, Mapping) or len(data) > _MEMBERS_MAX:
            raise KeyFormatError(f"Not {what}: it is not a JSON object of its members.")
        if data.get("format") != KEY_FILE_FORMAT:
            raise KeyFormatError(f"Not {what}: format {data.get('format')!r}.")
        try:
            algorithm = SigningAlgorithm(str(data.get("alg")))
        except ValueError:
            raise KeyFormatError(f"Not {what}: unknown alg {data.get('alg')!r}.") from None
        hybrid = algorithm is SigningAlgorithm.ED25519_ML_DSA_65
        if hybrid != ("mldsa65" in data):
            raise KeyFormatError(f"Not {what}: a {algorithm.value} key has the wrong seeds.")
        key = cls.from_seeds(
            algorithm,
            _raw(data.get("ed25519"), _SEED_BYTES, what, "ed25519"),
            _raw(data["mldsa65"], _SEED_BYTES, what, "mldsa65") if hybrid else None,
        )
        if data.get("thumbprint") != key.public.thumbprint:
            raise KeyFormatError(f"Not {what}: its thumbprint is not its key's.")
        return key

    @classmethod
    def load(cls, path: Path) -> AgencyPrivateKey:
        """Read a key file, refusing one that group or others can read (KeyFormatError)."""
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise KeyFormatError(f"No key file at {path}.") from None
        except OSError as exc:
            raise KeyFormatError(f"Key file {path} cannot be read: {exc.strerror}.") from None
        with handle:
            if os.fstat(handle.fileno()).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFormatError(
                    f"Key file {path} is readable by group or others: run `chmod 600 {path}`."
                )
            body = handle.read(KEY_FILE_MAX + 1)
        if len(body) > KEY_FILE_MAX:
            raise KeyFormatError(f"Key file {path} is too large to be a key file.")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise KeyFormatError(f"Key file {path} is not JSON.") from None
        return cls.from_json(data)

    def save(self, path: Path) -> None:
        """Write the key file, mode 0600; FileExistsError rather than overwrite a file."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(fd, 0o600)  # whatever the umask
            handle.write(json.dumps(self.to_json(), indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
