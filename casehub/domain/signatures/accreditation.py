"""The hub's statements about agency keys, signed with its accreditation key: an accreditation
(this key signs for this agency from notBefore until notAfter) and a revocation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from casehub.domain.signatures.instants import format_instant
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.shapes import (
    Rule,
    first_malformed,
    is_instant,
    is_thumbprint,
    is_uuid,
    one_of,
    text,
    uuid_text,
)

ACCREDITATION_FORMAT = "casehub-accreditation/1"
REVOCATION_FORMAT = "casehub-revocation/1"


def accreditation_statement(
    *,
    agency: UUID | str,
    code: str,
    jurisdiction: str,
    kind: str,
    algorithm: SigningAlgorithm,
    thumbprint: str,
    not_before: datetime,
    not_after: datetime,
    issued_at: datetime,
) -> dict[str, Any]:
    """The statement the hub signs to accredit an agency key; ValueError when notAfter is not
    after notBefore (in whole seconds) or a member is malformed."""
    statement: dict[str, Any] = {
        "format": ACCREDITATION_FORMAT,
        "agency": uuid_text(agency),
        "code": code,
        "jurisdiction": jurisdiction,
        "kind": str(kind),
        "algorithm": str(algorithm),
        "thumbprint": thumbprint,
        "notBefore": format_instant(not_before),
        "notAfter": format_instant(not_after),
        "issuedAt": format_instant(issued_at),
    }
    problem = accreditation_problem(statement)
    if problem is not None:
        raise ValueError(f"The accreditation's {problem} is malformed.")
    return statement


def revocation_statement(
    *, agency: UUID | str, thumbprint: str, revoked_at: datetime, reason: str
) -> dict[str, Any]:
    """The statement the hub signs to revoke an agency key from revoked_at on."""
    statement: dict[str, Any] = {
        "format": REVOCATION_FORMAT,
        "agency": uuid_text(agency),
        "thumbprint": thumbprint,
        "revokedAt": format_instant(revoked_at),
        "reason": reason,
    }
    problem = revocation_problem(statement)
    if problem is not None:
        raise ValueError(f"The revocation's {problem} is malformed.")
    return statement


_ACCREDITATION_RULES: dict[str, Rule] = {
    "agency": is_uuid,
    "algorithm": one_of(SigningAlgorithm),
    "code": text,
    "format": one_of([ACCREDITATION_FORMAT]),
    "issuedAt": is_instant,
    "jurisdiction": text,
    "kind": text,
    "notAfter": is_instant,
    "notBefore": is_instant,
    "thumbprint": is_thumbprint,
}

_REVOCATION_RULES: dict[str, Rule] = {
    "agency": is_uuid,
    "format": one_of([REVOCATION_FORMAT]),
    "reason": text,
    "revokedAt": is_instant,
    "thumbprint": is_thumbprint,
}


def accreditation_problem(statement: Mapping[str, object]) -> str | None:
    """The first malformed member of an accreditation statement (notAfter when it is not after
    notBefore), or None."""
    problem = first_malformed(statement, _ACCREDITATION_RULES)
    if problem is None and str(statement["notAfter"]) <= str(statement["notBefore"]):
        # Instants of one fixed format compare in time order as text.
        return "notAfter"
    return problem


def revocation_problem(statement: Mapping[str, object]) -> str | None:
    """The first malformed member of a revocation statement, or None."""
    return first_malformed(statement, _REVOCATION_RULES)
