"""Identifier rules: which kinds take a platform or a chain, and their canonical form."""

from __future__ import annotations

import pytest

from casehub.domain.enums import IdentifierKind as K
from casehub.domain.errors import ErrorCode, ValidationFailed
from casehub.domain.identifiers import VALUE_MAX, IdentifierInput, checked_identifier

FIELD = ("subject", "identifiers", "0")

PLAIN_KINDS = [k for k in K if k not in (K.MESSENGER_HANDLE, K.CRYPTO_WALLET)]
BARE_VALUES = {
    K.PHONE: "+60 12-345 6789",
    K.EMAIL: "Some.Value@Example.org",
    K.IP_ADDRESS: "2001:DB8::0:1",
    K.DOMAIN: "Some-Value.example.",
}


def check(kind, value="value-1", platform=None, chain=None):
    item = IdentifierInput(kind=kind, value=value, platform=platform, chain=chain)
    return checked_identifier(item, field=FIELD)


def refused(field_tail, **kwargs):
    with pytest.raises(ValidationFailed) as info:
        check(**kwargs)
    assert info.value.code is ErrorCode.VALIDATION
    assert info.value.field == [*FIELD, field_tail]
    return info.value


@pytest.mark.parametrize(
    ("kind", "value", "platform", "chain", "expected"),
    [
        (K.PHONE, "+60123456789", None, None, IdentifierInput(K.PHONE, "+60123456789")),
        (K.EMAIL, "a@example.org", None, None, IdentifierInput(K.EMAIL, "a@example.org")),
        (
            K.MESSENGER_HANDLE,
            "@Scammer",
            "Telegram",
            None,
            IdentifierInput(K.MESSENGER_HANDLE, "@Scammer", platform="telegram"),
        ),
        (
            K.MESSENGER_HANDLE,
            "scammer",
            "whatsapp",
            None,
            IdentifierInput(K.MESSENGER_HANDLE, "scammer", platform="whatsapp"),
        ),
        (
            K.CRYPTO_WALLET,
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            None,
            "Ethereum",
            IdentifierInput(
                K.CRYPTO_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", chain="ethereum"
            ),
        ),
        (
            K.CRYPTO_WALLET,
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            None,
            "BITCOIN",
            IdentifierInput(
                K.CRYPTO_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", chain="bitcoin"
            ),
        ),
    ],
)
def test_accepted_identifiers_are_canonicalised(kind, value, platform, chain, expected):
    assert check(kind, value, platform, chain) == expected


@pytest.mark.parametrize("kind", PLAIN_KINDS)
def test_plain_kinds_accept_a_bare_value(kind):
    # Values are checked for their kind (see test_canonical) but kept as given.
    value = BARE_VALUES.get(kind, "some value")
    got = check(kind, value)
    assert got == IdentifierInput(kind=kind, value=value, platform=None, chain=None)


@pytest.mark.parametrize("kind", [*PLAIN_KINDS, K.CRYPTO_WALLET])
def test_platform_is_refused_on_anything_but_a_handle(kind):
    chain = "ethereum" if kind is K.CRYPTO_WALLET else None
    err = refused("platform", kind=kind, platform="telegram", chain=chain)
    assert err.message == "Only messenger handles take a platform."


@pytest.mark.parametrize("kind", [*PLAIN_KINDS, K.MESSENGER_HANDLE])
def test_chain_is_refused_on_anything_but_a_wallet(kind):
    platform = "telegram" if kind is K.MESSENGER_HANDLE else None
    err = refused("chain", kind=kind, platform=platform, chain="ethereum")
    assert err.message == "Only crypto wallets take a chain."


def test_handle_needs_platform():
    err = refused("platform", kind=K.MESSENGER_HANDLE)
    assert err.message == "A messenger handle needs its platform."


def test_wallet_needs_chain():
    err = refused("chain", kind=K.CRYPTO_WALLET)
    assert err.message == "A crypto wallet needs its chain."


@pytest.mark.parametrize("bad", ["", "tele gram", "@telegram", "-x", "a" * 65, "télé"])
def test_bad_platform_name_names_platform_field(bad):
    refused("platform", kind=K.MESSENGER_HANDLE, platform=bad)


@pytest.mark.parametrize("bad", ["", "eth chain", "-eth", "a" * 65])
def test_bad_chain_name_names_chain_field(bad):
    refused("chain", kind=K.CRYPTO_WALLET, chain=bad)


@pytest.mark.parametrize(
    ("kind", "value", "platform", "chain"),
    [
        (K.PHONE, "", None, None),
        (K.PHONE, "   ", None, None),
        (K.EMAIL, "a\x00@example.org", None, None),
        (K.URL, "https://x\n", None, None),
        (K.OTHER, "x" * (VALUE_MAX + 1), None, None),
        (K.MESSENGER_HANDLE, "", "telegram", None),
        (K.CRYPTO_WALLET, " ", None, "ethereum"),
    ],
)
def test_bad_value_names_value_field(kind, value, platform, chain):
    refused("value", kind=kind, value=value, platform=platform, chain=chain)


def test_value_checked_before_platform():
    # Both the value and the platform are wrong; the value is reported first.
    refused("value", kind=K.PHONE, value="", platform="telegram")


def test_value_at_max_length_is_accepted():
    assert VALUE_MAX == 1_000
    assert check(K.OTHER, "v" * VALUE_MAX).value == "v" * VALUE_MAX


def test_input_is_not_mutated():
    item = IdentifierInput(K.MESSENGER_HANDLE, "Name", platform="Signal")
    out = checked_identifier(item, field=FIELD)
    assert item.platform == "Signal"
    assert out.platform == "signal"
    assert out is not item
