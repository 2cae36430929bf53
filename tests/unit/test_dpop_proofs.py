"""DPoP proofs (RFC 9449) without a server: the header and claim rules (casehub.domain.dpop) as
tables, and the signature, thumbprint and access-token hash (casehub.crypto.dpop)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc.jwk import ECKey

from casehub.crypto import dpop as proofs
from casehub.domain.dpop import (
    MAX_PROOF_LENGTH,
    DpopError,
    DpopRefused,
    ProofClaims,
    check_claims,
    check_header,
    target_uri,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SKEW = timedelta(seconds=60)
URI = "https://hub.example/graphql"
ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
ED = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def claims(**changes: Any) -> dict[str, Any]:
    good: dict[str, Any] = {
        "jti": "e1j3V_bKic8-LAEB",
        "htm": "POST",
        "htu": URI,
        "iat": int(NOW.timestamp()),
        "ath": ATH,
    }
    good.update(changes)
    return {key: value for key, value in good.items() if value is not None}


def check(**changes: Any) -> ProofClaims:
    return check_claims(
        claims(**changes), method="POST", uri=URI, access_token_hash=ATH, now=NOW, skew=SKEW
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(DpopRefused) as refused:
        call(*args, **kwargs)
    assert refused.value.error is DpopError.INVALID_PROOF
    return refused.value.reason


def test_good_claims_give_the_jti_and_until_when_the_proof_is_acceptable() -> None:
    assert check() == ProofClaims(jti="e1j3V_bKic8-LAEB", acceptable_until=NOW + SKEW)
    # iat at either edge of the skew is still acceptable; a float iat too.
    assert check(iat=int((NOW - SKEW).timestamp())).acceptable_until == NOW
    assert check(iat=(NOW + SKEW).timestamp() - 0.5).jti


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"jti": None}, "jti must be a string of 1 to 128 characters"),
        ({"jti": ""}, "jti must be a string of 1 to 128 characters"),
        ({"jti": 7}, "jti must be a string of 1 to 128 characters"),
        ({"jti": "j" * 129}, "jti must be a string of 1 to 128 characters"),
        ({"htm": "post"}, "htm must be the request's method"),
        ({"htm": None}, "htm must be the request's method"),
        ({"htu": "https://hub.example/graphql/"}, "htu must be the request's URL"),
        ({"htu": "https://other.example/graphql"}, "htu must be the request's URL"),
        ({"htu": "http://hub.example/graphql"}, "htu must be the request's URL"),
        ({"htu": "https://hub.example:8443/graphql"}, "htu must be the request's URL"),
        ({"htu": "/graphql"}, "htu must be the request's URL"),
        ({"htu": "https://hub.example:99999/graphql"}, "htu must be the request's URL"),
        ({"htu": 1}, "htu must be the request's URL"),
        ({"iat": None}, "iat must be a number of seconds"),
        ({"iat": "1796472000"}, "iat must be a number of seconds"),
        ({"iat": True}, "iat must be a number of seconds"),
        ({"iat": 10**20}, "iat is out of range"),
        ({"iat": int((NOW - SKEW).timestamp()) - 1}, "iat is too far from the server's time"),
        ({"iat": int((NOW + SKEW).timestamp()) + 1}, "iat is too far from the server's time"),
        ({"ath": None}, "ath must be the hash of the access token"),
        ({"ath": ATH[:-1] + "A"}, "ath must be the hash of the access token"),
    ],
)
def test_bad_claims_are_refused(changes: dict[str, Any], reason: str) -> None:
    assert refusal(check, **changes) == reason


@pytest.mark.parametrize(
    "htu",
    [
        "https://hub.example/graphql",
        "HTTPS://HUB.example/graphql",
        "https://hub.example:443/graphql",
        "https://hub.example/graphql?query=x",
        "https://hub.example/graphql#top",
    ],
)
def test_htu_is_compared_normalised_without_query_or_fragment(htu: str) -> None:
    assert check(htu=htu).jti


def test_a_websocket_is_named_by_its_http_url() -> None:
    assert target_uri("wss", "Hub.example:443", "/graphql") == URI
    assert target_uri("ws", "hub.example:8000", "/graphql") == "http://hub.example:8000/graphql"
    assert target_uri("http", "[::1]:80", "/graphql") == "http://[::1]/graphql"


def header(**changes: Any) -> dict[str, Any]:
    good: dict[str, Any] = {"typ": "dpop+jwt", "alg": "EdDSA", "jwk": dict(ED)}
    good.update(changes)
    return {key: value for key, value in good.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"typ": "JWT"}, "typ must be dpop+jwt"),
        ({"typ": None}, "typ must be dpop+jwt"),
        ({"crit": ["b64"]}, "crit is not supported"),
        ({"alg": "none"}, "alg must be one of EdDSA, Ed25519, ES256"),
        ({"alg": "HS256"}, "alg must be one of EdDSA, Ed25519, ES256"),
        ({"alg": "RS256"}, "alg must be one of EdDSA, Ed25519, ES256"),
        ({"alg": ["EdDSA"]}, "alg must be one of EdDSA, Ed25519, ES256"),
        ({"jwk": None}, "the header must carry the public key as jwk"),
        ({"jwk": "key"}, "the header must carry the public key as jwk"),
        ({"jwk": {**ED, "d": "secret"}}, "jwk must be a public key"),
        ({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}, "jwk must be a public key"),
        ({"jwk": {**ED, "crv": "Ed448"}}, "jwk must be a Ed25519 key for EdDSA"),
        ({"alg": "ES256"}, "jwk must be a P-256 key for ES256"),
    ],
)
def test_bad_headers_are_refused(changes: dict[str, Any], reason: str) -> None:
    assert refusal(check_header, header(**changes)) == reason


def test_a_good_header_gives_its_key() -> None:
    assert check_header(header()) == ED
    assert check_header(header(alg="Ed25519")) == ED


def test_the_thumbprint_is_rfc_7638s() -> None:
    # RFC 8037 appendix A.3: the thumbprint of the Ed25519 key of appendix A.2.
    assert proofs.thumbprint(ED) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    # Members beyond the required ones do not change it.
    assert proofs.thumbprint({**ED, "kid": "mine", "use": "sig"}) == proofs.thumbprint(ED)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({**ED, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}, "public key only"),
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "must be one of: EC P-256, OKP Ed25519"),
        ({**ED, "crv": "X25519"}, "must be one of"),
        ({**ED, "x": "short"}, "Not a valid key"),
        ({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "Not a valid key"),
    ],
)
def test_a_token_binds_only_to_a_public_ed25519_or_p256_key(
    jwk: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        proofs.thumbprint(jwk)


def test_the_access_token_hash_is_base64url_sha256() -> None:
    # RFC 9449 section 7.1's example: the hash of its access token.
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert proofs.access_token_hash(token) == ATH


def segments(proof: str) -> list[Any]:
    return [
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        for part in proof.split(".")[:2]
    ]


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
def test_a_proof_made_here_opens_with_its_claims_and_thumbprint(kind: str) -> None:
    key = (
        proofs.new_key()
        if kind == "Ed25519"
        else dict(ECKey.generate_key("P-256").as_dict(private=True))
    )
    proof = proofs.make_proof(key, method="POST", url=URI, token="chb_t", issued_at=1.0, jti="j")
    opened = proofs.open_proof(proof)
    assert opened.jkt == proofs.thumbprint(proofs.public_jwk(key))
    assert opened.claims == {
        "jti": "j",
        "htm": "POST",
        "htu": URI,
        "iat": 1,
        "ath": proofs.access_token_hash("chb_t"),
    }
    head, _body = segments(proof)
    assert head["typ"] == "dpop+jwt"
    assert "d" not in head["jwk"]
    assert head["alg"] == ("Ed25519" if kind == "Ed25519" else "ES256")


def test_open_proof_refuses_what_is_not_a_well_signed_proof() -> None:
    key = proofs.new_key()
    proof = proofs.make_proof(key, method="POST", url=URI, token="chb_t")
    head, payload, signature = proof.split(".")
    other = proofs.make_proof(proofs.new_key(), method="POST", url=URI, token="chb_t")
    cases = {
        "x" * (MAX_PROOF_LENGTH + 1): f"the proof is longer than {MAX_PROOF_LENGTH} characters",
        "é.é.é": "the proof is not a compact JWS",
        "a.b": "the proof is not a compact JWS",
        "a.b.c": "the proof is not a compact JWS",
        f"{head}.{payload}": "the proof is not a compact JWS",
        f"{head}.{payload}.": "the signature does not verify with the proof's jwk",
        f"{head}.{payload}.{signature[:-4]}AAAA": (
            "the signature does not verify with the proof's jwk"
        ),
        f"{head}.{other.split('.')[1]}.{signature}": (
            "the signature does not verify with the proof's jwk"
        ),
        f"{other.split('.')[0]}.{payload}.{signature}": (
            "the signature does not verify with the proof's jwk"
        ),
    }
    for value, reason in cases.items():
        assert refusal(proofs.open_proof, value) == reason, value[:40]


def test_a_key_must_be_private_to_make_proofs() -> None:
    with pytest.raises(ValueError, match="no private key"):
        proofs.make_proof(ED, method="GET", url=URI, token="t")
