"""Step statements: their members, canonical bytes, parsing, comparison and digests; and the
hub's accreditation and revocation statements."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
import rfc8785

from casehub.domain.enums import IdentifierKind
from casehub.domain.errors import ValidationFailed
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import Particulars, particulars_json
from casehub.domain.signatures import (
    SigningAlgorithm,
    StepContent,
    accreditation_problem,
    accreditation_statement,
    body_sha256,
    expected_statement,
    first_mismatch,
    new_nonce,
    parse_statement,
    particulars_normal_form,
    particulars_normal_form_of,
    particulars_sha256,
    revocation_problem,
    revocation_statement,
    signature_digest,
    statement_bytes,
    statement_of,
    statement_problem,
    statement_sha256,
)
from casehub.domain.signatures.statements import STATEMENT_MAX_BYTES

REQUEST = UUID("6F1C1A52-8A5E-4C1E-9A47-0D3B1F0E9B11")
REQUESTER = UUID("0b7e6a3c-2f0d-4d5e-8a59-3c1e2d4f5a6b")
REQUESTED = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
PRINCIPAL = UUID("3d4c5b6a-7988-4766-9544-332211009988")
KEY = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
NONCE = "n0nce-of_sixteen"
AT = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
HEX_A = hashlib.sha256(b"a").hexdigest()
HEX_B = hashlib.sha256(b"b").hexdigest()
CONTENT = StepContent(
    action="SUBMIT",
    request=REQUEST,
    kind="EMERGENCY_DISCLOSURE",
    priority="EMERGENCY",
    requester=REQUESTER,
    requested=REQUESTED,
    legal_basis=None,
    body_sha256=HEX_A,
    particulars_sha256=HEX_B,
    evidence_sha256=(HEX_B, HEX_A),
)
MEMBERS = {
    "action",
    "agency",
    "bodySha256",
    "countersigns",
    "evidenceSha256",
    "format",
    "issuedAt",
    "key",
    "kind",
    "legalBasis",
    "nonce",
    "outcome",
    "particularsSha256",
    "principal",
    "priority",
    "request",
    "requested",
    "requester",
    "textSha256",
}


def statement(content=CONTENT, **changes):
    arguments = {
        "agency": REQUESTER,
        "principal": PRINCIPAL,
        "key": KEY,
        "issued_at": AT,
        "nonce": NONCE,
        **changes,
    }
    return statement_of(content, **arguments)


# --- statement_of ---------------------------------------------------------------------------


def test_statement_has_every_member():
    built = statement()
    assert set(built) == MEMBERS
    assert built == {
        "format": "casehub-statement/1",
        "action": "SUBMIT",
        "request": "6f1c1a52-8a5e-4c1e-9a47-0d3b1f0e9b11",
        "kind": "EMERGENCY_DISCLOSURE",
        "priority": "EMERGENCY",
        "requester": str(REQUESTER),
        "requested": REQUESTED,
        "legalBasis": None,
        "bodySha256": HEX_A,
        "particularsSha256": HEX_B,
        "evidenceSha256": sorted([HEX_A, HEX_B]),
        "textSha256": None,
        "outcome": None,
        "countersigns": None,
        "agency": str(REQUESTER),
        "principal": str(PRINCIPAL),
        "key": KEY,
        "issuedAt": "2026-12-05T10:00:00Z",
        "nonce": NONCE,
    }
    assert statement_problem(built) is None


def test_statement_takes_enum_members_and_uuid_text():
    from casehub.domain.requests.transitions import FulfilOutcome, Priority, RequestKind

    content = replace(
        CONTENT,
        action="FULFIL",
        kind=RequestKind.DATA_DISCLOSURE,
        priority=Priority.ROUTINE,
        outcome=FulfilOutcome.PARTIAL,
        request=str(REQUEST),
        text_sha256=HEX_A,
    )
    built = statement(content)
    assert built["kind"] == "DATA_DISCLOSURE"
    assert type(built["kind"]) is str
    assert built["outcome"] == "PARTIAL"
    assert type(built["outcome"]) is str
    assert built["request"] == str(REQUEST)
    assert b'"outcome":"PARTIAL"' in statement_bytes(built)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (AT.replace(microsecond=999_999), "2026-12-05T10:00:00Z"),
        (datetime(2026, 12, 5, 12, 0, tzinfo=timezone(timedelta(hours=2))), "2026-12-05T10:00:00Z"),
        (datetime(1999, 1, 2, 3, 4, 5, tzinfo=UTC), "1999-01-02T03:04:05Z"),
    ],
)
def test_issued_at_is_utc_whole_seconds(moment, text):
    assert statement(issued_at=moment)["issuedAt"] == text


@pytest.mark.parametrize(
    ("content", "changes", "member"),
    [
        (replace(CONTENT, action="WITHDRAW"), {}, "action"),
        (replace(CONTENT, kind="PIZZA"), {}, "kind"),
        (replace(CONTENT, priority="emergency"), {}, "priority"),
        (replace(CONTENT, body_sha256=HEX_A.upper()), {}, "bodySha256"),
        (replace(CONTENT, particulars_sha256="ab"), {}, "particularsSha256"),
        (replace(CONTENT, evidence_sha256=("x",)), {}, "evidenceSha256"),
        (replace(CONTENT, evidence_sha256=(HEX_A,) * 51), {}, "evidenceSha256"),
        (replace(CONTENT, text_sha256="nothex"), {}, "textSha256"),
        (replace(CONTENT, outcome="ALL"), {}, "outcome"),
        (replace(CONTENT, countersigns=""), {}, "countersigns"),
        (CONTENT, {"nonce": "short"}, "nonce"),
        (CONTENT, {"nonce": "x" * 65}, "nonce"),
        (CONTENT, {"nonce": "sixteen chars ok"}, "nonce"),
        (CONTENT, {"nonce": "sixteen+chars/ok"}, "nonce"),
        (CONTENT, {"key": "short"}, "key"),
    ],
)
def test_statement_of_refuses_malformed_members(content, changes, member):
    with pytest.raises(ValueError, match=f"statement's {member} is malformed"):
        statement(content, **changes)


def test_statement_of_refuses_a_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        statement(issued_at=datetime(2026, 12, 5, 10, 0))


def test_statement_of_refuses_an_id_that_is_no_uuid():
    with pytest.raises(ValueError, match="badly formed hexadecimal UUID string"):
        statement(replace(CONTENT, request="CooperationRequest:1"))


@pytest.mark.parametrize("nonce", ["a" * 16, "A-_9" * 16, "n0Nce_with-Dash_And-32-chars-xyz"])
def test_nonces_accepted(nonce):
    assert statement(nonce=nonce)["nonce"] == nonce


def test_new_nonces_differ_and_are_well_formed():
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(statement(nonce=nonce) for nonce in nonces)


def test_expected_statement_names_only_what_it_is_given():
    assert set(expected_statement(CONTENT, agency=REQUESTER)) == MEMBERS - {
        "principal",
        "key",
        "issuedAt",
        "nonce",
    }
    full = expected_statement(CONTENT, agency=REQUESTER, principal=PRINCIPAL, key=KEY)
    assert full == {k: v for k, v in statement().items() if k not in ("issuedAt", "nonce")}


# --- canonical bytes and parsing -------------------------------------------------------------


def test_statement_bytes_are_rfc8785():
    built = statement(replace(CONTENT, legal_basis="Art. 29 \u2013 «urgent» € 😀"))
    raw = statement_bytes(built)
    assert raw == rfc8785.dumps(built)
    assert raw.startswith(b'{"action":"SUBMIT","agency":')
    assert "\u2013 «urgent» € 😀".encode() in raw  # not escaped
    assert b": " not in raw
    assert b", " not in raw
    assert parse_statement(raw.decode()) == built


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a":"' + "x" * STATEMENT_MAX_BYTES + '"}', "longer than 8192 bytes"),
        ('{"a":"' + "é" * 4100 + '"}', "longer than 8192 bytes"),  # few chars, many bytes
        ("", "not JSON"),
        ("{", "not JSON"),
        ('{"a":NaN}', "not in RFC 8785 canonical form"),
        ("[" * 4000 + "]" * 4000, "not JSON"),
        ("[]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ("null", "not a JSON object"),
        ('{"b":1,"a":2}', "not in RFC 8785 canonical form"),
        ('{"a": 1}', "not in RFC 8785 canonical form"),
        ('{"a":1}\n', "not in RFC 8785 canonical form"),
        ('{"a":1,"a":1}', "not in RFC 8785 canonical form"),
        ('{"a":"\\u0041"}', "not in RFC 8785 canonical form"),
        ('{"a":1.0}', "not in RFC 8785 canonical form"),
        ('{"a":"\\ud800"}', "not in RFC 8785 canonical form"),
        ('{"a":"\ud800"}', "not valid UTF-8 text"),
        ('{"a":' + "[" * 3000 + "]" * 3000 + "}", "not JSON"),
    ],
)
def test_parse_statement_refuses(text, message):
    with pytest.raises(ValidationFailed) as error:
        parse_statement(text)
    assert message in error.value.message
    assert error.value.field == ["signature", "statement"]


def test_parse_statement_accepts_exactly_8_kib():
    text = '{"a":"' + "x" * (STATEMENT_MAX_BYTES - 8) + '"}'
    assert len(text.encode()) == STATEMENT_MAX_BYTES
    assert parse_statement(text) == {"a": "x" * (STATEMENT_MAX_BYTES - 8)}


def test_parse_statement_refuses_a_non_string():
    with pytest.raises(ValidationFailed):
        parse_statement(b'{"a":1}')  # type: ignore[arg-type]


# --- shape and comparison --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "member"),
    [
        ({"format": "casehub-statement/2"}, "format"),
        ({"action": "CLOSE"}, "action"),
        ({"action": ["SUBMIT"]}, "action"),
        ({"request": str(REQUEST).upper()}, "request"),
        ({"requested": None}, "requested"),
        ({"agency": 7}, "agency"),
        ({"legalBasis": 7}, "legalBasis"),
        ({"evidenceSha256": [HEX_A, HEX_B]}, "evidenceSha256"),  # not sorted
        ({"evidenceSha256": HEX_A}, "evidenceSha256"),
        ({"issuedAt": "2026-12-05T10:00:00.000Z"}, "issuedAt"),
        ({"issuedAt": "2026-12-05T10:00:00+00:00"}, "issuedAt"),
        ({"issuedAt": "2026-13-05T10:00:00Z"}, "issuedAt"),
        ({"outcome": "FULL "}, "outcome"),
        ({"zzz": 1}, "zzz"),
        ({"aaa": 1, "zzz": 1}, "aaa"),
    ],
)
def test_statement_problem_names_the_first_bad_member(changes, member):
    assert statement_problem({**statement(), **changes}) == member


@pytest.mark.parametrize("missing", sorted(MEMBERS))
def test_statement_problem_names_a_missing_member(missing):
    built = statement()
    del built[missing]
    assert statement_problem(built) == missing


@pytest.mark.parametrize(
    ("expected", "given", "member"),
    [
        ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}, None),
        ({}, {}, None),
        ({"a": 1, "b": 2}, {"a": 1, "b": 3}, "b"),
        ({"a": 1, "b": 2}, {"a": 0, "b": 3}, "a"),
        ({"a": 1}, {"a": 1, "b": 2}, "b"),
        ({"a": 1, "b": 2}, {"b": 2}, "a"),
        ({"a": True}, {"a": 1}, "a"),
        ({"a": None}, {"a": "null"}, "a"),
        ({"a": [1, 2]}, {"a": [2, 1]}, "a"),
        ({"a": {"x": 1}}, {"a": {"x": 1.5}}, "a"),
        ({"a": float("nan")}, {"a": float("nan")}, "a"),
    ],
)
def test_first_mismatch(expected, given, member):
    assert first_mismatch(expected, given) == member


def test_first_mismatch_finds_an_edited_statement():
    signed = statement()
    assert first_mismatch(signed, {**signed, "priority": "URGENT"}) == "priority"
    assert first_mismatch(signed, {**signed, "requested": str(REQUESTER)}) == "requested"


# --- digests and the particulars' normal form ------------------------------------------------

PARTICULARS = Particulars(
    offence="Fraud",
    imminent_threat="Threat to life",
    follow_up_mla=False,
    account_identifiers=(
        IdentifierInput(IdentifierKind.PHONE, "+60123456789", None, None),
        IdentifierInput(IdentifierKind.CRYPTO_WALLET, "0xabc", None, "ethereum"),
    ),
    content_locations=("https://example.org/post/1",),
)
EMPTY_FORM: dict[str, object] = {
    "offence": None,
    "dataToPreserve": None,
    "custodianOrLocation": None,
    "followUpMla": None,
    "imminentThreat": None,
    "accountIdentifiers": [],
    "contentLocations": [],
}


def test_particulars_normal_form_of_stored_json():
    assert particulars_normal_form(particulars_json(PARTICULARS)) == {
        "offence": "Fraud",
        "dataToPreserve": None,
        "custodianOrLocation": None,
        "followUpMla": False,
        "imminentThreat": "Threat to life",
        "accountIdentifiers": [
            {"kind": "PHONE", "value": "+60123456789", "platform": None, "chain": None},
            {"kind": "CRYPTO_WALLET", "value": "0xabc", "platform": None, "chain": "ethereum"},
        ],
        "contentLocations": ["https://example.org/post/1"],
    }
    assert particulars_normal_form_of(PARTICULARS) == particulars_normal_form(
        particulars_json(PARTICULARS)
    )


@pytest.mark.parametrize(
    "stored",
    [None, "{}", particulars_json(Particulars()), '{"accountIdentifiers":[]}'],
)
def test_particulars_normal_form_fills_every_member(stored):
    assert particulars_normal_form(stored) == EMPTY_FORM


def test_particulars_normal_form_keeps_identifier_order():
    swapped = replace(PARTICULARS, account_identifiers=PARTICULARS.account_identifiers[::-1])
    one = particulars_sha256(particulars_normal_form(particulars_json(PARTICULARS)))
    two = particulars_sha256(particulars_normal_form(particulars_json(swapped)))
    assert one != two


def test_particulars_sha256_is_over_jcs():
    form = particulars_normal_form_of(PARTICULARS)
    assert particulars_sha256(form) == hashlib.sha256(rfc8785.dumps(form)).hexdigest()
    # Member order of the dict does not matter, as the bytes are canonical.
    assert particulars_sha256(dict(reversed(form.items()))) == particulars_sha256(form)
    assert (
        particulars_sha256(EMPTY_FORM)
        == hashlib.sha256(
            b'{"accountIdentifiers":[],"contentLocations":[],"custodianOrLocation":null,'
            b'"dataToPreserve":null,"followUpMla":null,"imminentThreat":null,"offence":null}'
        ).hexdigest()
    )


@pytest.mark.parametrize(
    ("text", "raw"),
    [("", b""), ("body", b"body"), ("é\r\n😀", "é\r\n😀".encode())],
)
def test_body_sha256_is_over_utf8(text, raw):
    assert body_sha256(text) == hashlib.sha256(raw).hexdigest()


def test_statement_and_signature_digests():
    text = statement_bytes(statement()).decode()
    assert statement_sha256(text) == hashlib.sha256(text.encode()).hexdigest()
    assert signature_digest(text, "sig.nature") == (
        hashlib.sha256(text.encode() + b".sig.nature").hexdigest()
    )


# --- accreditation and revocation statements -------------------------------------------------

ACCREDITATION: dict[str, Any] = {
    "agency": REQUESTER,
    "code": "MY-PDRM",
    "jurisdiction": "MY",
    "kind": "POLICE",
    "algorithm": SigningAlgorithm.ED25519,
    "thumbprint": KEY,
    "not_before": AT,
    "not_after": AT + timedelta(days=365),
    "issued_at": AT - timedelta(seconds=1),
}


def test_accreditation_statement():
    built = accreditation_statement(**ACCREDITATION)
    assert built == {
        "format": "casehub-accreditation/1",
        "agency": str(REQUESTER),
        "code": "MY-PDRM",
        "jurisdiction": "MY",
        "kind": "POLICE",
        "algorithm": "Ed25519",
        "thumbprint": KEY,
        "notBefore": "2026-12-05T10:00:00Z",
        "notAfter": "2027-12-05T10:00:00Z",
        "issuedAt": "2026-12-05T09:59:59Z",
    }
    assert accreditation_problem(built) is None
    assert json.loads(statement_bytes(built)) == built


@pytest.mark.parametrize(
    ("changes", "member"),
    [
        ({"not_after": AT}, "notAfter"),
        ({"not_after": AT + timedelta(microseconds=5)}, "notAfter"),
        ({"not_after": AT - timedelta(days=1)}, "notAfter"),
        ({"thumbprint": "x"}, "thumbprint"),
        ({"algorithm": "RSA"}, "algorithm"),
    ],
)
def test_accreditation_statement_refuses(changes, member):
    with pytest.raises(ValueError, match=f"accreditation's {member} is malformed"):
        accreditation_statement(**{**ACCREDITATION, **changes})


@pytest.mark.parametrize(
    ("changes", "member"),
    [
        ({"format": "casehub-revocation/1"}, "format"),
        ({"code": None}, "code"),
        ({"notBefore": "2026-12-05"}, "notBefore"),
        ({"extra": 1}, "extra"),
    ],
)
def test_accreditation_problem(changes, member):
    assert accreditation_problem({**accreditation_statement(**ACCREDITATION), **changes}) == member


def test_revocation_statement():
    built = revocation_statement(agency=REQUESTER, thumbprint=KEY, revoked_at=AT, reason="lost")
    assert built == {
        "format": "casehub-revocation/1",
        "agency": str(REQUESTER),
        "thumbprint": KEY,
        "revokedAt": "2026-12-05T10:00:00Z",
        "reason": "lost",
    }
    assert revocation_problem(built) is None
    assert revocation_problem({**built, "revokedAt": None}) == "revokedAt"
    with pytest.raises(ValueError, match="revocation's thumbprint is malformed"):
        revocation_statement(agency=REQUESTER, thumbprint="", revoked_at=AT, reason="lost")
