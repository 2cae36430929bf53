"""DPoP proofs (RFC 9449) over joserfc: verifying a proof's signature by the key in its
header, the key's RFC 7638 thumbprint (what a token is bound to, `cnf.jkt`), the access-token
hash a proof carries (`ath`), and making keys and proofs for the CLI, tools and tests.

The rules a proof must meet besides its signature are casehub.domain.dpop's."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey

from casehub.domain.dpop import CURVES, MAX_PROOF_LENGTH, check_header, refused

# The algorithm a new key signs with (the fully specified name of Ed25519, RFC 9864).
NEW_KEY_ALGORITHM = "Ed25519"


@dataclass(frozen=True, slots=True)
class OpenedProof:
    """A proof whose header and signature are good: its claims (not yet checked against the
    request) and the thumbprint of the key that signed it."""

    claims: Mapping[str, object]
    jkt: str


def open_proof(proof: str) -> OpenedProof:
    """Check a proof's header and its signature by the key the header carries; DpopRefused
    (invalid_dpop_proof) for anything else than a well-signed DPoP proof."""
    if len(proof) > MAX_PROOF_LENGTH:
        raise refused(f"the proof is longer than {MAX_PROOF_LENGTH} characters")
    if not proof.isascii():
        raise refused("the proof is not a compact JWS")
    try:
        signed = jws.extract_compact(proof.encode("ascii"))
        header = signed.headers()
    except (JoseError, ValueError, TypeError):
        raise refused("the proof is not a compact JWS") from None
    key = _public_key(check_header(header))
    try:
        with warnings.catch_warnings():
            # joserfc flags "EdDSA" as superseded by RFC 9864's "Ed25519"; both are Ed25519
            # here (the header's curve is checked), and clients still send "EdDSA".
            warnings.simplefilter("ignore", SecurityWarning)
            valid = jws.validate_compact(signed, key, algorithms=[str(header["alg"])])
    except (JoseError, ValueError, TypeError):
        valid = False
    if not valid:
        raise refused("the signature does not verify with the proof's jwk")
    try:
        claims = json.loads(signed.payload)
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise refused("the proof's payload is not a JSON object")
    return OpenedProof(claims=claims, jkt=key.thumbprint())


def thumbprint(public_jwk: Mapping[str, object]) -> str:
    """The RFC 7638 thumbprint of a public key a token is to be bound to (an Ed25519 OKP or a
    P-256 EC key); ValueError when it is not one."""
    if not isinstance(public_jwk, Mapping):
        raise ValueError("A JWK is a JSON object.")
    if "d" in public_jwk:
        raise ValueError("Give the public key only (this JWK holds the private key 'd').")
    kinds = sorted({f"{kty} {crv}" for kty, crv in CURVES.values()})
    if (public_jwk.get("kty"), public_jwk.get("crv")) not in CURVES.values():
        raise ValueError(f"The key must be one of: {', '.join(kinds)}.")
    try:
        return _public_key(public_jwk, strict=False).thumbprint()
    except ValueError as error:
        raise ValueError(f"Not a valid key: {error}") from None


def access_token_hash(token: str) -> str:
    """A proof's `ath`: base64url of the SHA-256 of the access token, unpadded."""
    digest = hashlib.sha256(token.encode("ascii", "surrogateescape")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_key() -> dict[str, Any]:
    """A new Ed25519 key pair as a private JWK (keep it secret: it holds `d`)."""
    key = OKPKey.generate_key("Ed25519", private=True)
    return dict(key.as_dict(private=True))


def public_jwk(private_jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public half of a private JWK."""
    return dict(_private_key(private_jwk).as_dict(private=False))


def make_proof(
    private_jwk: Mapping[str, Any],
    *,
    method: str,
    url: str,
    token: str,
    issued_at: float | None = None,
    jti: str | None = None,
) -> str:
    """A DPoP proof for one request: `method` and `url` (no query), bound to `token`."""
    key = _private_key(private_jwk)
    alg = NEW_KEY_ALGORITHM if key.key_type == "OKP" else "ES256"
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    claims = {
        "jti": jti or secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time() if issued_at is None else issued_at),
        "ath": access_token_hash(token),
    }
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[alg])


def _public_key(jwk: Mapping[str, Any], strict: bool = True) -> OKPKey | ECKey:
    try:
        if jwk.get("kty") == "OKP":
            return OKPKey.import_key(dict(jwk))
        return ECKey.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError) as error:
        if strict:
            raise refused("jwk is not a valid public key") from None
        raise ValueError(str(error) or type(error).__name__) from None


def _private_key(private_jwk: Mapping[str, Any]) -> OKPKey | ECKey:
    key = _public_key(private_jwk, strict=False)
    if not key.is_private:
        raise ValueError("This JWK holds no private key ('d').")
    return key
