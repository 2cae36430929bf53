"""Canonical forms of subject identifiers, so that the same identifier written two ways matches.

Pure: no I/O. Every refusal is a `ValidationFailed` naming the field path given by the caller.

Rules by kind:

- PHONE: E.164 (``+60123456789``) via `phonenumbers`; a national number is read in the
  agency's jurisdiction (``default_region``); with no region or ``INT`` a leading ``+`` is
  required. Numbers `phonenumbers` does not consider valid are refused.
- EMAIL: exactly one ``@``, a non-empty local part without whitespace, a valid domain; the
  domain is IDNA-encoded, and the *whole* address is lower-cased (local parts are case
  sensitive in theory, but no provider in practice treats them so; dots and ``+tags`` are kept).
- MESSENGER_HANDLE: platform required; leading ``@`` removed, case-folded; for telegram
  ``t.me/NAME``, ``telegram.me/NAME`` and ``telegram.dog/NAME`` links (with or without scheme)
  are reduced to ``NAME``.
- CRYPTO_WALLET: chain required. EVM chains: ``0x`` + 40 hex digits, lower-cased; a mixed-case
  address must carry a valid EIP-55 checksum. Bitcoin: bech32/bech32m (``bc1``) lower-cased
  with its BIP-173/BIP-350 checksum checked, or base58check (``1``/``3``). Tron: base58check
  (``T``). Other chains: stripped, kept as given.
- BANK_ACCOUNT: an IBAN (2 letters, 2 digits, up to 30 letters or digits; spaces allowed) must
  pass mod-97 and is returned upper-case without spaces; anything else is upper-cased with
  spaces and punctuation removed.
- IP_ADDRESS: `ipaddress` compressed form.
- DOMAIN: IDNA-encoded, lower-case, without trailing dot.
- URL, DOCUMENT_NUMBER, OTHER: stripped, internal whitespace collapsed to one space.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Sequence

import phonenumbers

from casehub.domain.enums import IdentifierKind
from casehub.domain.errors import ValidationFailed

EVM_CHAINS = frozenset({"ethereum", "polygon", "bsc", "arbitrum", "base"})
_TELEGRAM_LINK = re.compile(r"(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/([^/?#]+)/?", re.I)
_HANDLE = re.compile(r"[^\s@/]{1,256}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def canonical(
    kind: IdentifierKind,
    value: str,
    *,
    platform: str | None,
    chain: str | None,
    default_region: str | None,
    field: Sequence[str],
) -> str:
    """The canonical form of an identifier value, or a VALIDATION error naming ``field``."""
    text = value.strip()
    if not text:
        raise ValidationFailed("Must not be empty.", field)
    match kind:
        case IdentifierKind.PHONE:
            return _phone(text, default_region, field)
        case IdentifierKind.EMAIL:
            return _email(text, field)
        case IdentifierKind.MESSENGER_HANDLE:
            return _handle(text, platform, field)
        case IdentifierKind.CRYPTO_WALLET:
            return _wallet(text, chain, field)
        case IdentifierKind.BANK_ACCOUNT:
            return _bank_account(text, field)
        case IdentifierKind.IP_ADDRESS:
            try:
                return ipaddress.ip_address(text).compressed
            except ValueError:
                raise ValidationFailed("Not an IPv4 or IPv6 address.", field) from None
        case IdentifierKind.DOMAIN:
            return _domain(text, field)
        case _:
            return " ".join(text.split())


def _phone(text: str, region: str | None, field: Sequence[str]) -> str:
    region = None if region is None or region.upper() == "INT" else region.upper()
    if region is None and not text.startswith("+"):
        raise ValidationFailed("Give the number in international form, starting with +.", field)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed("Not a phone number.", field) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed("Not a valid phone number.", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _domain(text: str, field: Sequence[str]) -> str:
    name = text.rstrip(".")
    try:
        encoded = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationFailed("Not a valid domain name.", field) from None
    labels = encoded.split(".")
    if len(labels) < 2 or len(encoded) > 253 or not all(_LABEL.fullmatch(x) for x in labels):
        raise ValidationFailed("Not a valid domain name.", field)
    if labels[-1].isdigit():
        raise ValidationFailed("Not a valid domain name.", field)
    return encoded


def _email(text: str, field: Sequence[str]) -> str:
    if text.count("@") != 1:
        raise ValidationFailed("An e-mail address has exactly one @.", field)
    local, domain = text.split("@")
    if not local or any(c.isspace() for c in local) or len(local) > 64:
        raise ValidationFailed("Not a valid e-mail address.", field)
    return f"{local.lower()}@{_domain(domain, field)}"


def _handle(text: str, platform: str | None, field: Sequence[str]) -> str:
    if platform is None:
        raise ValidationFailed("A messenger handle needs its platform.", field)
    if platform.lower() == "telegram":
        link = _TELEGRAM_LINK.fullmatch(text)
        if link:
            text = link.group(1)
    handle = text.removeprefix("@").casefold()
    if not _HANDLE.fullmatch(handle):
        raise ValidationFailed("Not a valid handle.", field)
    return handle


def _wallet(text: str, chain: str | None, field: Sequence[str]) -> str:
    if chain is None:
        raise ValidationFailed("A crypto wallet needs its chain.", field)
    chain = chain.lower()
    if chain in EVM_CHAINS:
        if not _EVM.fullmatch(text):
            raise ValidationFailed("An EVM address is 0x and 40 hexadecimal digits.", field)
        body = text[2:]
        if body != body.lower() and body != body.upper() and _eip55(body.lower()) != body:
            raise ValidationFailed("The address's EIP-55 checksum is wrong.", field)
        return "0x" + body.lower()
    if chain == "bitcoin":
        if text.lower().startswith(("bc1", "tb1")):
            if text != text.lower() and text != text.upper():
                raise ValidationFailed("A bech32 address is not mixed case.", field)
            if not _bech32_valid(text.lower()):
                raise ValidationFailed("The bech32 address's checksum is wrong.", field)
            return text.lower()
        if text[:1] not in ("1", "3") or _base58check(text) is None:
            raise ValidationFailed("Not a valid bitcoin address.", field)
        return text
    if chain == "tron":
        payload = _base58check(text)
        if payload is None or len(payload) != 21 or payload[0] != 0x41:
            raise ValidationFailed("Not a valid tron address.", field)
        return text
    return text


def _bank_account(text: str, field: Sequence[str]) -> str:
    compact = re.sub(r"[\s\-./]", "", text).upper()
    if re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9 ]+", text.upper()) and _IBAN.fullmatch(compact):
        moved = compact[4:] + compact[:4]
        if int("".join(str(int(c, 36)) for c in moved)) % 97 != 1:
            raise ValidationFailed("The IBAN's check digits are wrong.", field)
        return compact
    cleaned = "".join(c for c in text.upper() if c.isalnum())
    if not cleaned:
        raise ValidationFailed("An account number has letters or digits.", field)
    return cleaned


def _base58check(text: str) -> bytes | None:
    """The payload of a base58check string, or None when it is not one."""
    number = 0
    for char in text:
        digit = _BASE58.find(char)
        if digit < 0:
            return None
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def _bech32_polymod(values: Sequence[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def _bech32_valid(text: str) -> bool:
    """BIP-173 (bech32, witness v0) or BIP-350 (bech32m, later versions) checksum."""
    hrp, sep, data = text.rpartition("1")
    if not sep or not hrp or len(data) < 7 or len(text) > 90:
        return False
    if any(c not in _BECH32 for c in data):
        return False
    values = [_BECH32.index(c) for c in data]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    constant = _bech32_polymod(expanded + values)
    return (values[0] == 0 and constant == 1) or (values[0] != 0 and constant == 0x2BC830A3)


_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ROTATIONS = (
    (0, 36, 3, 41, 18),
    (1, 44, 10, 45, 2),
    (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56),
    (27, 20, 39, 8, 14),
)
_MASK = (1 << 64) - 1


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _keccak_f(state: list[list[int]]) -> None:
    """Keccak-f[1600] in place; state[x][y] is a 64-bit lane."""
    for constant in _ROUND_CONSTANTS:
        c = [state[x][0] ^ state[x][1] ^ state[x][2] ^ state[x][3] ^ state[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                state[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rotl(state[x][y], _ROTATIONS[x][y])
        for x in range(5):
            for y in range(5):
                state[x][y] = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y])
        state[0][0] ^= constant


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as used by Ethereum (original padding, not SHA3-256)."""
    rate = 136
    padded = bytearray(data) + b"\x01" + b"\0" * ((-len(data) - 1) % rate)
    padded[-1] |= 0x80
    state = [[0] * 5 for _ in range(5)]
    for start in range(0, len(padded), rate):
        block = padded[start : start + rate]
        for i in range(rate // 8):
            state[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _keccak_f(state)
    return b"".join(state[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


def _eip55(lower_hex: str) -> str:
    digest = keccak256(lower_hex.encode("ascii")).hex()
    return "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c
        for c, h in zip(lower_hex, digest[:40], strict=True)
    )
