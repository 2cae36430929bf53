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
  address must carry a valid EIP-55 checksum (Keccak-256 from `pycryptodome`). Bitcoin: a
  segwit address (``bc1``/``tb1``) lower-cased, decoded by `bech32m` (BIP-173 bech32 for
  witness v0, BIP-350 bech32m after it), or base58check (``1``/``3``, `base58`). Tron:
  base58check (``T``, version byte 0x41). Other chains: stripped, kept as given.
- BANK_ACCOUNT: an IBAN (2 letters, 2 digits, up to 30 letters or digits; spaces allowed) must
  pass mod-97 (`stdnum.iban`) and is returned upper-case without spaces; anything else is
  upper-cased with spaces and punctuation removed.
- IP_ADDRESS: `ipaddress` compressed form.
- DOMAIN: IDNA-encoded, lower-case, without trailing dot.
- URL, DOCUMENT_NUMBER, OTHER: stripped, internal whitespace collapsed to one space.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

import base58
import bech32m
import phonenumbers
from Crypto.Hash import keccak
from stdnum import iban
from stdnum.exceptions import InvalidChecksum, ValidationError

from casehub.domain.enums import IdentifierKind
from casehub.domain.errors import ValidationFailed

EVM_CHAINS = frozenset({"ethereum", "polygon", "bsc", "arbitrum", "base"})
_TELEGRAM_LINK = re.compile(r"(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/([^/?#]+)/?", re.I)
_HANDLE = re.compile(r"[^\s@/]{1,256}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")


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
                raise ValidationFailed("Not a segwit address: wrong checksum or program.", field)
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
        try:
            # Mod-97 first; the country's national check digits are not checked (a value that
            # passes mod-97 was always accepted, and stored ones must keep matching).
            return iban.validate(compact, check_country=False)
        except InvalidChecksum:
            raise ValidationFailed("The IBAN's check digits are wrong.", field) from None
        except ValidationError:
            pass  # no country's IBAN (unknown code, another length): an account number
    cleaned = "".join(c for c in text.upper() if c.isalnum())
    if not cleaned:
        raise ValidationFailed("An account number has letters or digits.", field)
    return cleaned


def _base58check(text: str) -> bytes | None:
    """The payload of a base58check string, or None when it is not one (or carries nothing)."""
    try:
        payload = base58.b58decode_check(text)
    except ValueError:  # a character outside the alphabet (or not ASCII), a wrong checksum
        return None
    return payload or None


def _bech32_valid(text: str) -> bool:
    """A segwit address (``bc`` or ``tb``): BIP-173 bech32 for witness v0, BIP-350 bech32m for
    later versions, with a witness program of a length its version allows."""
    try:
        bech32m.decode(text[:2], text)
    except ValueError:  # bech32m.DecodeError, whatever the reason
        return False
    return True


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as used by Ethereum (original padding, not SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def _eip55(lower_hex: str) -> str:
    digest = keccak256(lower_hex.encode("ascii")).hex()
    return "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c
        for c, h in zip(lower_hex, digest[:40], strict=True)
    )
