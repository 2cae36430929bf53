"""Known answers: tests/vectors/signatures.json (the casehub vectors other implementations check
against), RFC 8037 (Ed25519 JWK thumbprint) and RFC 8785 (JCS)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OKPKey

from casehub.crypto.agency_keys import AgencyPrivateKey, AgencyPublicKey
from casehub.crypto.statements import SignedStep, verify_step
from casehub.domain.requests.receipts import b64url_decode
from casehub.domain.signatures import (
    SigningAlgorithm,
    StepContent,
    StepStatus,
    accreditation_statement,
    body_sha256,
    expected_statement,
    parse_statement,
    particulars_normal_form,
    particulars_sha256,
    statement_bytes,
    statement_of,
    statement_sha256,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "signatures.json").read_text("utf-8")
)
BY_NAME = {vector["name"]: vector for vector in VECTORS["vectors"]}


def _seed(text: str) -> bytes:
    raw = b64url_decode(text)
    assert raw is not None
    return raw


def _key(vector: dict[str, Any]) -> AgencyPrivateKey:
    seeds = [
        _seed(vector["seeds"][half]) for half in ("ed25519", "mldsa65") if half in vector["seeds"]
    ]
    return AgencyPrivateKey.from_seeds(SigningAlgorithm(vector["algorithm"]), *seeds)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _content(vector: dict[str, Any]) -> StepContent:
    """The step content, rebuilt from the vectors' inputs (not copied from the statement)."""
    inputs, stated = VECTORS["inputs"], vector["statement"]
    approve = stated["action"] == "APPROVE"
    return StepContent(
        action=stated["action"],
        request=stated["request"],
        kind=stated["kind"],
        priority=stated["priority"],
        requester=stated["requester"],
        requested=stated["requested"],
        legal_basis=stated["legalBasis"],
        body_sha256=body_sha256(inputs["body"]),
        particulars_sha256=particulars_sha256(
            particulars_normal_form(json.dumps(inputs["particulars"]))
        ),
        evidence_sha256=tuple(inputs["evidenceSha256"]),
        countersigns=statement_sha256(BY_NAME["ed25519"]["statementJcs"]) if approve else None,
    )


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_keys_reproduce(name):
    vector = BY_NAME[name]
    key = _key(vector)
    assert key.public.to_jwk() == vector["publicJwk"]
    assert key.public.thumbprint == vector["thumbprint"]
    assert AgencyPublicKey.from_jwk(vector["publicJwk"]) == key.public


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_statements_reproduce(name):
    vector = BY_NAME[name]
    stated = vector["statement"]
    built = statement_of(
        _content(vector),
        agency=stated["agency"],
        principal=stated["principal"],
        key=vector["thumbprint"],
        issued_at=_instant(stated["issuedAt"]),
        nonce=stated["nonce"],
    )
    assert built == stated
    raw = statement_bytes(built)
    assert raw.decode("utf-8") == vector["statementJcs"]
    assert hashlib.sha256(raw).hexdigest() == vector["statementSha256"]
    assert parse_statement(vector["statementJcs"]) == stated


def test_ed25519_signature_reproduces():
    vector = BY_NAME["ed25519"]
    assert vector["signatureReproducible"] is True
    assert _key(vector).sign(vector["statementJcs"].encode()) == vector["signature"]


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_signatures_verify(name):
    vector = BY_NAME[name]
    public = AgencyPublicKey.from_jwk(vector["publicJwk"])
    message = vector["statementJcs"].encode()
    assert public.verify(message, vector["signature"])
    assert not public.verify(message.replace(b"EMERGENCY", b"ROUTINE", 1), vector["signature"])


def test_hybrid_signature_is_fresh_each_time_yet_verifies():
    vector = BY_NAME["hybrid"]
    assert vector["signatureReproducible"] is False
    key, message = _key(vector), vector["statementJcs"].encode()
    again = key.sign(message)
    assert again.split(".")[0] == vector["signature"].split(".")[0]  # the Ed25519 half is fixed
    assert key.public.verify(message, again)


def test_the_approval_countersigns_the_submission():
    assert (
        BY_NAME["hybrid"]["statement"]["countersigns"]
        == hashlib.sha256(BY_NAME["ed25519"]["statementJcs"].encode()).hexdigest()
    )


def test_accreditation_vector_and_whole_step_verify():
    accredited = VECTORS["accreditation"]
    hub = AgencyPrivateKey.from_seeds(
        SigningAlgorithm.ED25519_ML_DSA_65,
        _seed(accredited["hubSeeds"]["ed25519"]),
        _seed(accredited["hubSeeds"]["mldsa65"]),
    )
    assert accredited["hubKeys"] == {"keys": [{**hub.public.to_jwk(), "kid": accredited["key"]}]}
    stated = accredited["statement"]
    rebuilt = accreditation_statement(
        agency=stated["agency"],
        code=stated["code"],
        jurisdiction=stated["jurisdiction"],
        kind=stated["kind"],
        algorithm=SigningAlgorithm(stated["algorithm"]),
        thumbprint=stated["thumbprint"],
        not_before=_instant(stated["notBefore"]),
        not_after=_instant(stated["notAfter"]),
        issued_at=_instant(stated["issuedAt"]),
    )
    assert statement_bytes(rebuilt).decode() == accredited["statementJcs"]
    assert hub.public.verify(accredited["statementJcs"].encode(), accredited["signature"])

    vector = BY_NAME["ed25519"]
    step = SignedStep(
        statement=vector["statementJcs"],
        signature=vector["signature"],
        public_jwk=vector["publicJwk"],
        accreditation=accredited["statementJcs"],
        accreditation_signature=accredited["signature"],
        accreditation_key=accredited["key"],
    )
    expected = expected_statement(_content(vector), agency=vector["statement"]["agency"])
    verdict = verify_step(step, expected=expected, hub_keys=accredited["hubKeys"])
    assert verdict.status is StepStatus.VERIFIED


# --- RFC 8037 and RFC 8785 -------------------------------------------------------------------

# RFC 8037 appendix A.2 (the public key) and A.3 (its RFC 7638 thumbprint).
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_thumbprint():
    assert AgencyPublicKey.from_jwk(RFC8037_JWK).thumbprint == RFC8037_THUMBPRINT
    assert OKPKey.import_key(dict(RFC8037_JWK)).thumbprint() == RFC8037_THUMBPRINT


# RFC 8785 section 3.2.2 (serialization: numbers as ECMAScript, minimal string escapes) and
# section 3.2.3 (members sorted by their UTF-16 code units, so U+1F600 sorts before U+FB33).
RFC8785_CASES = [
    (
        {
            "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
            "literals": [None, True, False],
        },
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    ),
    (
        {
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\U0001f600": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis",
        },
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ),
]


@pytest.mark.parametrize(("value", "canonical"), RFC8785_CASES)
def test_rfc8785_examples(value, canonical):
    assert statement_bytes(value) == canonical.encode("utf-8")
    assert parse_statement(canonical) == json.loads(canonical)
