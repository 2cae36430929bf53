"""Canonical forms of identifiers: a table of valid and invalid values per kind."""

from __future__ import annotations

import pytest

from casehub.domain.canonical import canonical, keccak256
from casehub.domain.enums import IdentifierKind as K
from casehub.domain.errors import ErrorCode, ValidationFailed
from casehub.domain.identifiers import IdentifierInput, checked_identifier

# (kind, value, platform, chain, region, canonical form)
VALID = [
    # phone numbers: E.164, national numbers read in the agency's jurisdiction
    (K.PHONE, "+60 12-345 6789", None, None, "MY", "+60123456789"),
    (K.PHONE, "012-345 6789", None, None, "MY", "+60123456789"),
    (K.PHONE, "+60 12-345 6789", None, None, None, "+60123456789"),
    (K.PHONE, "+60 12-345 6789", None, None, "INT", "+60123456789"),
    (K.PHONE, "(03) 2711 9000", None, None, "MY", "+60327119000"),
    (K.PHONE, "+66 81 234 5678", None, None, "MY", "+66812345678"),
    (K.PHONE, "081 234 5678", None, None, "TH", "+66812345678"),
    (K.PHONE, "+44 7400 123456", None, None, "SG", "+447400123456"),
    (K.PHONE, "07400 123456", None, None, "GB", "+447400123456"),
    (K.PHONE, "+49 30 901820", None, None, "DE", "+4930901820"),
    # e-mail: whole address lower-cased, domain IDNA-encoded
    (K.EMAIL, "Alice@Example.COM", None, None, None, "alice@example.com"),
    (
        K.EMAIL,
        " kitmaster.my+tag@proton.example ",
        None,
        None,
        None,
        "kitmaster.my+tag@proton.example",
    ),
    (K.EMAIL, "info@Bücher.de", None, None, None, "info@xn--bcher-kva.de"),
    (K.EMAIL, "x@example.com.", None, None, None, "x@example.com"),
    # messenger handles
    (K.MESSENGER_HANDLE, "@GoldFish_Mentor", "relaygram", None, None, "goldfish_mentor"),
    (K.MESSENGER_HANDLE, "goldfish_vip_signals", "telegram", None, None, "goldfish_vip_signals"),
    (K.MESSENGER_HANDLE, "t.me/GoldFish_VIP", "telegram", None, None, "goldfish_vip"),
    (K.MESSENGER_HANDLE, "https://t.me/GoldFish_VIP", "telegram", None, None, "goldfish_vip"),
    (
        K.MESSENGER_HANDLE,
        "http://telegram.me/GoldFish_VIP/",
        "telegram",
        None,
        None,
        "goldfish_vip",
    ),
    (K.MESSENGER_HANDLE, "telegram.me/GoldFish_VIP", "Telegram", None, None, "goldfish_vip"),
    (K.MESSENGER_HANDLE, "@Straße", "signal", None, None, "strasse"),
    # EVM wallets: lower-cased, EIP-55 checksum checked when mixed case
    (
        K.CRYPTO_WALLET,
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        None,
        "ethereum",
        None,
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    ),
    (
        K.CRYPTO_WALLET,
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        None,
        "polygon",
        None,
        "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
    ),
    (
        K.CRYPTO_WALLET,
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        None,
        "bsc",
        None,
        "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",
    ),
    (
        K.CRYPTO_WALLET,
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        None,
        "arbitrum",
        None,
        "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb",
    ),
    (
        K.CRYPTO_WALLET,
        "0x52908400098527886E0F7030069857D2E4169EE7",
        None,
        "ethereum",
        None,
        "0x52908400098527886e0f7030069857d2e4169ee7",
    ),
    (
        K.CRYPTO_WALLET,
        "0xde709f2102306220921060314715629080e2fb77",
        None,
        "base",
        None,
        "0xde709f2102306220921060314715629080e2fb77",
    ),
    # bitcoin: bech32 / bech32m lower-cased; base58check kept
    (
        K.CRYPTO_WALLET,
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        None,
        "bitcoin",
        None,
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    ),
    (
        K.CRYPTO_WALLET,
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        None,
        "bitcoin",
        None,
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
    ),
    (
        K.CRYPTO_WALLET,
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
        None,
        "Bitcoin",
        None,
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
    ),
    (
        K.CRYPTO_WALLET,
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        None,
        "bitcoin",
        None,
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    ),
    (
        K.CRYPTO_WALLET,
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        None,
        "bitcoin",
        None,
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    ),
    # tron: base58check with version byte 0x41
    (
        K.CRYPTO_WALLET,
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        None,
        "tron",
        None,
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    ),
    (
        K.CRYPTO_WALLET,
        " TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE ",
        None,
        "tron",
        None,
        "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
    ),
    # other chains: kept as given
    (
        K.CRYPTO_WALLET,
        "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU",
        None,
        "solana",
        None,
        "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU",
    ),
    # bank accounts: IBAN checked by mod-97, other numbers compacted
    (K.BANK_ACCOUNT, "GB82 WEST 1234 5698 7654 32", None, None, None, "GB82WEST12345698765432"),
    (K.BANK_ACCOUNT, "de89 3704 0044 0532 0130 00", None, None, None, "DE89370400440532013000"),
    (
        K.BANK_ACCOUNT,
        "FR1420041010050500013M02606",
        None,
        None,
        None,
        "FR1420041010050500013M02606",
    ),
    (K.BANK_ACCOUNT, "5142 8830 1197 (Maybank)", None, None, None, "514288301197MAYBANK"),
    (K.BANK_ACCOUNT, "12-34-56 12345678", None, None, None, "12345612345678"),
    # IP addresses
    (K.IP_ADDRESS, "203.0.113.57", None, None, None, "203.0.113.57"),
    (K.IP_ADDRESS, " 10.0.0.1 ", None, None, None, "10.0.0.1"),
    (K.IP_ADDRESS, "2001:0DB8:0000:0000:0000:0000:0000:0001", None, None, None, "2001:db8::1"),
    (K.IP_ADDRESS, "::FFFF:192.0.2.1", None, None, None, "::ffff:c000:201"),
    # domains
    (K.DOMAIN, "Example.COM.", None, None, None, "example.com"),
    (K.DOMAIN, "bücher.de", None, None, None, "xn--bcher-kva.de"),
    (K.DOMAIN, "maybank2u-secure-login.com", None, None, None, "maybank2u-secure-login.com"),
    # free text kinds: stripped, whitespace collapsed
    (
        K.URL,
        "  https://t.me/goldfish_vip_signals  ",
        None,
        None,
        None,
        "https://t.me/goldfish_vip_signals",
    ),
    (K.DOCUMENT_NUMBER, " A 1234\t567 ", None, None, None, "A 1234 567"),
    (K.OTHER, "vehicle\n plate  WXY 1234", None, None, None, "vehicle plate WXY 1234"),
]

# (kind, value, platform, chain, region)
INVALID = [
    (K.PHONE, "012-345 6789", None, None, None),
    (K.PHONE, "012-345 6789", None, None, "INT"),
    (K.PHONE, "+60 12", None, None, "MY"),
    (K.PHONE, "not a number", None, None, "MY"),
    (K.PHONE, "+999 1234 5678", None, None, None),
    (K.PHONE, "+44 7700 900123", None, None, "GB"),
    (K.PHONE, "   ", None, None, "MY"),
    (K.EMAIL, "no-at.example.com", None, None, None),
    (K.EMAIL, "a@b@example.com", None, None, None),
    (K.EMAIL, "@example.com", None, None, None),
    (K.EMAIL, "a b@example.com", None, None, None),
    (K.EMAIL, "user@localhost", None, None, None),
    (K.EMAIL, "user@-bad-.com", None, None, None),
    (K.MESSENGER_HANDLE, "@", "telegram", None, None),
    (K.MESSENGER_HANDLE, "@goldfish", None, None, None),
    (K.MESSENGER_HANDLE, "two words", "relaygram", None, None),
    (K.MESSENGER_HANDLE, "https://t.me/a/b", "telegram", None, None),
    (K.CRYPTO_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", None, None, None),
    (K.CRYPTO_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", None, "ethereum", None),
    (K.CRYPTO_WALLET, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", None, "ethereum", None),
    (K.CRYPTO_WALLET, "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", None, "ethereum", None),
    (K.CRYPTO_WALLET, "0xZZaeb6053f3e94c9b9a09f33669435e7ef1beaed", None, "polygon", None),
    (K.CRYPTO_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7KV8F3T4", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb", None, "bitcoin", None),
    # checksums right, witness programs not: v0 with 16 bytes, v1 with 1 byte, version 17
    (K.CRYPTO_WALLET, "bc1qy3s3q27y9wj2p0e994s9wprag5nmrux2", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "bc1pysl0u83r", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "bc13y3s3q27y9wj2p0e994s9wpragklyjmyvpnlwf6", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", None, "bitcoin", None),
    (K.CRYPTO_WALLET, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", None, "tron", None),
    (K.CRYPTO_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", None, "tron", None),
    (K.BANK_ACCOUNT, "GB82 WEST 1234 5698 7654 33", None, None, None),
    (K.BANK_ACCOUNT, "DE88370400440532013000", None, None, None),
    (K.BANK_ACCOUNT, "-- / --", None, None, None),
    (K.IP_ADDRESS, "256.1.1.1", None, None, None),
    (K.IP_ADDRESS, "192.168.001.1", None, None, None),
    (K.IP_ADDRESS, "2001:db8::1::2", None, None, None),
    (K.IP_ADDRESS, "example.com", None, None, None),
    (K.DOMAIN, "localhost", None, None, None),
    (K.DOMAIN, "-bad.com", None, None, None),
    (K.DOMAIN, "a..b.com", None, None, None),
    (K.DOMAIN, "exa mple.com", None, None, None),
    (K.DOMAIN, "203.0.113.57", None, None, None),
    (K.URL, " \t ", None, None, None),
]


@pytest.mark.parametrize(("kind", "value", "platform", "chain", "region", "expected"), VALID)
def test_valid_values_have_their_canonical_form(kind, value, platform, chain, region, expected):
    got = canonical(kind, value, platform=platform, chain=chain, default_region=region, field=["v"])
    assert got == expected


@pytest.mark.parametrize(("kind", "value", "platform", "chain", "region"), INVALID)
def test_invalid_values_are_refused_naming_the_field(kind, value, platform, chain, region):
    with pytest.raises(ValidationFailed) as caught:
        canonical(
            kind,
            value,
            platform=platform,
            chain=chain,
            default_region=region,
            field=["identifiers", "3", "value"],
        )
    assert caught.value.code is ErrorCode.VALIDATION
    assert caught.value.field == ["identifiers", "3", "value"]
    assert caught.value.message


def test_the_table_has_at_least_sixty_cases():
    assert len(VALID) + len(INVALID) >= 60


def test_a_malaysian_number_written_two_ways_is_one_number():
    def e164(value: str) -> str:
        return canonical(K.PHONE, value, platform=None, chain=None, default_region="MY", field=[])

    assert e164("+60 12-345 6789") == e164("012-345 6789") == "+60123456789"


def test_keccak_is_not_sha3():
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"a" * 200).hex() != keccak256(b"a" * 199).hex()


def test_checked_identifier_validates_but_keeps_the_value_as_given():
    given = IdentifierInput(K.PHONE, "012-345 6789")
    kept = checked_identifier(given, field=["identifiers", "0"], default_region="MY")
    assert kept.value == "012-345 6789"
    with pytest.raises(ValidationFailed) as caught:
        checked_identifier(given, field=["identifiers", "0"])
    assert caught.value.field == ["identifiers", "0", "value"]


def test_checked_identifier_names_the_value_of_a_bad_wallet():
    wallet = IdentifierInput(K.CRYPTO_WALLET, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", chain="tron")
    with pytest.raises(ValidationFailed) as caught:
        checked_identifier(wallet, field=["particulars", "accountIdentifiers", "1"])
    assert caught.value.field == ["particulars", "accountIdentifiers", "1", "value"]
