"""Agency signing keys: their algorithms and the standing of a key at a moment (pure rules)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from casehub.domain.signatures.instants import parse_instant


class SigningAlgorithm(StrEnum):
    """How an agency key signs: Ed25519 alone, or Ed25519 and ML-DSA-65 both (hybrid)."""

    ED25519 = "Ed25519"
    ED25519_ML_DSA_65 = "Ed25519+ML-DSA-65"


class KeyStanding(StrEnum):
    """Whether signatures by a key count at a moment."""

    ACCREDITED = "ACCREDITED"
    NOT_ACCREDITED = "NOT_ACCREDITED"
    REVOKED = "REVOKED"


def key_standing(
    accreditation: Mapping[str, object] | None, revoked_at: str | None, at: str
) -> KeyStanding:
    """The standing at `at` of a key with this accreditation statement and revocation time.

    REVOKED once revoked_at <= at (a revocation outranks any accreditation); NOT_ACCREDITED
    with no accreditation, before its notBefore, from its notAfter on, or when an instant is
    not written as statements write them; else ACCREDITED.
    """
    moment = parse_instant(at)
    if moment is None:
        return KeyStanding.NOT_ACCREDITED
    if revoked_at is not None:
        revoked = parse_instant(revoked_at)
        # An unreadable revocation time must not make a revoked key look good.
        if revoked is None or revoked <= moment:
            return KeyStanding.REVOKED
    if accreditation is None:
        return KeyStanding.NOT_ACCREDITED
    not_before = parse_instant(accreditation.get("notBefore"))
    not_after = parse_instant(accreditation.get("notAfter"))
    if not_before is None or not_after is None or not not_before <= moment < not_after:
        return KeyStanding.NOT_ACCREDITED
    return KeyStanding.ACCREDITED
