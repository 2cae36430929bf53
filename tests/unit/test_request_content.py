"""What each kind of cooperation request must state before it is submitted, and how its
particulars are checked when drafted and stored.

The table is the rules the schema documents on `RequestKind` (DESIGN §3 and the issue): each
required statement left out gives one VALIDATION error on its input path; complete content none.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from casehub.domain.enums import IdentifierKind
from casehub.domain.errors import ErrorCode, ValidationFailed
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import (
    ITEMS_MAX,
    Particulars,
    checked_particulars,
    missing_content,
    particulars_from_json,
    particulars_json,
)
from casehub.domain.requests.transitions import Priority, RequestKind

LEGAL_BASIS = ("legalBasis",)
DATA = ("particulars", "dataToPreserve")
CUSTODIAN = ("particulars", "custodianOrLocation")
OFFENCE = ("particulars", "offence")
FOLLOW_UP = ("particulars", "followUpMla")
ACCOUNTS = ("particulars", "accountIdentifiers")
LOCATIONS = ("particulars", "contentLocations")
THREAT = ("particulars", "imminentThreat")

# Kind -> the statements it requires at submit (ROUTINE priority).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "MUTUAL_LEGAL_ASSISTANCE": (LEGAL_BASIS,),
    "INFORMATION_REQUEST": (),
    "EVIDENCE_PRESERVATION": (DATA, CUSTODIAN, OFFENCE, FOLLOW_UP),
    "DATA_DISCLOSURE": (ACCOUNTS,),
    "EMERGENCY_DISCLOSURE": (ACCOUNTS, THREAT),
    "CONTENT_REMOVAL": (LOCATIONS,),
    "JOINT_INVESTIGATION": (LEGAL_BASIS,),
    "ASSET_FREEZE": (LEGAL_BASIS, ACCOUNTS),
}

COMPLETE_BASIS = "Budapest Convention art. 29"
COMPLETE = Particulars(
    offence="Investment fraud (Penal Code s. 420)",
    data_to_preserve="Subscriber data and IP logs of the channel admins",
    custodian_or_location="Relaygram Ltd, Dubai",
    follow_up_mla=True,
    imminent_threat="A victim announced self-harm",
    account_identifiers=(IdentifierInput(IdentifierKind.PHONE, "+60123456789"),),
    content_locations=("https://t.me/goldprofits_vip/42",),
)

# How to leave each statement out, and how to leave it blank.
OMIT: dict[tuple[str, ...], dict[str, Any]] = {
    DATA: {"data_to_preserve": None},
    CUSTODIAN: {"custodian_or_location": None},
    OFFENCE: {"offence": None},
    FOLLOW_UP: {"follow_up_mla": None},
    ACCOUNTS: {"account_identifiers": ()},
    LOCATIONS: {"content_locations": ()},
    THREAT: {"imminent_threat": None},
}
BLANK: dict[tuple[str, ...], dict[str, Any]] = {
    DATA: {"data_to_preserve": "   "},
    CUSTODIAN: {"custodian_or_location": ""},
    OFFENCE: {"offence": "\t\n"},
    FOLLOW_UP: {"follow_up_mla": False},
    THREAT: {"imminent_threat": " "},
}


def _paths(errors: list[ValidationFailed]) -> list[tuple[str, ...]]:
    for error in errors:
        assert isinstance(error, ValidationFailed)
        assert error.code is ErrorCode.VALIDATION
        assert error.message
        assert error.field
    return [tuple(error.field or ()) for error in errors]


def _without(path: tuple[str, ...], how: dict[tuple[str, ...], dict[str, Any]]):
    if path == LEGAL_BASIS:
        return (None if how is OMIT else "  "), COMPLETE
    return COMPLETE_BASIS, dataclasses.replace(COMPLETE, **how[path])


def test_the_table_covers_every_kind() -> None:
    assert set(REQUIRED) == {kind.value for kind in RequestKind}


@pytest.mark.parametrize("kind", list(RequestKind))
@pytest.mark.parametrize("priority", list(Priority))
def test_complete_content_gives_no_error(kind: RequestKind, priority: Priority) -> None:
    assert missing_content(kind, priority, COMPLETE_BASIS, COMPLETE) == []


MISSING_ONE = [(kind, path) for kind, paths in REQUIRED.items() for path in paths]


@pytest.mark.parametrize(("kind", "path"), MISSING_ONE)
def test_each_missing_statement_is_an_error_on_its_path(kind: str, path: tuple[str, ...]) -> None:
    legal_basis, particulars = _without(path, OMIT)
    errors = missing_content(RequestKind(kind), Priority.ROUTINE, legal_basis, particulars)
    assert _paths(errors) == [path]


BLANKABLE = [(kind, path) for kind, path in MISSING_ONE if path in BLANK or path == LEGAL_BASIS]


@pytest.mark.parametrize(("kind", "path"), BLANKABLE)
def test_a_blank_statement_counts_as_missing(kind: str, path: tuple[str, ...]) -> None:
    legal_basis, particulars = _without(path, BLANK)
    errors = missing_content(RequestKind(kind), Priority.ROUTINE, legal_basis, particulars)
    assert _paths(errors) == [path]


@pytest.mark.parametrize("kind", list(RequestKind))
def test_empty_content_lists_every_missing_statement(kind: RequestKind) -> None:
    errors = missing_content(kind, Priority.ROUTINE, None, Particulars())
    assert sorted(_paths(errors)) == sorted(REQUIRED[kind.value])


@pytest.mark.parametrize("kind", list(RequestKind))
def test_emergency_priority_requires_the_imminent_threat(kind: RequestKind) -> None:
    particulars = dataclasses.replace(COMPLETE, imminent_threat=None)
    errors = missing_content(kind, Priority.EMERGENCY, COMPLETE_BASIS, particulars)
    assert _paths(errors) == [THREAT]
    # The same content is enough at a lower priority, unless the kind itself needs the threat.
    for priority in (Priority.ROUTINE, Priority.URGENT):
        expected = [THREAT] if THREAT in REQUIRED[kind.value] else []
        assert _paths(missing_content(kind, priority, COMPLETE_BASIS, particulars)) == expected


@pytest.mark.parametrize("kind", list(RequestKind))
def test_emergency_with_nothing_stated_lists_the_threat_once(kind: RequestKind) -> None:
    errors = missing_content(kind, Priority.EMERGENCY, None, Particulars())
    paths = _paths(errors)
    assert paths.count(THREAT) == 1
    assert set(paths) == {*REQUIRED[kind.value], THREAT}
    assert len(paths) == len(set(paths))


def test_preservation_needs_follow_up_mla_true_not_just_present() -> None:
    particulars = dataclasses.replace(COMPLETE, follow_up_mla=False)
    errors = missing_content(RequestKind.EVIDENCE_PRESERVATION, Priority.ROUTINE, None, particulars)
    assert _paths(errors) == [FOLLOW_UP]


def test_stored_particulars_read_back_as_written() -> None:
    particulars = dataclasses.replace(
        COMPLETE,
        account_identifiers=(
            *COMPLETE.account_identifiers,
            IdentifierInput(IdentifierKind.MESSENGER_HANDLE, "@goldprofits", platform="telegram"),
            IdentifierInput(
                IdentifierKind.CRYPTO_WALLET, "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", chain="tron"
            ),
        ),
    )
    assert particulars_from_json(particulars_json(particulars)) == particulars
    assert particulars_from_json(particulars_json(Particulars())) == Particulars()


def test_drafted_identifiers_are_kept_with_their_platform_in_canonical_form() -> None:
    handle = IdentifierInput(IdentifierKind.MESSENGER_HANDLE, "@GoldProfits", platform="Telegram")
    checked = checked_particulars(
        dataclasses.replace(COMPLETE, account_identifiers=(handle,)), region="MY"
    )
    assert checked.account_identifiers == (
        IdentifierInput(IdentifierKind.MESSENGER_HANDLE, "@GoldProfits", platform="telegram"),
    )
    assert dataclasses.replace(checked, account_identifiers=()) == dataclasses.replace(
        COMPLETE, account_identifiers=()
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"offence": "o" * 5_001}, ("particulars", "offence")),
        ({"content_locations": ("https://t.me/x",) * (ITEMS_MAX + 1)}, LOCATIONS),
        ({"content_locations": ("",)}, (*LOCATIONS, "0")),
        (
            {"account_identifiers": (IdentifierInput(IdentifierKind.MESSENGER_HANDLE, "@x"),)},
            (*ACCOUNTS, "0", "platform"),
        ),
    ],
)
def test_a_bad_particular_is_refused_on_its_path(
    change: dict[str, Any], path: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        checked_particulars(dataclasses.replace(COMPLETE, **change), region="MY")
    assert tuple(refused.value.field or ()) == path
