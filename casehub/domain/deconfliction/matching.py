"""Deconfliction rules: what blind indexes and match tokens are computed over, and which
subjects take part in other agencies' hit checks. Pure: no I/O, no keys."""

from __future__ import annotations

from collections.abc import Sequence

from casehub.domain.canonical import EVM_CHAINS, canonical
from casehub.domain.enums import IdentifierKind, Tlp
from casehub.domain.identifiers import IdentifierInput

HIT_CHECK_MAX = 50
_MATERIAL_VERSION = b"casehub-identifier/v1"


def _qualifier(item: IdentifierInput) -> str:
    """The namespace a value lives in: a handle's platform, a wallet's chain family."""
    if item.kind is IdentifierKind.MESSENGER_HANDLE:
        return (item.platform or "").lower()
    if item.kind is IdentifierKind.CRYPTO_WALLET:
        chain = (item.chain or "").lower()
        # One EVM address is one key holder on every EVM chain.
        return "evm" if chain in EVM_CHAINS else chain
    return ""


def canonical_value(
    item: IdentifierInput, *, default_region: str | None, field: Sequence[str]
) -> str:
    """The identifier's canonical value (phone numbers read in `default_region`)."""
    return canonical(
        item.kind,
        item.value,
        platform=item.platform,
        chain=item.chain,
        default_region=default_region,
        field=[*field, "value"],
    )


def match_material(
    item: IdentifierInput, *, default_region: str | None, field: Sequence[str]
) -> bytes:
    """The bytes a blind index or match token is keyed over, or a VALIDATION error.

    Kind, namespace and canonical value are length-prefixed, so a phone number and a handle
    written with the same characters never give the same bytes.
    """
    value = canonical_value(item, default_region=default_region, field=field)
    parts = [_MATERIAL_VERSION, item.kind.value.encode(), _qualifier(item).encode()]
    parts.append(value.encode("utf-8"))
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def matchable(tlp: Tlp, marked: bool | None) -> bool:
    """Whether a subject answers other agencies' hit checks.

    The owner's mark decides when it gave one; otherwise every subject is matchable except
    those in RED cases, whose owners must opt each subject in.
    """
    return marked if marked is not None else tlp is not Tlp.RED
