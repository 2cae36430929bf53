"""Domain errors: each carries the API error code, a message and the offending field path."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes of the errors a user can act on."""

    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    CLASSIFICATION_FORBIDS_SHARING = "CLASSIFICATION_FORBIDS_SHARING"
    LEGAL_HOLD = "LEGAL_HOLD"
    RATE_LIMITED = "RATE_LIMITED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    KEY_NOT_ACCREDITED = "KEY_NOT_ACCREDITED"
    KEY_REVOKED = "KEY_REVOKED"
    STATEMENT_MISMATCH = "STATEMENT_MISMATCH"
    REMOTE_AGENCY = "REMOTE_AGENCY"


class DomainError(Exception):
    """A refusal the caller can act on; never carries plaintext of protected fields."""

    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = list(field) if field else None


class ValidationFailed(DomainError):
    """Input broke a rule."""

    code = ErrorCode.VALIDATION


class NotFound(DomainError):
    """The object does not exist, or does not exist for this viewer."""

    code = ErrorCode.NOT_FOUND


class Forbidden(DomainError):
    """The viewer sees the object but its roles do not allow the action."""

    code = ErrorCode.FORBIDDEN


class Conflict(DomainError):
    """The object changed since the caller read it."""

    code = ErrorCode.CONFLICT


class ClassificationForbidsSharing(DomainError):
    """The case's TLP marking does not allow this share."""

    code = ErrorCode.CLASSIFICATION_FORBIDS_SHARING


class LegalHold(DomainError):
    """The case is under a legal hold, which refuses its erasure."""

    code = ErrorCode.LEGAL_HOLD


class RateLimited(DomainError):
    """The caller used up its allowance; `retry_after` says in how many seconds to try again."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignatureInvalid(DomainError):
    """A step's signature does not verify with the key it names, or is malformed."""

    code = ErrorCode.SIGNATURE_INVALID


class KeyNotAccredited(DomainError):
    """The signing key is not accredited by the hub for the signing agency at this moment."""

    code = ErrorCode.KEY_NOT_ACCREDITED


class KeyRevoked(DomainError):
    """The signing key was revoked before the statement's moment."""

    code = ErrorCode.KEY_REVOKED


class StatementMismatch(DomainError):
    """The signed statement does not say what the step does; the field names the member."""

    code = ErrorCode.STATEMENT_MISMATCH


class RemoteAgency(DomainError):
    """The agency is a peer hub's (listed by its directory): it has no principals or tokens
    here, and is reached only through federation, which does not carry cases, shares, requests
    or hit notices yet."""

    code = ErrorCode.REMOTE_AGENCY

    def __init__(self, field: Sequence[str] | None = None) -> None:
        super().__init__(
            "This agency belongs to a peer hub: it is reached through federation, which does "
            "not carry cases, shares or requests yet.",
            field,
        )


class ValidationErrors(DomainError):
    """Several rules broken at once (e.g. a request missing what its kind requires)."""

    code = ErrorCode.VALIDATION

    def __init__(self, errors: Sequence[ValidationFailed]) -> None:
        super().__init__(errors[0].message, errors[0].field)
        self.errors = list(errors)


class Unauthenticated(Exception):
    """No valid credentials; deliberately says nothing about why."""

    def __init__(self) -> None:
        super().__init__("Authentication required.")


class Unavailable(Exception):
    """The database cannot be reached: nothing was done, and the caller may retry later."""

    def __init__(self) -> None:
        super().__init__("The service is unavailable: retry later.")
