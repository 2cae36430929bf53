"""Verification of one signed step: the statement, the agency key's signature over it, the hub's
accreditation of the key (and revocation, if any), and what the step was expected to say.

Used by the hub, the offline bundle verifier and the client library alike; it needs only the
public keys: the agency's JWK and the hub's accreditation JWKS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from casehub.crypto.agency_keys import AgencyPublicKey, KeyFormatError
from casehub.domain.errors import DomainError, ValidationFailed
from casehub.domain.signatures import verdicts
from casehub.domain.signatures.accreditation import accreditation_problem, revocation_problem
from casehub.domain.signatures.instants import parse_instant
from casehub.domain.signatures.keys import KeyStanding, key_standing
from casehub.domain.signatures.statements import (
    UNPREDICTABLE,
    StepStatus,
    first_mismatch,
    parse_canonical,
    parse_statement,
    statement_problem,
)

# A trust file lists a handful of hub keys; more is not a JWKS this verifier reads through.
HUB_KEYS_MAX = 32


@dataclass(frozen=True, slots=True)
class SignedStep:
    """A step's signed statement with everything needed to verify it offline."""

    statement: str
    signature: str
    # The JWK, or its JSON text as the hub stores it (parsed once per distinct text).
    public_jwk: Mapping[str, Any] | str
    accreditation: str | None = None
    accreditation_signature: str | None = None
    accreditation_key: str | None = None
    revocation: str | None = None
    revocation_signature: str | None = None


@dataclass(frozen=True, slots=True)
class StepVerdict:
    """VERIFIED, or INVALID with the reason (casehub.domain.signatures.verdicts); statement is
    the parsed statement whenever it could be read."""

    status: StepStatus
    reason: str | None = None
    statement: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        """Whether the step verified."""
        return self.status is StepStatus.VERIFIED

    def refusal(self) -> DomainError | None:
        """The error to refuse the step with, or None when it verified."""
        return None if self.reason is None else verdicts.refusal_for(self.reason)


def verify_step(
    step: SignedStep,
    *,
    expected: Mapping[str, Any] | None,
    hub_keys: Mapping[str, Any],
    at_most_skew: int = 300,
    at: datetime | None = None,
) -> StepVerdict:
    """Verify one signed step; never raises for bad input.

    In order: the statement is canonical and well formed; the JWK parses and its thumbprint is
    the statement's key; the signature verifies; the accreditation is signed by a key of
    hub_keys (a JWKS whose kids are thumbprints), names this key, agency and algorithm, and
    covers issuedAt; a revocation, if any, is hub-signed and later than issuedAt; issuedAt is
    within at_most_skew seconds of `at` when `at` (the moment the hub received the step) is
    given; and the statement says what `expected` does (issuedAt, nonce, key and principal are
    compared only when expected has them).
    """

    def invalid(reason: str) -> StepVerdict:
        return StepVerdict(StepStatus.INVALID, reason, statement)

    statement: dict[str, Any] | None = None
    try:
        statement = parse_statement(step.statement)
    except ValidationFailed:
        return invalid(verdicts.STATEMENT)
    problem = statement_problem(statement)
    if problem is not None:
        return invalid(verdicts.member_reason(problem))
    try:
        key = (
            _public_key(step.public_jwk)
            if isinstance(step.public_jwk, str)
            else AgencyPublicKey.from_jwk(step.public_jwk)
        )
    except KeyFormatError:
        return invalid(verdicts.KEY)
    if key.thumbprint != statement["key"]:
        return invalid(verdicts.KEY)
    if not key.verify(step.statement.encode("utf-8"), step.signature):
        return invalid(verdicts.SIGNATURE)
    reason = _standing_problem(step, statement, key, hub_keys)
    if reason is not None:
        return invalid(reason)
    if at is not None:
        issued = parse_instant(statement["issuedAt"])
        if issued is None or abs((issued - at).total_seconds()) > at_most_skew:
            return invalid(verdicts.member_reason("issuedAt"))
    if expected is not None:
        given = {
            name: value
            for name, value in statement.items()
            if name in expected or name not in UNPREDICTABLE
        }
        mismatch = first_mismatch(expected, given)
        if mismatch is not None:
            return invalid(verdicts.member_reason(mismatch))
    return StepVerdict(StepStatus.VERIFIED, None, statement)


def _standing_problem(
    step: SignedStep,
    statement: Mapping[str, Any],
    key: AgencyPublicKey,
    hub_keys: Mapping[str, Any],
) -> str | None:
    """Why the key's accreditation and revocation do not let it sign at issuedAt, or None."""
    if step.accreditation is None:
        return verdicts.NOT_ACCREDITED
    checked = check_key_statements(
        key,
        agency=statement["agency"],
        accreditation=step.accreditation,
        accreditation_signature=step.accreditation_signature,
        accreditation_key=step.accreditation_key,
        revocation=step.revocation,
        revocation_signature=step.revocation_signature,
        hub_keys=hub_keys,
    )
    if checked.reason is not None:
        return checked.reason
    revoked_at = None if checked.revocation is None else checked.revocation["revokedAt"]
    standing = key_standing(checked.accreditation, revoked_at, statement["issuedAt"])
    if standing is KeyStanding.REVOKED:
        return verdicts.REVOKED
    if standing is KeyStanding.NOT_ACCREDITED:
        return verdicts.NOT_ACCREDITED
    return None


@dataclass(frozen=True, slots=True)
class KeyStatements:
    """A key's accreditation and revocation as checked: the statements (parsed) when they
    check out, else the reason (casehub.domain.signatures.verdicts)."""

    reason: str | None
    accreditation: dict[str, Any] | None = None
    revocation: dict[str, Any] | None = None


def check_key_statements(
    key: AgencyPublicKey,
    *,
    agency: str,
    accreditation: str,
    accreditation_signature: str | None,
    accreditation_key: str | None,
    revocation: str | None,
    revocation_signature: str | None,
    hub_keys: Mapping[str, Any],
) -> KeyStatements:
    """Whether a hub's statements about an agency key check out, whatever moment is asked
    about later: the accreditation is signed by a key of hub_keys (the one named
    accreditation_key, when given), well formed, and names this key, `agency` (a lowercase
    UUID) and the key's algorithm; a revocation, if any, is signed by one of hub_keys, well
    formed, and names this key and agency. What verify_step checks of a step's key, and what
    a hub checks of a peer's agency key before storing it. Never raises for bad input."""
    hub_signed = _hub_signed(accreditation, accreditation_signature, accreditation_key, hub_keys)
    if hub_signed is None or accreditation_problem(hub_signed) is not None:
        return KeyStatements(verdicts.ACCREDITATION_SIGNATURE)
    if (
        hub_signed["thumbprint"] != key.thumbprint
        or hub_signed["agency"] != agency
        or hub_signed["algorithm"] != key.algorithm.value
    ):
        return KeyStatements(verdicts.NOT_ACCREDITED)
    revoked = None
    if revocation is not None:
        revoked = _hub_signed(revocation, revocation_signature, None, hub_keys)
        if (
            revoked is None
            or revocation_problem(revoked) is not None
            or revoked["thumbprint"] != key.thumbprint
            or revoked["agency"] != agency
        ):
            return KeyStatements(verdicts.REVOCATION_SIGNATURE)
    return KeyStatements(None, hub_signed, revoked)


def _hub_signed(
    text: str, signature: str | None, kid: str | None, hub_keys: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The canonical object `text` holds when a hub key (the one named kid, if given) signed
    it, else None."""
    if not isinstance(text, str) or not isinstance(signature, str):
        return None
    parsed = _hub_statement(text)
    if parsed is None:
        return None
    keys = hub_keys.get("keys") if isinstance(hub_keys, Mapping) else None
    if not isinstance(keys, list):
        return None
    candidates = tuple(
        json.dumps(jwk, sort_keys=True)
        for jwk in keys[:HUB_KEYS_MAX]
        if isinstance(jwk, Mapping) and (kid is None or jwk.get("kid") == kid)
    )
    return dict(parsed) if _signed_by_one_of(text, signature, candidates) else None


# Remembered by value, like the signatures below: every step a key signs brings the same key and
# the same accreditation, and parsing them (a JWK's thumbprint, a statement's canonical check)
# costs more than the signature check itself. Bounded: a few thousand keys at most.
@lru_cache(maxsize=1024)
def _public_key(text: str) -> AgencyPublicKey:
    return AgencyPublicKey.from_jwk_text(text)


@lru_cache(maxsize=1024)
def _hub_statement(text: str) -> Mapping[str, Any] | None:
    try:
        return MappingProxyType(parse_canonical(text, what="hub statement", field=()))
    except ValidationFailed:
        return None


@lru_cache(maxsize=1024)
def _signed_by_one_of(text: str, signature: str, jwks: tuple[str, ...]) -> bool:
    """Whether a key among these JWKs (JSON text; each counts only when its kid is its
    thumbprint) signed `text`. Remembered by value: the hub checks the same accreditation with
    every step a key signs, and a hybrid check is two signatures and a key to parse."""
    message = text.encode("utf-8")
    for given in jwks:
        jwk = json.loads(given)
        try:
            key = AgencyPublicKey.from_jwk(jwk)
        except KeyFormatError:
            continue
        if key.thumbprint == jwk.get("kid") and key.verify(message, signature):
            return True
    return False
