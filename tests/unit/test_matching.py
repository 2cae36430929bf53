"""Deconfliction rules: what identifiers match across agencies, and which subjects take part."""

from __future__ import annotations

import pytest

from casehub.domain.deconfliction.matching import canonical_value, match_material, matchable
from casehub.domain.enums import IdentifierKind, Tlp
from casehub.domain.errors import ValidationFailed
from casehub.domain.identifiers import IdentifierInput

DOMAIN = IdentifierKind.DOMAIN
PHONE, HANDLE, WALLET, EMAIL = (
    IdentifierKind.PHONE,
    IdentifierKind.MESSENGER_HANDLE,
    IdentifierKind.CRYPTO_WALLET,
    IdentifierKind.EMAIL,
)
EVM = "0x52908400098527886e0f7030069857d2e4169ee7"


def _item(kind: IdentifierKind, value: str, qualifier: str | None = None) -> IdentifierInput:
    platform = qualifier if kind is HANDLE else None
    chain = qualifier if kind is WALLET else None
    return IdentifierInput(kind, value, platform, chain)


def _material(item: IdentifierInput, region: str | None) -> bytes:
    return match_material(item, default_region=region, field=["identifier"])


# (first identifier, its agency's region, second identifier, its agency's region, same?)
CASES = [
    (_item(PHONE, "+60 12-345 6789"), "FR", _item(PHONE, "012-345 6789"), "MY", True),
    (_item(PHONE, "+60123456789"), None, _item(PHONE, "012 345 6789"), "MY", True),
    (_item(PHONE, "0123456789"), "MY", _item(PHONE, "0123456789"), "FR", False),
    (_item(PHONE, "+60123456789"), "MY", _item(PHONE, "+60123456780"), "MY", False),
    (
        _item(HANDLE, "@GoldProfits", "telegram"),
        "MY",
        _item(HANDLE, "goldprofits", "telegram"),
        "FR",
        True,
    ),
    (
        _item(HANDLE, "https://t.me/goldprofits", "telegram"),
        "MY",
        _item(HANDLE, "@goldprofits", "telegram"),
        "MY",
        True,
    ),
    (
        _item(HANDLE, "goldprofits", "telegram"),
        "MY",
        _item(HANDLE, "goldprofits", "signal"),
        "MY",
        False,
    ),
    (
        _item(WALLET, EVM, "ethereum"),
        "MY",
        _item(WALLET, EVM.upper().replace("0X", "0x"), "bsc"),
        "FR",
        True,
    ),
    (_item(WALLET, EVM, "ethereum"), "MY", _item(WALLET, EVM, "polygon"), "MY", True),
    (_item(EMAIL, "Boss@Example.COM"), "MY", _item(EMAIL, "boss@example.com"), "FR", True),
    (_item(DOMAIN, "example.com"), "MY", _item(HANDLE, "example.com", "x"), "MY", False),
    (_item(PHONE, "+60123456789"), "MY", _item(HANDLE, "+60123456789", "telegram"), "MY", False),
]


@pytest.mark.parametrize(("first", "first_region", "second", "second_region", "same"), CASES)
def test_identifiers_match_by_canonical_form_kind_and_namespace(
    first: IdentifierInput,
    first_region: str,
    second: IdentifierInput,
    second_region: str,
    same: bool,
) -> None:
    assert (_material(first, first_region) == _material(second, second_region)) is same


def test_the_material_names_no_ambiguous_concatenation() -> None:
    # "ab"+"c" and "a"+"bc" must differ: every part is length-prefixed.
    one = _material(_item(HANDLE, "c", "ab"), "MY")
    two = _material(_item(HANDLE, "bc", "a"), "MY")
    assert one != two


def test_an_invalid_identifier_is_a_validation_error_naming_its_value() -> None:
    with pytest.raises(ValidationFailed) as refused:
        canonical_value(_item(PHONE, "not a phone"), default_region="MY", field=["ids", "3"])
    assert refused.value.field == ["ids", "3", "value"]


@pytest.mark.parametrize(
    ("tlp", "mark", "expected"),
    [
        (Tlp.CLEAR, None, True),
        (Tlp.GREEN, None, True),
        (Tlp.AMBER, None, True),
        (Tlp.AMBER_STRICT, None, True),
        (Tlp.RED, None, False),
        (Tlp.RED, True, True),
        (Tlp.RED, False, False),
        (Tlp.AMBER, False, False),
        (Tlp.GREEN, True, True),
    ],
)
def test_subjects_of_red_cases_match_only_when_their_owner_opts_in(
    tlp: Tlp, mark: bool | None, expected: bool
) -> None:
    assert matchable(tlp, mark) is expected
