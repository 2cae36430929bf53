"""What each kind of request must state before it is submitted (checked at submit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from casehub.domain.errors import ValidationFailed
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.transitions import Priority, RequestKind

# The rules, also rendered into the schema's descriptions.
RULES: dict[str, str] = {
    "MUTUAL_LEGAL_ASSISTANCE": "legalBasis (the treaty or law article relied on).",
    "EVIDENCE_PRESERVATION": (
        "particulars.dataToPreserve, particulars.custodianOrLocation, particulars.offence and "
        "particulars.followUpMla = true (Budapest Convention art. 29)."
    ),
    "DATA_DISCLOSURE": "particulars.accountIdentifiers (at least one).",
    "EMERGENCY_DISCLOSURE": "particulars.accountIdentifiers and particulars.imminentThreat.",
    "CONTENT_REMOVAL": "particulars.contentLocations (at least one URL or message link).",
    "ASSET_FREEZE": "legalBasis and particulars.accountIdentifiers (accounts or wallets).",
    "JOINT_INVESTIGATION": "legalBasis (e.g. the JIT agreement's basis).",
    "EMERGENCY priority": "particulars.imminentThreat (the threat to life or limb).",
}


@dataclass(frozen=True, slots=True)
class Particulars:
    """Structured content of a request; encrypted at rest with the body."""

    offence: str | None = None
    data_to_preserve: str | None = None
    custodian_or_location: str | None = None
    follow_up_mla: bool | None = None
    imminent_threat: str | None = None
    account_identifiers: tuple[IdentifierInput, ...] = field(default_factory=tuple)
    content_locations: tuple[str, ...] = field(default_factory=tuple)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def missing_content(
    kind: RequestKind, priority: Priority, legal_basis: str | None, particulars: Particulars
) -> list[ValidationFailed]:
    """Every required statement the request lacks for its kind and priority."""
    errors: list[ValidationFailed] = []

    def need(condition: bool, path: Sequence[str], what: str) -> None:
        if condition:
            errors.append(ValidationFailed(f"A {label} request must state {what}.", path))

    label = kind.value.replace("_", " ").lower()
    if kind in (
        RequestKind.MUTUAL_LEGAL_ASSISTANCE,
        RequestKind.ASSET_FREEZE,
        RequestKind.JOINT_INVESTIGATION,
    ):
        need(_blank(legal_basis), ["legalBasis"], "its legal basis")
    if kind is RequestKind.EVIDENCE_PRESERVATION:
        need(
            _blank(particulars.data_to_preserve),
            ["particulars", "dataToPreserve"],
            "the data to preserve",
        )
        need(
            _blank(particulars.custodian_or_location),
            ["particulars", "custodianOrLocation"],
            "who holds the data or where it is",
        )
        need(_blank(particulars.offence), ["particulars", "offence"], "the offence")
        need(
            particulars.follow_up_mla is not True,
            ["particulars", "followUpMla"],
            "the intent to follow with a mutual legal assistance request",
        )
    if kind in (
        RequestKind.DATA_DISCLOSURE,
        RequestKind.EMERGENCY_DISCLOSURE,
        RequestKind.ASSET_FREEZE,
    ):
        need(
            not particulars.account_identifiers,
            ["particulars", "accountIdentifiers"],
            "the account identifiers concerned",
        )
    if kind is RequestKind.CONTENT_REMOVAL:
        need(
            not particulars.content_locations,
            ["particulars", "contentLocations"],
            "where the content is",
        )
    if priority is Priority.EMERGENCY or kind is RequestKind.EMERGENCY_DISCLOSURE:
        label = "emergency" if priority is Priority.EMERGENCY else label
        need(
            _blank(particulars.imminent_threat),
            ["particulars", "imminentThreat"],
            "the imminent threat",
        )
    return errors
