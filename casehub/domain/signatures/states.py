"""Where an agency key is in its life, as the directory shows it, and who signed a step (pure)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class KeyState(StrEnum):
    """The life of an agency signing key."""

    REGISTERED = "REGISTERED"  # the agency registered it; the hub has not accredited it
    PENDING = "PENDING"  # accredited from a later moment
    ACCREDITED = "ACCREDITED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


class SignerRole(StrEnum):
    """Who a signature on a step is by: the agency taking the step, or (an approval) the
    supervisor countersigning the submission."""

    SIGNER = "SIGNER"
    COUNTERSIGNER = "COUNTERSIGNER"


def key_state(
    *,
    not_before: datetime | None,
    not_after: datetime | None,
    revoked_at: datetime | None,
    now: datetime,
) -> KeyState:
    """The key's state now. A revocation dated later than now (never made: revocations take
    effect at once or earlier) would still show as REVOKED: it outranks everything."""
    if revoked_at is not None:
        return KeyState.REVOKED
    if not_before is None or not_after is None:
        return KeyState.REGISTERED
    if now < not_before:
        return KeyState.PENDING
    if now >= not_after:
        return KeyState.EXPIRED
    return KeyState.ACCREDITED
