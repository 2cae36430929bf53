"""Why a signed step does not verify (the reasons casehub.crypto.statements.verify_step gives),
and the refusal the hub answers a step with for each."""

from __future__ import annotations

from casehub.domain.errors import (
    DomainError,
    KeyNotAccredited,
    KeyRevoked,
    SignatureInvalid,
    StatementMismatch,
    ValidationFailed,
)
from casehub.domain.signatures.statements import STATEMENT_FIELD

# The statement text is not canonical JSON of an object within the size bound.
STATEMENT = "statement"
# A member of the statement is malformed or says something else than the step: "statement:"
# followed by the member's name.
STATEMENT_MEMBER = "statement:"
# The public key is malformed or is not the one the statement names.
KEY = "key"
SIGNATURE = "signature"
NOT_ACCREDITED = "key not accredited"
REVOKED = "key revoked"
# The accreditation or revocation is not signed by a hub accreditation key, or is malformed.
ACCREDITATION_SIGNATURE = "accreditation signature"
REVOCATION_SIGNATURE = "revocation signature"

_SIGNATURE_FIELD = ("signature", "signature")
_KEY_FIELD = ("signature", "keyThumbprint")


def member_reason(member: str) -> str:
    """The reason naming a statement member."""
    return STATEMENT_MEMBER + member


def refusal_for(reason: str) -> DomainError:
    """The error a step is refused with when its signature fails for `reason`."""
    if reason.startswith(STATEMENT_MEMBER):
        member = reason.removeprefix(STATEMENT_MEMBER)
        return StatementMismatch(
            f"The signed statement's {member} does not match the step.", STATEMENT_FIELD
        )
    if reason == STATEMENT:
        return ValidationFailed(
            "The statement must be RFC 8785 canonical JSON of an object.", STATEMENT_FIELD
        )
    if reason == KEY:
        return SignatureInvalid("The key is not the one the statement names.", _KEY_FIELD)
    if reason == SIGNATURE:
        return SignatureInvalid("The signature does not verify.", _SIGNATURE_FIELD)
    if reason == REVOKED:
        return KeyRevoked("The signing key was revoked before the statement.", _KEY_FIELD)
    return KeyNotAccredited(
        "The signing key is not accredited for this agency at the statement's time.", _KEY_FIELD
    )
