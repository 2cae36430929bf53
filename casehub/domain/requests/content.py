"""A request's particulars: how they are checked when drafted, stored as JSON, and what each
kind of request must state before it is submitted (checked at submit)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from casehub.domain import validation as check
from casehub.domain.enums import IdentifierKind
from casehub.domain.errors import ValidationFailed
from casehub.domain.identifiers import IdentifierInput, checked_identifier
from casehub.domain.requests.transitions import Priority, RequestKind

STATEMENT_MAX = 5_000
LOCATION_MAX = 2_000
ITEMS_MAX = 50
# Evidence items one step of a request attaches or supplies.
EVIDENCE_MAX = 50

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


_STATEMENTS = (
    ("offence", "offence"),
    ("data_to_preserve", "dataToPreserve"),
    ("custodian_or_location", "custodianOrLocation"),
    ("imminent_threat", "imminentThreat"),
)


def checked_particulars(particulars: Particulars, *, region: str | None) -> Particulars:
    """The particulars with their identifiers in canonical form, or a VALIDATION error naming
    the field (phone numbers are read in the requester's `region`)."""
    path = "particulars"
    for attribute, name in _STATEMENTS:
        check.optional_text(
            getattr(particulars, attribute),
            field=[path, name],
            max_length=STATEMENT_MAX,
            multiline=True,
        )
    if len(particulars.account_identifiers) > ITEMS_MAX:
        raise ValidationFailed(f"At most {ITEMS_MAX}.", [path, "accountIdentifiers"])
    if len(particulars.content_locations) > ITEMS_MAX:
        raise ValidationFailed(f"At most {ITEMS_MAX}.", [path, "contentLocations"])
    for index, location in enumerate(particulars.content_locations):
        check.text(location, field=[path, "contentLocations", str(index)], max_length=LOCATION_MAX)
    identifiers = tuple(
        checked_identifier(
            item, field=[path, "accountIdentifiers", str(index)], default_region=region
        )
        for index, item in enumerate(particulars.account_identifiers)
    )
    return replace(particulars, account_identifiers=identifiers)


def particulars_json(particulars: Particulars) -> str:
    """The particulars as the JSON that is stored encrypted."""
    return json.dumps(
        {
            "offence": particulars.offence,
            "dataToPreserve": particulars.data_to_preserve,
            "custodianOrLocation": particulars.custodian_or_location,
            "followUpMla": particulars.follow_up_mla,
            "imminentThreat": particulars.imminent_threat,
            "accountIdentifiers": [
                {
                    "kind": item.kind.value,
                    "value": item.value,
                    "platform": item.platform,
                    "chain": item.chain,
                }
                for item in particulars.account_identifiers
            ],
            "contentLocations": list(particulars.content_locations),
        },
        sort_keys=True,
    )


def particulars_from_json(text: str) -> Particulars:
    """Read what particulars_json wrote."""
    data: dict[str, Any] = json.loads(text)
    return Particulars(
        offence=data.get("offence"),
        data_to_preserve=data.get("dataToPreserve"),
        custodian_or_location=data.get("custodianOrLocation"),
        follow_up_mla=data.get("followUpMla"),
        imminent_threat=data.get("imminentThreat"),
        account_identifiers=tuple(
            IdentifierInput(
                IdentifierKind(item["kind"]), item["value"], item.get("platform"), item.get("chain")
            )
            for item in data.get("accountIdentifiers", [])
        ),
        content_locations=tuple(data.get("contentLocations", [])),
    )


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
