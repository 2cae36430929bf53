"""DPoP (RFC 9449): the rules a proof's header and claims must meet, with no cryptography (the
signature and the key's thumbprint are casehub.crypto.dpop's) and no storage (the replay cache
is the database's).

Every refusal is a `DpopRefused`, an Unauthenticated that names the RFC's error
(`invalid_dpop_proof` for the proof, `invalid_token` for the token) and why, for the
WWW-Authenticate challenge; it never says anything about a token the caller did not prove."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from casehub.domain.errors import Unauthenticated

# Ed25519 (as "EdDSA", RFC 8037, or by its fully specified name, RFC 9864) and P-256 ECDSA:
# asymmetric, with keys small enough for a header, and nothing a client must not be offered.
ALGORITHMS = ("EdDSA", "Ed25519", "ES256")
# A curve per algorithm: EdDSA alone would also admit Ed448.
CURVES = {"EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}
# An ES256 proof is about 600 characters: anything far larger is refused before it is parsed.
MAX_PROOF_LENGTH = 2048
MAX_JTI_LENGTH = 128
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DpopError(StrEnum):
    """The error a DPoP refusal names in its WWW-Authenticate challenge (RFC 9449 section 7.1)."""

    INVALID_PROOF = "invalid_dpop_proof"
    INVALID_TOKEN = "invalid_token"  # noqa: S105  (an error name, not a secret)


class DpopRefused(Unauthenticated):
    """A DPoP-bound token or its proof was refused: the RFC's error and the reason, which is
    about the proof the caller made (the audit keeps it; the answer names the error only)."""

    def __init__(self, error: DpopError, reason: str) -> None:
        super().__init__()
        self.error = error
        self.reason = reason


def refused(reason: str) -> DpopRefused:
    """The proof is refused: `invalid_dpop_proof`."""
    return DpopRefused(DpopError.INVALID_PROOF, reason)


@dataclass(frozen=True, slots=True)
class ProofClaims:
    """What a checked proof asserts that the replay cache keeps: its id and when it stops
    being acceptable (issued-at plus the skew)."""

    jti: str
    acceptable_until: datetime


def check_header(header: Mapping[str, object]) -> Mapping[str, object]:
    """The proof's public key (its `jwk`) once the header is a DPoP proof's: typ dpop+jwt, an
    allowed algorithm, and a public key of that algorithm's curve."""
    if header.get("typ") != "dpop+jwt":
        raise refused("typ must be dpop+jwt")
    if "crit" in header:
        # No extension is understood here (nor the unencoded payload of RFC 7797 it enables).
        raise refused("crit is not supported")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise refused(f"alg must be one of {', '.join(ALGORITHMS)}")
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise refused("the header must carry the public key as jwk")
    if _PRIVATE_MEMBERS & set(jwk):
        raise refused("jwk must be a public key")
    if (jwk.get("kty"), jwk.get("crv")) != CURVES[alg]:
        raise refused(f"jwk must be a {CURVES[alg][1]} key for {alg}")
    return jwk


def check_claims(
    claims: Mapping[str, object],
    *,
    method: str,
    uri: str,
    access_token_hash: str,
    now: datetime,
    skew: timedelta,
) -> ProofClaims:
    """Check a proof's claims against the request it came with: the method (htm), the URL
    without query or fragment (htu, compared normalised), issued-at within `skew` of now, a
    jti, and the hash of the access token presented with it (ath)."""
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise refused(f"jti must be a string of 1 to {MAX_JTI_LENGTH} characters")
    if claims.get("htm") != method:
        raise refused("htm must be the request's method")
    htu = claims.get("htu")
    if not isinstance(htu, str) or _normalised(htu) != _normalised(uri):
        raise refused("htu must be the request's URL")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise refused("iat must be a number of seconds")
    try:
        issued = datetime.fromtimestamp(iat, UTC)
    except (OverflowError, OSError, ValueError):
        raise refused("iat is out of range") from None
    if abs(now - issued) > skew:
        raise refused("iat is too far from the server's time")
    if claims.get("ath") != access_token_hash:
        raise refused("ath must be the hash of the access token")
    return ProofClaims(jti=jti, acceptable_until=issued + skew)


def target_uri(scheme: str, host: str, path: str) -> str:
    """The URL a request was made to, as its proof's htu names it: scheme, host and path,
    no query or fragment (a websocket's ws and wss are http and https)."""
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return _normalised(f"{scheme}://{host}{path}")


def _normalised(url: str) -> str:
    # RFC 9449 section 4.3: compared without query and fragment, after syntax-based
    # normalisation (RFC 3986 section 6.2.2): case of scheme and host, the default port.
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""  # matches no request's URL
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))
