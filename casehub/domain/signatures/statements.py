"""Step statements: what an agency signs when it takes a step of a cooperation request.

A statement is a JSON object in RFC 8785 (JCS) canonical form; its bytes are what the agency
key signs, byte for byte. Every member is always present (null or [] where it does not apply),
so a verifier compares whole objects. Pure: no keys here (casehub.crypto.statements verifies).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import rfc8785

from casehub.domain.errors import ValidationFailed
from casehub.domain.requests.content import (
    EVIDENCE_MAX,
    Particulars,
    particulars_from_json,
    particulars_json,
)
from casehub.domain.requests.transitions import FulfilOutcome, Priority, RequestKind
from casehub.domain.signatures.instants import format_instant
from casehub.domain.signatures.policy import SIGNABLE
from casehub.domain.signatures.shapes import (
    Rule,
    first_malformed,
    is_hex,
    is_instant,
    is_thumbprint,
    is_uuid,
    matches,
    one_of,
    optional,
    text,
    uuid_text,
)

FORMAT = "casehub-statement/1"
STATEMENT_MAX_BYTES = 8 * 1024
STATEMENT_FIELD = ("signature", "statement")
# Members a hub cannot predict before the step arrives: verify_step ignores them unless the
# expected statement names them.
UNPREDICTABLE = frozenset({"issuedAt", "nonce", "key", "principal"})

_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class StepStatus(StrEnum):
    """The verification status of one step: signed and good, not signed, or signed but bad."""

    VERIFIED = "VERIFIED"
    UNSIGNED = "UNSIGNED"
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class StepContent:
    """What a step statement says about the request and the step, as both parties read it.

    Ids are UUIDs (or their text); digests are lowercase hex SHA-256. evidence_sha256 may be
    in any order: the statement sorts it.
    """

    action: str
    request: UUID | str
    kind: str
    priority: str
    requester: UUID | str
    requested: UUID | str
    legal_basis: str | None
    body_sha256: str
    particulars_sha256: str
    evidence_sha256: tuple[str, ...] = ()
    text_sha256: str | None = None
    outcome: str | None = None
    countersigns: str | None = None


def expected_statement(
    content: StepContent,
    *,
    agency: UUID | str,
    principal: UUID | str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """The members of a step's statement a verifier can predict: the content, the signing
    agency, and the principal and key when given (what verify_step's `expected` takes; the
    members left out, and issuedAt and nonce, it does not compare)."""
    members: dict[str, Any] = {
        "format": FORMAT,
        "action": str(content.action),
        "request": uuid_text(content.request),
        "kind": str(content.kind),
        "priority": str(content.priority),
        "requester": uuid_text(content.requester),
        "requested": uuid_text(content.requested),
        "legalBasis": content.legal_basis,
        "bodySha256": content.body_sha256,
        "particularsSha256": content.particulars_sha256,
        "evidenceSha256": sorted(content.evidence_sha256),
        "textSha256": content.text_sha256,
        "outcome": None if content.outcome is None else str(content.outcome),
        "countersigns": content.countersigns,
    }
    members["agency"] = uuid_text(agency)
    if principal is not None:
        members["principal"] = uuid_text(principal)
    if key is not None:
        members["key"] = key
    return members


def statement_of(
    content: StepContent,
    *,
    agency: UUID | str,
    principal: UUID | str,
    key: str,
    issued_at: datetime,
    nonce: str,
) -> dict[str, Any]:
    """The whole statement an agency signs for a step; ValueError naming the first member
    that is malformed (a digest that is not hex, a nonce of the wrong alphabet, ...)."""
    statement = expected_statement(content, agency=agency, principal=principal, key=key)
    statement["issuedAt"] = format_instant(issued_at)
    statement["nonce"] = nonce
    problem = statement_problem(statement)
    if problem is not None:
        raise ValueError(f"The statement's {problem} is malformed.")
    return statement


def new_nonce() -> str:
    """A fresh random nonce for a statement: 32 base64url characters (192 bits)."""
    return secrets.token_urlsafe(24)


def statement_bytes(obj: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical bytes of a statement: exactly what is signed."""
    return rfc8785.dumps(dict(obj))


def parse_canonical(text: str, *, what: str, field: Sequence[str]) -> dict[str, Any]:
    """The JSON object `text` holds, refused (ValidationFailed on `field`) when it is longer
    than STATEMENT_MAX_BYTES, not JSON, not an object, or not byte for byte its RFC 8785 form
    (so duplicate members, spaces and unsorted members are all refused)."""
    if not isinstance(text, str) or len(text) > STATEMENT_MAX_BYTES:
        raise ValidationFailed(f"The {what} is longer than {STATEMENT_MAX_BYTES} bytes.", field)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(f"The {what} is not valid UTF-8 text.", field) from None
    if len(raw) > STATEMENT_MAX_BYTES:
        raise ValidationFailed(f"The {what} is longer than {STATEMENT_MAX_BYTES} bytes.", field)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise ValidationFailed(f"The {what} is not JSON.", field) from None
    if not isinstance(parsed, dict):
        raise ValidationFailed(f"The {what} is not a JSON object.", field)
    try:
        canonical = rfc8785.dumps(parsed)
    except (rfc8785.CanonicalizationError, RecursionError):
        canonical = None
    if canonical != raw:
        raise ValidationFailed(f"The {what} is not in RFC 8785 canonical form.", field)
    return parsed


def parse_statement(text: str) -> dict[str, Any]:
    """The statement object of a signed step's text; ValidationFailed on ["signature",
    "statement"] when it is over 8 KiB, not JSON, not an object or not canonical."""
    return parse_canonical(text, what="statement", field=STATEMENT_FIELD)


def _evidence(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= EVIDENCE_MAX
        and all(is_hex(item) for item in value)
        and value == sorted(value)
    )


_MEMBER_RULES: dict[str, Rule] = {
    "action": one_of(SIGNABLE),
    "agency": is_uuid,
    "bodySha256": is_hex,
    "countersigns": optional(is_hex),
    "evidenceSha256": _evidence,
    "format": one_of([FORMAT]),
    "issuedAt": is_instant,
    "key": is_thumbprint,
    "kind": one_of(RequestKind),
    "legalBasis": optional(text),
    "nonce": matches(_NONCE),
    "outcome": optional(one_of(FulfilOutcome)),
    "particularsSha256": is_hex,
    "principal": is_uuid,
    "priority": one_of(Priority),
    "request": is_uuid,
    "requested": is_uuid,
    "requester": is_uuid,
    "textSha256": optional(is_hex),
}
MEMBERS = frozenset(_MEMBER_RULES)


def statement_problem(statement: Mapping[str, object]) -> str | None:
    """The first member (in sorted order) that is missing, unknown or of the wrong shape for a
    step statement, or None when every member is well formed."""
    return first_malformed(statement, _MEMBER_RULES)


def first_mismatch(expected: Mapping[str, object], given: Mapping[str, object]) -> str | None:
    """The first member, in sorted order, whose value differs between the two statements
    (a member only one of them has differs too), or None when they are the same. Values are
    compared as JSON, so 1 and true differ."""
    for name in sorted({*expected, *given}):
        if name not in expected or name not in given:
            return name
        if not _same_json(expected[name], given[name]):
            return name
    return None


def _same_json(left: Any, right: Any) -> bool:
    """Equal as JSON values: same types all the way down (so 1, 1.0 and true differ), without
    serialising them (a statement is compared member by member on every step)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same_json, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same_json(left[k], right[k]) for k in left)
    return bool(left == right)


def particulars_normal_form_of(particulars: Particulars) -> dict[str, Any]:
    """The particulars' normal form: every member present (null or [] when unset), account
    identifiers in stored order as {"kind","value","platform","chain"}."""
    normal: dict[str, Any] = json.loads(particulars_json(particulars))
    return normal


def particulars_normal_form(stored: str | None) -> dict[str, Any]:
    """The normal form of the particulars JSON a draft stores (None: a draft without any)."""
    if stored is None:
        return particulars_normal_form_of(Particulars())
    return particulars_normal_form_of(particulars_from_json(stored))


def particulars_sha256(normal_form: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the RFC 8785 bytes of the particulars' normal form."""
    return hashlib.sha256(rfc8785.dumps(dict(normal_form))).hexdigest()


def body_sha256(text: str) -> str:
    """Hex SHA-256 of a text's UTF-8 bytes as stored: the body, and also a DECLINE reason or
    a FULFIL message (textSha256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def statement_sha256(statement: str) -> str:
    """Hex SHA-256 of a statement's bytes: what an APPROVE statement `countersigns`."""
    return hashlib.sha256(statement.encode("utf-8")).hexdigest()


def signature_digest(statement: str, signature: str) -> str:
    """Hex SHA-256 of statement bytes + b"." + signature: the receipt's commitment to one
    agency signature."""
    return hashlib.sha256(statement.encode("utf-8") + b"." + signature.encode("ascii")).hexdigest()
