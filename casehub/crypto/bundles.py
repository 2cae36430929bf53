"""Offline verification of a request's signature bundle (format casehub-bundle/1, written by
casehub.services.requests.bundles) with nothing but the hub's public keys from a trust file.

The bundle holds the request's header (kind, priority, both parties and their kinds), its
receipt chain (a casehub-receipts/1 document), every agency signature on its steps with the
key's public JWK and the hub's accreditation (and revocation) of the key. The verifier applies
the rules of the hub's own verification (casehub.services.requests.verification) without the
database: each receipt chains and is signed by a trusted receipt key; each signature verifies
with verify_step against the trusted accreditation keys, at its event's receipt time; its
statement says what the event and the header say; each event's receipt commits to exactly
its signatures; an approval countersigns the submission; and every step the signing policy
requires is signed. The keys and policy the file carries are never used: only the trust file
and the policy the verifier names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from casehub.crypto.receipt_files import ReceiptFileError, verify_document
from casehub.crypto.statements import SignedStep, verify_step
from casehub.domain.requests.receipts import Receipt
from casehub.domain.signatures import verdicts
from casehub.domain.signatures.policy import SIGNABLE, SignedSteps, must_sign
from casehub.domain.signatures.statements import (
    first_mismatch,
    signature_digest,
    statement_sha256,
)
from casehub.domain.signatures.states import SignerRole

FORMAT = "casehub-bundle/1"
PARTIES = ("requester", "requested")
# The reasons for an event, beside verify_step's (casehub.domain.signatures.verdicts); the
# first three as the hub's verification view gives them.
RECEIPT = "receipt"  # the event's receipt does not commit to this signature
MISSING = "signature missing"  # the receipt commits to a signature the bundle lacks
EXTRA = "signature extra"  # more than the one signature a step carries
UNSIGNED = "unsigned but required"
NOT_SIGNABLE = "signature on a step that is never signed"
ROLE = "role"
RECEIPT_TIME = "receipt time"
ACCREDITED_KIND = "accreditation:kind"  # the signer's accredited kind is not the header's
# Members every signed statement of one request shares: the request as the parties read it.
_SHARED = ("legalBasis", "bodySha256", "particularsSha256")
_TEXT_ACTIONS = frozenset({"DECLINE", "FULFIL"})


class BundleFileError(ValueError):
    """The document is not a bundle at all (as opposed to a bundle with a bad item)."""


class TrustFileError(BundleFileError):
    """The trust file is not one: an object with the "receipts" and "accreditation" JWKS."""


@dataclass(frozen=True, slots=True)
class BundleVerdict:
    """Whether a bundle verified: how many events and signatures, or the first bad item
    ("receipt 2 of 5 (event 2, SUBMIT)", "event 3 (ACCEPT)", "signature 4", "request") and
    why ("statement:priority", "unsigned but required", ...)."""

    ok: bool
    events: int
    signatures: int
    item: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for people."""
        if self.ok:
            return f"verified: {self.events} events, {self.signatures} signatures"
        return f"{self.item}: {self.reason}"


@dataclass(frozen=True, slots=True)
class _Party:
    id: str
    kind: str


@dataclass(frozen=True, slots=True)
class _Header:
    id: str
    kind: str
    priority: str
    parties: dict[str, _Party]


@dataclass(frozen=True, slots=True)
class _Signature:
    event: int
    role: str
    step: SignedStep


class _Bad(Exception):
    """The first bad item, raised from deep in the checks to the verdict."""

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"{item}: {reason}")
        self.item = item
        self.reason = reason


def verify_bundle(
    document: object,
    trust: object,
    *,
    request_of: Callable[[str], UUID],
    policy: SignedSteps = SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER,
    at_most_skew: int = 300,
) -> BundleVerdict:
    """Verify a bundle with the trust file {"receipts": JWKS, "accreditation": JWKS}.

    request_of decodes the request's global id into its UUID (ValueError or a DomainError if
    it is none); `policy` says which steps must be signed (recomputed from the header, never
    read from the file). BundleFileError when the document or the trust file is not one at all.
    """
    receipt_keys, hub_keys = _trust(trust)
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise BundleFileError(f"The file is not in the {FORMAT} format.")
    header = _header(document.get("request"))
    chain = document.get("receipts")
    if not isinstance(chain, Mapping) or chain.get("request") != header.id:
        raise BundleFileError("The file's receipts are not a receipts export of its request.")
    raws = document.get("signatures")
    if not isinstance(raws, list):
        raise BundleFileError("The file holds no list of signatures.")
    try:
        checked = verify_document(chain, request_of=request_of, jwks=receipt_keys)
    except ReceiptFileError as error:
        raise BundleFileError(f"Its receipts: {error}") from error
    if not checked.ok:
        return BundleVerdict(
            False, checked.total, len(raws), f"receipt {checked.bad_label}", checked.reason
        )
    events = [Receipt.from_dict(raw).event for raw in chain["receipts"]]
    try:
        _check_parties(header, events[0])
        signatures = [_signature(index, raw) for index, raw in enumerate(raws, start=1)]
        _check_events(header, events, signatures, hub_keys, policy, at_most_skew)
    except _Bad as bad:
        return BundleVerdict(False, len(events), len(raws), bad.item, bad.reason)
    return BundleVerdict(True, len(events), len(signatures))


def _trust(trust: object) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The receipt and accreditation JWKS of a trust file."""
    if not isinstance(trust, Mapping):
        raise TrustFileError("The trust file is not a JSON object.")
    found = []
    for name in ("receipts", "accreditation"):
        jwks = trust.get(name)
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise TrustFileError(f"The trust file's {name!r} is no JWKS (a 'keys' list).")
        found.append(jwks)
    return found[0], found[1]


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BundleFileError(f"The file's {what} is not a string.")
    return value


def _header(raw: object) -> _Header:
    if not isinstance(raw, Mapping):
        raise BundleFileError("The file has no request header.")
    parties = {}
    for name in PARTIES:
        party = raw.get(name)
        if not isinstance(party, Mapping):
            raise BundleFileError(f"The file's request header has no {name}.")
        parties[name] = _Party(
            _text(party.get("id"), f"{name} id"), _text(party.get("kind"), f"{name} kind")
        )
    return _Header(
        id=_text(raw.get("id"), "request id"),
        kind=_text(raw.get("kind"), "request kind"),
        priority=_text(raw.get("priority"), "request priority"),
        parties=parties,
    )


def _check_parties(header: _Header, first: Mapping[str, object]) -> None:
    """The header names the parties the hub's receipts name (which name the same throughout)."""
    for name in PARTIES:
        if header.parties[name].id != first.get(name):
            raise _Bad("request", f"its {name} is not the receipts' {name}")


def _signature(index: int, raw: object) -> _Signature:
    """One signature entry, or the item that is malformed."""

    def malformed(what: str) -> _Bad:
        return _Bad(f"signature {index}", f"malformed: {what}")

    if not isinstance(raw, Mapping):
        raise malformed("not an object")
    event = raw.get("event")
    if not isinstance(event, int) or isinstance(event, bool):
        raise malformed("event")
    texts = {name: raw.get(name) for name in ("role", "statement", "signature")}
    for name, value in texts.items():
        if not isinstance(value, str):
            raise malformed(name)
    public = raw.get("publicKey")
    if not isinstance(public, Mapping):
        raise malformed("publicKey")
    accreditation = _hub_texts(raw.get("accreditation"), ("statement", "signature", "hubKey"))
    revocation = _hub_texts(raw.get("revocation"), ("statement", "signature"))
    if accreditation == ():
        raise malformed("accreditation")
    if revocation == ():
        raise malformed("revocation")
    return _Signature(
        event=event,
        role=str(texts["role"]),
        step=SignedStep(
            statement=str(texts["statement"]),
            signature=str(texts["signature"]),
            public_jwk=public,
            accreditation=None if accreditation is None else accreditation[0],
            accreditation_signature=None if accreditation is None else accreditation[1],
            accreditation_key=None if accreditation is None else accreditation[2],
            revocation=None if revocation is None else revocation[0],
            revocation_signature=None if revocation is None else revocation[1],
        ),
    )


def _hub_texts(raw: object, names: Sequence[str]) -> tuple[str, ...] | None:
    """The texts of a hub statement entry: None when it is null, () when malformed."""
    if raw is None:
        return None
    values = tuple(raw.get(name) for name in names) if isinstance(raw, Mapping) else ()
    texts = tuple(value for value in values if isinstance(value, str))
    return texts if values and len(texts) == len(values) else ()


def _check_events(
    header: _Header,
    events: Sequence[Mapping[str, Any]],
    signatures: Sequence[_Signature],
    hub_keys: Mapping[str, Any],
    policy: SignedSteps,
    at_most_skew: int,
) -> None:
    """Every event in chain order, with its signatures (the first bad one raises _Bad)."""
    numbers = {event["number"] for event in events}
    by_event: dict[int, list[_Signature]] = {}
    for index, signature in enumerate(signatures, start=1):
        if signature.event not in numbers:
            raise _Bad(f"signature {index}", "names no event of the receipts")
        by_event.setdefault(signature.event, []).append(signature)
    submission: str | None = None
    shared: dict[str, Any] = {}
    for event in events:
        action = str(event.get("action"))
        label = f"event {event['number']} ({action})"
        found = by_event.get(int(event["number"]), [])
        listed = event.get("signatures", [])
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise _Bad(label, RECEIPT)
        if action not in SIGNABLE:
            if found or listed:
                raise _Bad(label, NOT_SIGNABLE)
            continue
        if len(found) > 1:
            raise _Bad(label, EXTRA)
        if not found:
            if listed:
                raise _Bad(label, MISSING)
            if must_sign(policy, action, header.priority, header.parties["requested"].kind):
                raise _Bad(label, UNSIGNED)
            continue
        signature = found[0]
        countersigns = submission if action == "APPROVE" else None
        role = SignerRole.COUNTERSIGNER if countersigns is not None else SignerRole.SIGNER
        if signature.role != role.value:
            raise _Bad(label, ROLE)
        # The signature's own checks first: they say more than a missing commitment would.
        statement = _verified(label, signature.step, event, hub_keys, at_most_skew)
        expected = _expected(header, event, action, countersigns, shared)
        mismatch = first_mismatch(expected, {name: statement.get(name) for name in expected})
        if mismatch is not None:
            raise _Bad(label, verdicts.member_reason(mismatch))
        _check_accredited_kind(label, header, signature.step, statement)
        digest = signature_digest(signature.step.statement, signature.step.signature)
        if digest not in listed:
            raise _Bad(label, RECEIPT)
        if set(listed) - {digest}:
            raise _Bad(label, MISSING)
        if action == "SUBMIT":
            submission = statement_sha256(signature.step.statement)
        shared = shared or {name: statement[name] for name in _SHARED}


def _verified(
    label: str,
    step: SignedStep,
    event: Mapping[str, Any],
    hub_keys: Mapping[str, Any],
    at_most_skew: int,
) -> dict[str, Any]:
    """The statement of a signature that verifies at its event's receipt time."""
    try:
        at = datetime.fromisoformat(str(event.get("at")))
    except ValueError:
        raise _Bad(label, RECEIPT_TIME) from None
    if at.tzinfo is None:
        raise _Bad(label, RECEIPT_TIME)
    verdict = verify_step(step, expected=None, hub_keys=hub_keys, at_most_skew=at_most_skew, at=at)
    if not verdict.verified or verdict.statement is None:
        raise _Bad(label, verdict.reason or verdicts.SIGNATURE)
    return verdict.statement


def _expected(
    header: _Header,
    event: Mapping[str, Any],
    action: str,
    countersigns: str | None,
    shared: Mapping[str, Any],
) -> dict[str, Any]:
    """What a step's statement must say: the event's step and actor (from the hub-signed
    receipt), the header's request, the submission it countersigns, and the request's content
    as every earlier statement of the request said it."""
    expected: dict[str, Any] = {
        "action": action,
        "request": event.get("request"),
        "agency": event.get("actorAgency"),
        "principal": event.get("actorPrincipal"),
        "kind": header.kind,
        "priority": header.priority,
        "requester": header.parties["requester"].id,
        "requested": header.parties["requested"].id,
        "countersigns": countersigns,
        **shared,
    }
    if action not in _TEXT_ACTIONS:
        expected["textSha256"] = None
    if action != "FULFIL":
        expected["outcome"] = None
    return expected


def _check_accredited_kind(
    label: str, header: _Header, step: SignedStep, statement: Mapping[str, Any]
) -> None:
    """The hub accredited the signer as an agency of the kind the header gives its party:
    the header's kinds decide which steps must be signed, and this is where they are signed."""
    accreditation = json.loads(step.accreditation or "{}")
    for party in header.parties.values():
        if party.id == statement["agency"] and party.kind != accreditation.get("kind"):
            raise _Bad(label, ACCREDITED_KIND)
