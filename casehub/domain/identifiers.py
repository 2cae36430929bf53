"""Rules for identifiers held on subjects: which kinds need a platform or a chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from casehub.domain import validation as check
from casehub.domain.canonical import canonical
from casehub.domain.enums import IdentifierKind
from casehub.domain.errors import ValidationFailed

VALUE_MAX = 1_000


@dataclass(frozen=True, slots=True)
class IdentifierInput:
    """An identifier as given by the caller."""

    kind: IdentifierKind
    value: str
    platform: str | None = None
    chain: str | None = None


def checked_identifier(
    item: IdentifierInput, *, field: Sequence[str], default_region: str | None = None
) -> IdentifierInput:
    """The identifier with its platform and chain in canonical form, or a VALIDATION error.

    The value must have a canonical form (`canonical`, phone numbers read in
    ``default_region``) but is kept as the caller gave it.
    """
    check.text(item.value, field=[*field, "value"], max_length=VALUE_MAX)
    platform = chain = None
    if item.kind is IdentifierKind.MESSENGER_HANDLE:
        if item.platform is None:
            raise ValidationFailed("A messenger handle needs its platform.", [*field, "platform"])
        platform = check.platform_name(item.platform, field=[*field, "platform"])
    elif item.platform is not None:
        raise ValidationFailed("Only messenger handles take a platform.", [*field, "platform"])
    if item.kind is IdentifierKind.CRYPTO_WALLET:
        if item.chain is None:
            raise ValidationFailed("A crypto wallet needs its chain.", [*field, "chain"])
        chain = check.platform_name(item.chain, field=[*field, "chain"])
    elif item.chain is not None:
        raise ValidationFailed("Only crypto wallets take a chain.", [*field, "chain"])
    canonical(
        item.kind,
        item.value,
        platform=platform,
        chain=chain,
        default_region=default_region,
        field=[*field, "value"],
    )
    return IdentifierInput(kind=item.kind, value=item.value, platform=platform, chain=chain)
