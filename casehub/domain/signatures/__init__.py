"""Agency signatures on request steps: keys, statements, accreditations and the signing policy
(pure; casehub.crypto.agency_keys and casehub.crypto.statements hold the cryptography)."""

from casehub.domain.signatures.accreditation import (
    ACCREDITATION_FORMAT,
    REVOCATION_FORMAT,
    accreditation_problem,
    accreditation_statement,
    revocation_problem,
    revocation_statement,
)
from casehub.domain.signatures.instants import format_instant, parse_instant
from casehub.domain.signatures.keys import KeyStanding, SigningAlgorithm, key_standing
from casehub.domain.signatures.policy import SIGNABLE, SignedSteps, must_sign, needs_approval
from casehub.domain.signatures.statements import (
    STATEMENT_MAX_BYTES,
    StepContent,
    StepStatus,
    body_sha256,
    expected_statement,
    first_mismatch,
    new_nonce,
    parse_statement,
    particulars_normal_form,
    particulars_normal_form_of,
    particulars_sha256,
    signature_digest,
    statement_bytes,
    statement_of,
    statement_problem,
    statement_sha256,
)

__all__ = [
    "ACCREDITATION_FORMAT",
    "REVOCATION_FORMAT",
    "SIGNABLE",
    "STATEMENT_MAX_BYTES",
    "KeyStanding",
    "SignedSteps",
    "SigningAlgorithm",
    "StepContent",
    "StepStatus",
    "accreditation_problem",
    "accreditation_statement",
    "body_sha256",
    "expected_statement",
    "first_mismatch",
    "format_instant",
    "key_standing",
    "must_sign",
    "needs_approval",
    "new_nonce",
    "parse_instant",
    "parse_statement",
    "particulars_normal_form",
    "particulars_normal_form_of",
    "particulars_sha256",
    "revocation_problem",
    "revocation_statement",
    "signature_digest",
    "statement_bytes",
    "statement_of",
    "statement_problem",
    "statement_sha256",
]
