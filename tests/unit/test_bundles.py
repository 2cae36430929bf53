"""verify_bundle: a bundle built here as the hub exports one (receipts signed with a hub receipt
key, agency keys accredited with a hub accreditation key) verifies with the trust file, and
each kind of tampering names the first bad item."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from casehub.api.ids import parse_id_of, to_global_id
from casehub.crypto import ReceiptSigner
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.bundles import (
    FORMAT,
    BundleFileError,
    BundleVerdict,
    TrustFileError,
    verify_bundle,
)
from casehub.domain.requests.receipts import event_timestamp, issue_receipt
from casehub.domain.signatures import (
    SignedSteps,
    SigningAlgorithm,
    StepContent,
    accreditation_statement,
    revocation_statement,
    signature_digest,
    statement_bytes,
    statement_of,
    statement_sha256,
)

Document = dict[str, Any]
REQUEST = UUID("6f1c1a52-8a5e-4c1e-9a47-0d3b1f0e9b11")
REQUEST_ID = to_global_id("CooperationRequest", REQUEST)
REQUESTER = "0b7e6a3c-2f0d-4d5e-8a59-3c1e2d4f5a6b"
REQUESTED = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
OFFICER = "3d4c5b6a-7988-4766-9544-332211009988"
SUPERVISOR = "4e5d6c7b-8a99-4877-a655-443322110099"
PLATFORM_AGENT = "5f6e7d8c-9baa-4988-b766-554433221100"
START = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
KINDS = {REQUESTER: "LAW_ENFORCEMENT", REQUESTED: "SERVICE_PROVIDER"}

RECEIPT_KEY = ReceiptSigner.generate()
HUB = AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65)
ROGUE = AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65)
AGENCY_KEYS = {
    REQUESTER: AgencyPrivateKey.generate(SigningAlgorithm.ED25519),
    REQUESTED: AgencyPrivateKey.generate(SigningAlgorithm.ED25519),
}
TRUST = {
    "receipts": {"keys": [RECEIPT_KEY.public_jwk()]},
    "accreditation": {"keys": [{**HUB.public.to_jwk(), "kid": HUB.public.thumbprint}]},
}
# (action, acting agency, principal): an EMERGENCY request to a platform, approved.
STEPS = [
    ("CREATE", REQUESTER, OFFICER),
    ("SUBMIT", REQUESTER, OFFICER),
    ("APPROVE", REQUESTER, SUPERVISOR),
    ("ACKNOWLEDGE", REQUESTED, PLATFORM_AGENT),
    ("ACCEPT", REQUESTED, PLATFORM_AGENT),
    ("FULFIL", REQUESTED, PLATFORM_AGENT),
    ("CLOSE", REQUESTER, OFFICER),
]
SIGNED = ("SUBMIT", "APPROVE", "ACCEPT", "FULFIL")


def signed(key: AgencyPrivateKey, obj: dict[str, Any]) -> tuple[str, str]:
    raw = statement_bytes(obj)
    return raw.decode(), key.sign(raw)


def accreditation(agency: str, signer: AgencyPrivateKey = HUB) -> dict[str, str]:
    agency_key = AGENCY_KEYS[agency]
    text, signature = signed(
        signer,
        accreditation_statement(
            agency=agency,
            code="CODE",
            jurisdiction="MY",
            kind=KINDS[agency],
            algorithm=agency_key.algorithm,
            thumbprint=agency_key.public.thumbprint,
            not_before=START - timedelta(days=1),
            not_after=START + timedelta(days=30),
            issued_at=START - timedelta(days=1),
        ),
    )
    return {"statement": text, "signature": signature, "hubKey": signer.public.thumbprint}


def revocation(agency: str, revoked_at: datetime, signer: AgencyPrivateKey = HUB) -> dict[str, str]:
    text, signature = signed(
        signer,
        revocation_statement(
            agency=agency,
            thumbprint=AGENCY_KEYS[agency].public.thumbprint,
            revoked_at=revoked_at,
            reason="laptop stolen",
        ),
    )
    return {"statement": text, "signature": signature}


def step_statement(
    number: int, action: str, agency: str, principal: str, countersigns: str | None
) -> dict[str, Any]:
    content = StepContent(
        action=action,
        request=REQUEST,
        kind="EMERGENCY_DISCLOSURE",
        priority="EMERGENCY",
        requester=REQUESTER,
        requested=REQUESTED,
        legal_basis="UNTOC art. 18",
        body_sha256="ab" * 32,
        particulars_sha256="cd" * 32,
        text_sha256="ef" * 32 if action == "FULFIL" else None,
        outcome="FULL" if action == "FULFIL" else None,
        countersigns=countersigns,
    )
    return statement_of(
        content,
        agency=agency,
        principal=principal,
        key=AGENCY_KEYS[agency].public.thumbprint,
        issued_at=START + timedelta(minutes=number),
        nonce=f"nonce-of-step-{number:04d}",
    )


def event_of(number: int, action: str, agency: str, principal: str) -> dict[str, Any]:
    return {
        "request": str(REQUEST),
        "number": number,
        "action": action,
        "from": None,
        "to": "SOMEWHERE",
        "requester": REQUESTER,
        "requested": REQUESTED,
        "actorAgency": agency,
        "actorPrincipal": principal,
        "at": event_timestamp(START + timedelta(minutes=number, seconds=2)),
        "messageSha256": None,
    }


def build(signed_actions: tuple[str, ...] = SIGNED) -> Document:
    """The bundle of the request of STEPS with those actions signed."""
    events = []
    signatures = []
    submission: str | None = None
    for number, (action, agency, principal) in enumerate(STEPS, start=1):
        event = event_of(number, action, agency, principal)
        if action in signed_actions:
            countersigns = submission if action == "APPROVE" else None
            text, signature = signed(
                AGENCY_KEYS[agency],
                step_statement(number, action, agency, principal, countersigns),
            )
            if action == "SUBMIT":
                submission = statement_sha256(text)
            event["signatures"] = [signature_digest(text, signature)]
            signatures.append(
                {
                    "event": number,
                    "role": "COUNTERSIGNER" if countersigns else "SIGNER",
                    "statement": text,
                    "signature": signature,
                    "publicKey": AGENCY_KEYS[agency].public.to_jwk(),
                    "accreditation": accreditation(agency),
                    "revocation": None,
                }
            )
        events.append(event)
    document: Document = {
        "format": FORMAT,
        "request": {
            "id": REQUEST_ID,
            "kind": "EMERGENCY_DISCLOSURE",
            "priority": "EMERGENCY",
            "requester": {"id": REQUESTER, "kind": KINDS[REQUESTER]},
            "requested": {"id": REQUESTED, "kind": KINDS[REQUESTED]},
        },
        "receipts": {"format": "casehub-receipts/1", "request": REQUEST_ID, "receipts": []},
        "signatures": signatures,
        "policy": {"signedSteps": "all", "mustSign": []},
        "hubKeys": TRUST,
    }
    rechain(document, events)
    return document


def rechain(document: Document, events: list[dict[str, Any]] | None = None) -> None:
    """Issue the receipt chain again with the hub's receipt key (an attacker holding it)."""
    if events is None:
        events = [receipt["event"] for receipt in document["receipts"]["receipts"]]
    prev = None
    receipts = []
    for event in events:
        receipt = issue_receipt(event, prev, RECEIPT_KEY)
        receipts.append(receipt.to_dict())
        prev = receipt.digest
    document["receipts"]["receipts"] = receipts
    document["receipts"]["keys"] = TRUST["receipts"]


def verify(
    document: object,
    trust: object = TRUST,
    policy: SignedSteps = SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER,
) -> BundleVerdict:
    return verify_bundle(
        document,
        trust,
        request_of=lambda text: parse_id_of("CooperationRequest", text, ["request"]),
        policy=policy,
    )


def signature_of(document: Document, action: str) -> dict[str, Any]:
    number = next(n for n, (name, _, _) in enumerate(STEPS, start=1) if name == action)
    found: dict[str, Any] = next(s for s in document["signatures"] if s["event"] == number)
    return found


def event(document: Document, action: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        r["event"] for r in document["receipts"]["receipts"] if r["event"]["action"] == action
    )
    return found


def resign(document: Document, action: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a step's statement, sign it again with its agency's key, commit the receipt to the
    new signature and re-issue the chain: everyone's keys but the statement is wrong."""
    entry = signature_of(document, action)
    statement = json.loads(entry["statement"])
    edit(statement)
    agency = statement["agency"]
    old = signature_digest(entry["statement"], entry["signature"])
    entry["statement"], entry["signature"] = signed(AGENCY_KEYS[agency], statement)
    committed = event(document, action)
    committed["signatures"] = [
        signature_digest(entry["statement"], entry["signature"]) if item == old else item
        for item in committed["signatures"]
    ]
    rechain(document)


GENUINE = build()


def test_a_genuine_bundle_verifies() -> None:
    verdict = verify(copy.deepcopy(GENUINE))
    assert verdict == BundleVerdict(True, 7, 4)
    assert verdict.describe() == "verified: 7 events, 4 signatures"


def test_the_keys_in_the_file_are_never_used() -> None:
    """A forger re-signs everything with their own keys and ships them in the file."""
    document = copy.deepcopy(GENUINE)
    rogue_receipts = ReceiptSigner.generate()
    document["hubKeys"] = {"receipts": {"keys": [rogue_receipts.public_jwk()]}}
    prev = None
    for receipt in document["receipts"]["receipts"]:
        issued = issue_receipt(receipt["event"], prev, rogue_receipts)
        receipt.update(issued.to_dict())
        prev = issued.digest
    document["receipts"]["keys"] = {"keys": [rogue_receipts.public_jwk()]}
    verdict = verify(document)
    assert (verdict.item, verdict.reason is not None) == ("receipt 1 of 7 (event 1, CREATE)", True)
    assert "does not verify" in (verdict.reason or "")


def edit_statement(document: Document) -> None:
    entry = signature_of(document, "ACCEPT")
    entry["statement"] = entry["statement"].replace('"EMERGENCY"', '"ROUTINE"')


def swap_signatures(document: Document) -> None:
    submit, accept = signature_of(document, "SUBMIT"), signature_of(document, "ACCEPT")
    submit["signature"], accept["signature"] = accept["signature"], submit["signature"]


def remove_signature(document: Document) -> None:
    document["signatures"].remove(signature_of(document, "ACCEPT"))


def remove_signature_and_commitment(document: Document) -> None:
    remove_signature(document)
    del event(document, "ACCEPT")["signatures"]
    rechain(document)


def edit_receipt_digest(document: Document) -> None:
    receipt = document["receipts"]["receipts"][1]
    receipt["event"]["signatures"] = ["00" * 32]


def reorder_receipts(document: Document) -> None:
    receipts = document["receipts"]["receipts"]
    receipts[3], receipts[4] = receipts[4], receipts[3]


def rogue_accreditation(document: Document) -> None:
    signature_of(document, "SUBMIT")["accreditation"] = accreditation(REQUESTER, ROGUE)


def revoked_before(document: Document) -> None:
    signature_of(document, "ACCEPT")["revocation"] = revocation(REQUESTED, START)


def rogue_revocation(document: Document) -> None:
    later = START + timedelta(days=2)
    signature_of(document, "FULFIL")["revocation"] = revocation(REQUESTED, later, ROGUE)


def revoked_after(document: Document) -> None:
    later = START + timedelta(days=2)
    signature_of(document, "FULFIL")["revocation"] = revocation(REQUESTED, later)


def wrong_countersign(document: Document) -> None:
    def edit(statement: dict[str, Any]) -> None:
        statement["countersigns"] = "00" * 32

    resign(document, "APPROVE", edit)


def backdated(document: Document) -> None:
    def edit(statement: dict[str, Any]) -> None:
        statement["issuedAt"] = "2026-12-05T09:00:00Z"

    resign(document, "ACCEPT", edit)


def resigned_priority(document: Document) -> None:
    def edit(statement: dict[str, Any]) -> None:
        statement["priority"] = "ROUTINE"

    resign(document, "ACCEPT", edit)


def resigned_not_committed(document: Document) -> None:
    entry = signature_of(document, "ACCEPT")
    statement = json.loads(entry["statement"])
    statement["nonce"] = "another-nonce-entirely"
    entry["statement"], entry["signature"] = signed(AGENCY_KEYS[REQUESTED], statement)


def other_principal(document: Document) -> None:
    def edit(statement: dict[str, Any]) -> None:
        statement["principal"] = OFFICER

    resign(document, "FULFIL", edit)


def other_body(document: Document) -> None:
    def edit(statement: dict[str, Any]) -> None:
        statement["bodySha256"] = "99" * 32

    resign(document, "ACCEPT", edit)


def header_priority(document: Document) -> None:
    document["request"]["priority"] = "ROUTINE"


def header_requested_kind(document: Document) -> None:
    document["request"]["requested"]["kind"] = "LAW_ENFORCEMENT"


def header_requester(document: Document) -> None:
    document["request"]["requester"]["id"] = PLATFORM_AGENT


def wrong_role(document: Document) -> None:
    signature_of(document, "APPROVE")["role"] = "SIGNER"


def duplicate(document: Document) -> None:
    document["signatures"].append(copy.deepcopy(signature_of(document, "SUBMIT")))


def unknown_event(document: Document) -> None:
    signature_of(document, "ACCEPT")["event"] = 99


def on_unsigned_step(document: Document) -> None:
    entry = copy.deepcopy(signature_of(document, "ACCEPT"))
    entry["event"] = 4
    document["signatures"].append(entry)


def malformed_entry(document: Document) -> None:
    del signature_of(document, "APPROVE")["publicKey"]


def malformed_accreditation(document: Document) -> None:
    signature_of(document, "SUBMIT")["accreditation"] = {"statement": "x"}


def no_accreditation(document: Document) -> None:
    signature_of(document, "SUBMIT")["accreditation"] = None


Tamper = Callable[[Document], None]
CASES: list[Any] = [
    pytest.param(edit_statement, "event 5 (ACCEPT)", "signature", id="statement-edited"),
    pytest.param(swap_signatures, "event 2 (SUBMIT)", "signature", id="signatures-swapped"),
    pytest.param(remove_signature, "event 5 (ACCEPT)", "signature missing", id="removed"),
    pytest.param(
        remove_signature_and_commitment,
        "event 5 (ACCEPT)",
        "unsigned but required",
        id="removed-with-commitment",
    ),
    pytest.param(
        edit_receipt_digest, "receipt 2 of 7 (event 2, SUBMIT)", "digest", id="receipt-digest"
    ),
    pytest.param(
        reorder_receipts, "receipt 4 of 7 (event 5, ACCEPT)", "prev_digest", id="reordered"
    ),
    pytest.param(
        rogue_accreditation, "event 2 (SUBMIT)", "accreditation signature", id="rogue-accr"
    ),
    pytest.param(no_accreditation, "event 2 (SUBMIT)", "key not accredited", id="no-accr"),
    pytest.param(revoked_before, "event 5 (ACCEPT)", "key revoked", id="revoked-before"),
    pytest.param(
        rogue_revocation, "event 6 (FULFIL)", "revocation signature", id="rogue-revocation"
    ),
    pytest.param(
        wrong_countersign, "event 3 (APPROVE)", "statement:countersigns", id="countersigns"
    ),
    pytest.param(backdated, "event 5 (ACCEPT)", "statement:issuedAt", id="backdated"),
    pytest.param(resigned_priority, "event 5 (ACCEPT)", "statement:priority", id="re-signed"),
    pytest.param(resigned_not_committed, "event 5 (ACCEPT)", "receipt", id="not-committed"),
    pytest.param(other_principal, "event 6 (FULFIL)", "statement:principal", id="principal"),
    pytest.param(other_body, "event 5 (ACCEPT)", "statement:bodySha256", id="body"),
    pytest.param(header_priority, "event 2 (SUBMIT)", "statement:priority", id="header-prio"),
    pytest.param(header_requested_kind, "event 5 (ACCEPT)", "accreditation:kind", id="header-kind"),
    pytest.param(
        header_requester,
        "request",
        "its requester is not the receipts' requester",
        id="header-party",
    ),
    pytest.param(wrong_role, "event 3 (APPROVE)", "role", id="role"),
    pytest.param(duplicate, "event 2 (SUBMIT)", "signature extra", id="duplicate"),
    pytest.param(unknown_event, "signature 3", "names no event of the receipts", id="event-99"),
    pytest.param(
        on_unsigned_step,
        "event 4 (ACKNOWLEDGE)",
        "signature on a step that is never signed",
        id="not-signable",
    ),
    pytest.param(malformed_entry, "signature 2", "malformed: publicKey", id="malformed"),
    pytest.param(
        malformed_accreditation, "signature 1", "malformed: accreditation", id="malformed-accr"
    ),
]


@pytest.mark.parametrize(("tamper", "item", "reason"), CASES)
def test_tampering_names_the_first_bad_item(tamper: Tamper, item: str, reason: str) -> None:
    document = copy.deepcopy(GENUINE)
    tamper(document)
    verdict = verify(document)
    assert not verdict.ok
    assert verdict.item == item, verdict
    assert reason in (verdict.reason or ""), verdict
    assert verdict.describe() == f"{item}: {verdict.reason}"


def test_a_revocation_after_the_statement_still_verifies() -> None:
    document = copy.deepcopy(GENUINE)
    revoked_after(document)
    assert verify(document).ok


@pytest.mark.parametrize(
    ("signed_actions", "policy", "item"),
    [
        pytest.param(("APPROVE",), SignedSteps.NONE, None, id="none-needs-only-approve"),
        pytest.param((), SignedSteps.NONE, "event 3 (APPROVE)", id="approve-always"),
        pytest.param(
            ("APPROVE",),
            SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER,
            "event 2 (SUBMIT)",
            id="default-emergency",
        ),
        pytest.param(SIGNED, SignedSteps.ALL, None, id="all-signed"),
    ],
)
def test_the_policy_is_the_verifiers(
    signed_actions: tuple[str, ...], policy: SignedSteps, item: str | None
) -> None:
    document = build(signed_actions)
    # What the file says the hub required does not matter.
    document["policy"] = {"signedSteps": "none", "mustSign": []}
    verdict = verify(document, policy=policy)
    assert verdict.item == item, verdict
    assert verdict.ok is (item is None)
    if item is not None:
        assert verdict.reason == "unsigned but required"


def test_an_unsigned_routine_request_to_an_authority_verifies_by_default() -> None:
    document = build(("APPROVE",))
    document["request"]["priority"] = "ROUTINE"
    document["request"]["requested"]["kind"] = "LAW_ENFORCEMENT"
    # The APPROVE statement says EMERGENCY: the header decides the policy, the statement
    # still has to agree with it.
    verdict = verify(document)
    assert (verdict.item, verdict.reason) == ("event 3 (APPROVE)", "statement:priority")
    assert verify(document, policy=SignedSteps.ALL).item == "event 2 (SUBMIT)"


def not_an_object(document: Document) -> object:
    return [document]


def other_format(document: Document) -> object:
    return {**document, "format": "casehub-receipts/1"}


def no_header(document: Document) -> object:
    return {**document, "request": None}


def header_without_party(document: Document) -> object:
    return {**document, "request": {**document["request"], "requested": "x"}}


def receipts_of_another_request(document: Document) -> object:
    other = to_global_id("CooperationRequest", UUID(int=1))
    return {**document, "receipts": {**document["receipts"], "request": other}}


def signatures_not_a_list(document: Document) -> object:
    return {**document, "signatures": {}}


def empty_chain(document: Document) -> object:
    return {**document, "receipts": {**document["receipts"], "receipts": []}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(not_an_object, "casehub-bundle/1", id="not-an-object"),
        pytest.param(other_format, "casehub-bundle/1", id="format"),
        pytest.param(no_header, "no request header", id="no-header"),
        pytest.param(header_without_party, "has no requested", id="no-party"),
        pytest.param(receipts_of_another_request, "not a receipts export", id="other-request"),
        pytest.param(signatures_not_a_list, "no list of signatures", id="signatures"),
        pytest.param(empty_chain, "no receipts", id="empty-chain"),
    ],
)
def test_a_file_that_is_no_bundle_is_refused(
    change: Callable[[Document], object], message: str
) -> None:
    with pytest.raises(BundleFileError, match=message) as raised:
        verify(change(copy.deepcopy(GENUINE)))
    assert not isinstance(raised.value, TrustFileError)


@pytest.mark.parametrize(
    ("trust", "message"),
    [
        pytest.param([], "not a JSON object", id="array"),
        pytest.param({"receipts": TRUST["receipts"]}, "'accreditation'", id="no-accreditation"),
        pytest.param({**TRUST, "receipts": {"keys": {}}}, "'receipts'", id="keys-not-a-list"),
    ],
)
def test_a_trust_file_that_is_none_is_refused(trust: object, message: str) -> None:
    with pytest.raises(TrustFileError, match=message):
        verify(copy.deepcopy(GENUINE), trust)


def test_a_trust_file_of_another_hub_fails_on_the_first_receipt() -> None:
    other = {**TRUST, "receipts": {"keys": [ReceiptSigner.generate().public_jwk()]}}
    verdict = verify(copy.deepcopy(GENUINE), other)
    assert verdict.item == "receipt 1 of 7 (event 1, CREATE)"
    rogue = {**TRUST, "accreditation": {"keys": [{**ROGUE.public.to_jwk(), "kid": "x"}]}}
    verdict = verify(copy.deepcopy(GENUINE), rogue)
    assert (verdict.item, verdict.reason) == ("event 2 (SUBMIT)", "accreditation signature")
