"""verify_step: every reason a signed step is INVALID, and what still verifies."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.statements import SignedStep, StepVerdict, verify_step
from casehub.domain.errors import (
    ErrorCode,
    KeyNotAccredited,
    KeyRevoked,
    SignatureInvalid,
    StatementMismatch,
    ValidationFailed,
)
from casehub.domain.signatures import (
    SigningAlgorithm,
    StepContent,
    StepStatus,
    accreditation_statement,
    expected_statement,
    revocation_statement,
    statement_bytes,
    statement_of,
    verdicts,
)

ED = SigningAlgorithm.ED25519
HYBRID = SigningAlgorithm.ED25519_ML_DSA_65
AGENCY = "0b7e6a3c-2f0d-4d5e-8a59-3c1e2d4f5a6b"
OTHER_AGENCY = "1c8f7b4d-3a1e-4e6f-9b6a-4d2f3e5a6b7c"
PRINCIPAL = "3d4c5b6a-7988-4766-9544-332211009988"
ISSUED = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
HEX = "ab" * 32
CONTENT = StepContent(
    action="SUBMIT",
    request="6f1c1a52-8a5e-4c1e-9a47-0d3b1f0e9b11",
    kind="EMERGENCY_DISCLOSURE",
    priority="URGENT",
    requester=AGENCY,
    requested="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    legal_basis=None,
    body_sha256=HEX,
    particulars_sha256="cd" * 32,
)

HUB = AgencyPrivateKey.generate(HYBRID)
ROGUE_HUB = AgencyPrivateKey.generate(HYBRID)
KEYS = {algorithm: AgencyPrivateKey.generate(algorithm) for algorithm in SigningAlgorithm}
OTHER_KEY = AgencyPrivateKey.generate(ED)


def jwks(*keys: AgencyPrivateKey) -> dict[str, Any]:
    return {"keys": [{**key.public.to_jwk(), "kid": key.public.thumbprint} for key in keys]}


HUB_KEYS = jwks(HUB)


def signed(key: AgencyPrivateKey, obj: dict[str, Any]) -> tuple[str, str]:
    raw = statement_bytes(obj)
    return raw.decode(), key.sign(raw)


def accreditation(
    key: AgencyPrivateKey,
    *,
    agency: str = AGENCY,
    not_before: datetime = ISSUED - timedelta(days=30),
    not_after: datetime = ISSUED + timedelta(days=30),
    signer: AgencyPrivateKey = HUB,
    algorithm: SigningAlgorithm | None = None,
) -> dict[str, Any]:
    """SignedStep members for an accreditation of key."""
    text, signature = signed(
        signer,
        accreditation_statement(
            agency=agency,
            code="MY-PDRM",
            jurisdiction="MY",
            kind="LAW_ENFORCEMENT",
            algorithm=algorithm or key.algorithm,
            thumbprint=key.public.thumbprint,
            not_before=not_before,
            not_after=not_after,
            issued_at=not_before,
        ),
    )
    return {
        "accreditation": text,
        "accreditation_signature": signature,
        "accreditation_key": signer.public.thumbprint,
    }


def revocation(
    key: AgencyPrivateKey,
    revoked_at: datetime,
    *,
    signer: AgencyPrivateKey = HUB,
    agency: str = AGENCY,
) -> dict[str, Any]:
    text, signature = signed(
        signer,
        revocation_statement(
            agency=agency, thumbprint=key.public.thumbprint, revoked_at=revoked_at, reason="lost"
        ),
    )
    return {"revocation": text, "revocation_signature": signature}


def statement(
    signer: AgencyPrivateKey, content: StepContent = CONTENT, **changes: Any
) -> dict[str, Any]:
    built = statement_of(
        content,
        agency=AGENCY,
        principal=PRINCIPAL,
        key=signer.public.thumbprint,
        issued_at=ISSUED,
        nonce="nonce-nonce-nonce",
    )
    return {**built, **changes}


def step(key: AgencyPrivateKey | None = None, **members: Any) -> SignedStep:
    """A well-signed, accredited step by key, with members of SignedStep replaced."""
    key = key or KEYS[ED]
    text, signature = signed(key, statement(key))
    defaults = {
        "statement": text,
        "signature": signature,
        "public_jwk": key.public.to_jwk(),
        **accreditation(key),
    }
    return SignedStep(**{**defaults, **members})


def verdict(signed_step: SignedStep, **options: Any) -> StepVerdict:
    options.setdefault("expected", None)
    options.setdefault("hub_keys", HUB_KEYS)
    return verify_step(signed_step, **options)


def reason(signed_step: SignedStep, **options: Any) -> str | None:
    result = verdict(signed_step, **options)
    assert (result.status is StepStatus.VERIFIED) is (result.reason is None)
    return result.reason


# --- what verifies ---------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_a_good_step_verifies(algorithm):
    key = KEYS[algorithm]
    result = verdict(step(key), expected=expected_statement(CONTENT, agency=AGENCY))
    assert result.status is StepStatus.VERIFIED
    assert result.verified
    assert result.reason is None
    assert result.refusal() is None
    assert result.statement == statement(key)


def test_expected_may_name_principal_and_key():
    key = KEYS[ED]
    expected = expected_statement(
        CONTENT, agency=AGENCY, principal=PRINCIPAL, key=key.public.thumbprint
    )
    assert reason(step(key), expected=expected) is None
    other = expected_statement(CONTENT, agency=AGENCY, principal=AGENCY)
    assert reason(step(key), expected=other) == "statement:principal"


def test_the_hub_key_may_be_found_without_its_kid():
    assert reason(step(accreditation_key=None)) is None


def test_old_hub_keys_still_verify():
    assert reason(step(), hub_keys=jwks(ROGUE_HUB, HUB)) is None


def test_revoked_after_issued_at_still_verifies():
    key = KEYS[ED]
    assert reason(step(key, **revocation(key, ISSUED + timedelta(seconds=1)))) is None


@pytest.mark.parametrize("skew", [0, 299, 300])
def test_issued_at_within_the_skew_of_receipt(skew):
    assert reason(step(), at=ISSUED + timedelta(seconds=skew, microseconds=0)) is None
    assert reason(step(), at=ISSUED - timedelta(seconds=skew)) is None


# --- every reason a step is INVALID ----------------------------------------------------------


def _edited(**changes: Any) -> SignedStep:
    """The good step with its statement edited after signing (canonical still)."""
    key = KEYS[ED]
    good = step(key)
    edited = {**json.loads(good.statement), **changes}
    return replace(good, statement=statement_bytes(edited).decode())


def _signed_as(signer: AgencyPrivateKey = KEYS[ED], **changes: Any) -> SignedStep:
    """A step whose signed statement has changes (signed after them, so the signature holds)."""
    text, signature = signed(signer, statement(signer, **changes))
    return step(signer, statement=text, signature=signature)


OTHER_HEX = "ef" * 32
EXPECTED = expected_statement(CONTENT, agency=AGENCY)

CASES: list[tuple[str, SignedStep, dict[str, Any], str]] = [
    # The signature.
    ("bad signature", step(signature=KEYS[ED].sign(b"something else")), {}, "signature"),
    ("hybrid half missing", step(KEYS[HYBRID], signature=KEYS[ED].sign(b"x")), {}, "signature"),
    ("no signature", step(signature=""), {}, "signature"),
    ("oversized signature", step(signature="A" * 6001), {}, "signature"),
    # The key.
    ("wrong key", step(public_jwk=OTHER_KEY.public.to_jwk()), {}, "key"),
    ("private key given", step(public_jwk={**KEYS[ED].public.to_jwk(), "d": "x"}), {}, "key"),
    ("key not a JWK", step(public_jwk={"kty": "OKP", "crv": "X25519"}), {}, "key"),
    ("key named elsewhere", _signed_as(key=OTHER_KEY.public.thumbprint), {}, "key"),
    # Edited after signing: the signature no longer holds.
    ("particulars digest swapped", _edited(particularsSha256=OTHER_HEX), {}, "signature"),
    ("requested agency changed", _edited(requested=OTHER_AGENCY), {}, "signature"),
    ("priority raised", _edited(priority="EMERGENCY"), {}, "signature"),
    # Signed, but not what the step says.
    (
        "signed another particulars digest",
        _signed_as(particularsSha256=OTHER_HEX),
        {"expected": EXPECTED},
        "statement:particularsSha256",
    ),
    (
        "signed another requested agency",
        _signed_as(requested=OTHER_AGENCY),
        {"expected": EXPECTED},
        "statement:requested",
    ),
    (
        "signed a raised priority",
        _signed_as(priority="EMERGENCY"),
        {"expected": EXPECTED},
        "statement:priority",
    ),
    (
        "signed for another request",
        step(),
        {"expected": {**EXPECTED, "request": "ffffffff-0000-4000-8000-000000000000"}},
        "statement:request",
    ),
    (
        "expects a member the statement lacks",
        step(),
        {"expected": {**EXPECTED, "extra": 1}},
        "statement:extra",
    ),
    # The statement text.
    ("non-canonical JSON", step(statement=json.dumps(statement(KEYS[ED]))), {}, "statement"),
    ("statement not JSON", step(statement="not json"), {}, "statement"),
    ("statement oversized", step(statement='{"a":"' + "x" * 9000 + '"}'), {}, "statement"),
    ("statement malformed", _signed_as(nonce="short"), {}, "statement:nonce"),
    ("statement with an extra member", _signed_as(extra="x"), {}, "statement:extra"),
    ("statement of another format", _signed_as(format="x/1"), {}, "statement:format"),
    # The accreditation.
    ("unaccredited", step(accreditation=None), {}, "key not accredited"),
    (
        "accreditation expired",
        step(**accreditation(KEYS[ED], not_before=ISSUED - timedelta(days=60), not_after=ISSUED)),
        {},
        "key not accredited",
    ),
    (
        "accreditation not yet valid",
        step(**accreditation(KEYS[ED], not_before=ISSUED + timedelta(seconds=1))),
        {},
        "key not accredited",
    ),
    (
        "accreditation for another agency",
        step(**accreditation(KEYS[ED], agency=OTHER_AGENCY)),
        {},
        "key not accredited",
    ),
    (
        "accreditation of another key",
        step(**accreditation(OTHER_KEY)),
        {},
        "key not accredited",
    ),
    (
        "accreditation of another algorithm",
        step(**accreditation(KEYS[ED], algorithm=HYBRID)),
        {},
        "key not accredited",
    ),
    (
        "accreditation signed by a non-hub key",
        step(**accreditation(KEYS[ED], signer=ROGUE_HUB)),
        {},
        "accreditation signature",
    ),
    (
        "accreditation signed by the agency itself",
        step(**accreditation(KEYS[ED], signer=KEYS[ED])),
        {},
        "accreditation signature",
    ),
    (
        "accreditation naming another hub key",
        step(accreditation_key=ROGUE_HUB.public.thumbprint),
        {},
        "accreditation signature",
    ),
    ("accreditation unsigned", step(accreditation_signature=None), {}, "accreditation signature"),
    (
        "accreditation edited",
        step(accreditation=step().accreditation.replace("2027", "2029")),  # type: ignore[union-attr]
        {},
        "accreditation signature",
    ),
    (
        "accreditation not canonical",
        step(accreditation=" " + (step().accreditation or "")),
        {},
        "accreditation signature",
    ),
    (
        "accreditation that is a statement",
        step(
            accreditation=signed(HUB, {"format": "casehub-statement/1"})[0],
            accreditation_signature=signed(HUB, {"format": "casehub-statement/1"})[1],
        ),
        {},
        "accreditation signature",
    ),
    ("no hub keys", step(), {"hub_keys": {"keys": []}}, "accreditation signature"),
    ("hub keys not a JWKS", step(), {"hub_keys": {"keys": "x"}}, "accreditation signature"),
    ("hub keys not a mapping", step(), {"hub_keys": ["x"]}, "accreditation signature"),
    (
        "hub key whose kid is not its thumbprint",
        step(accreditation_key=None),
        {"hub_keys": {"keys": [{**HUB.public.to_jwk(), "kid": "mine"}]}},
        "accreditation signature",
    ),
    (
        "hub key that is not a key",
        step(),
        {"hub_keys": {"keys": [{"kid": HUB.public.thumbprint}]}},
        "accreditation signature",
    ),
    # Revocation.
    (
        "revoked before issuedAt",
        step(**revocation(KEYS[ED], ISSUED - timedelta(days=1))),
        {},
        "key revoked",
    ),
    ("revoked at issuedAt", step(**revocation(KEYS[ED], ISSUED)), {}, "key revoked"),
    (
        "revocation signed by a non-hub key",
        step(**revocation(KEYS[ED], ISSUED - timedelta(days=1), signer=ROGUE_HUB)),
        {},
        "revocation signature",
    ),
    (
        "revocation of another key",
        step(**revocation(OTHER_KEY, ISSUED - timedelta(days=1))),
        {},
        "revocation signature",
    ),
    (
        "revocation for another agency",
        step(**revocation(KEYS[ED], ISSUED - timedelta(days=1), agency=OTHER_AGENCY)),
        {},
        "revocation signature",
    ),
    (
        "revocation unsigned",
        step(revocation=revocation(KEYS[ED], ISSUED)["revocation"]),
        {},
        "revocation signature",
    ),
    # Received long before or after it says it was signed.
    ("issued too early", step(), {"at": ISSUED + timedelta(seconds=301)}, "statement:issuedAt"),
    ("issued in the future", step(), {"at": ISSUED - timedelta(seconds=301)}, "statement:issuedAt"),
    (
        "a tighter skew",
        step(),
        {"at": ISSUED + timedelta(seconds=31), "at_most_skew": 30},
        "statement:issuedAt",
    ),
]


@pytest.mark.parametrize(
    ("signed_step", "options", "why"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invalid_steps(signed_step, options, why):
    result = verdict(signed_step, **options)
    assert result.status is StepStatus.INVALID
    assert result.reason == why
    assert not result.verified
    if why not in ("statement",):
        assert result.statement is not None


@pytest.mark.parametrize(
    "members",
    [
        {"statement": None},
        {"statement": 7},
        {"signature": None},
        {"public_jwk": None},
        {"accreditation": 7},
        {"accreditation_signature": 7},
        {"revocation": 7, "revocation_signature": 7},
    ],
)
def test_never_raises_on_garbage(members):
    assert verdict(step(**members)).status is StepStatus.INVALID


def test_unparsable_statement_gives_no_statement():
    assert verdict(step(statement="[]")).statement is None


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("why", "error", "code", "field"),
    [
        ("statement", ValidationFailed, ErrorCode.VALIDATION, ["signature", "statement"]),
        (
            "statement:priority",
            StatementMismatch,
            ErrorCode.STATEMENT_MISMATCH,
            ["signature", "statement"],
        ),
        ("key", SignatureInvalid, ErrorCode.SIGNATURE_INVALID, ["signature", "keyThumbprint"]),
        ("signature", SignatureInvalid, ErrorCode.SIGNATURE_INVALID, ["signature", "signature"]),
        (
            "key not accredited",
            KeyNotAccredited,
            ErrorCode.KEY_NOT_ACCREDITED,
            ["signature", "keyThumbprint"],
        ),
        (
            "accreditation signature",
            KeyNotAccredited,
            ErrorCode.KEY_NOT_ACCREDITED,
            ["signature", "keyThumbprint"],
        ),
        (
            "revocation signature",
            KeyNotAccredited,
            ErrorCode.KEY_NOT_ACCREDITED,
            ["signature", "keyThumbprint"],
        ),
        ("key revoked", KeyRevoked, ErrorCode.KEY_REVOKED, ["signature", "keyThumbprint"]),
    ],
)
def test_refusal_for_each_reason(why, error, code, field):
    refusal = verdicts.refusal_for(why)
    assert type(refusal) is error
    assert refusal.code is code
    assert refusal.field == field
    assert StepVerdict(StepStatus.INVALID, why).refusal().code is code  # type: ignore[union-attr]


def test_refusal_names_the_member():
    assert "priority" in verdicts.refusal_for("statement:priority").message
