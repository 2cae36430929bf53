"""Input rules for clear-text and protected strings; each failure names the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casehub.domain.countries import JURISDICTIONS
from casehub.domain.errors import ValidationFailed

_AGENCY_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_LINE_BREAKS = frozenset("\n\r\t")
# Bidirectional overrides, embeddings and isolates can make a text display as something else
# ("Trojan Source"); zero-width space and BOM hide content. Other format characters (ZWJ,
# ZWNJ) are needed by real scripts and stay allowed.
_DECEPTIVE = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff")


def text(
    value: str,
    *,
    field: Sequence[str],
    max_length: int,
    multiline: bool = False,
) -> str:
    """Accept a required string as given: not blank, not too long, no control characters."""
    if not value or not value.strip():
        raise ValidationFailed("Must not be empty.", field)
    if len(value) > max_length:
        raise ValidationFailed(f"Must be at most {max_length} characters.", field)
    for char in value:
        if multiline and char in _LINE_BREAKS:
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029":
            raise ValidationFailed("Must not contain control characters.", field)
        if char in _DECEPTIVE:
            raise ValidationFailed(
                "Must not contain invisible or text-direction override characters.", field
            )
    return value


def optional_text(
    value: str | None,
    *,
    field: Sequence[str],
    max_length: int,
    multiline: bool = False,
) -> str | None:
    """Like text(), for an optional string; None stays None."""
    if value is None:
        return None
    return text(value, field=field, max_length=max_length, multiline=multiline)


def agency_code(value: str, *, field: Sequence[str] = ("code",)) -> str:
    """Agency codes are upper-case letters, digits and dashes, 2 to 32 long (e.g. MY-PDRM)."""
    if not _AGENCY_CODE.fullmatch(value):
        raise ValidationFailed(
            "Must be 2-32 upper-case letters, digits or dashes, starting with a letter or digit.",
            field,
        )
    return value


def jurisdiction(value: str, *, field: Sequence[str] = ("jurisdiction",)) -> str:
    """An ISO 3166-1 alpha-2 code in upper case, or INT for international organisations."""
    if value not in JURISDICTIONS:
        raise ValidationFailed(
            "Must be an ISO 3166-1 alpha-2 country code (e.g. MY, FR) or INT.", field
        )
    return value


def sha256_hex(value: str, *, field: Sequence[str]) -> str:
    """A SHA-256 digest as 64 lower-case hexadecimal characters."""
    if not _SHA256.fullmatch(value):
        raise ValidationFailed("Must be 64 lower-case hexadecimal characters.", field)
    return value


def media_type(value: str, *, field: Sequence[str]) -> str:
    """A media type such as image/jpeg, in lower case without parameters."""
    if not _MEDIA_TYPE.fullmatch(value):
        raise ValidationFailed("Must be a media type such as application/pdf.", field)
    return value


def information_accuracy(value: int, *, field: Sequence[str]) -> int:
    """Europol 4x4 information grading: 1 (no doubt) to 4 (cannot be judged)."""
    if not 1 <= value <= 4:
        raise ValidationFailed("Must be 1, 2, 3 or 4.", field)
    return value


def page_size(value: int | None, *, default: int = 20, maximum: int = 100) -> int:
    """A connection's page size: default when absent, 1 to maximum otherwise."""
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise ValidationFailed(f"Must be between 1 and {maximum}.", ["first"])
    return value


_PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def platform_name(value: str, *, field: Sequence[str]) -> str:
    """A platform or chain name (telegram, ethereum); its canonical form is lower case."""
    lowered = value.lower()
    if not _PLATFORM.fullmatch(lowered):
        raise ValidationFailed(
            "Must be 1-64 letters, digits, dots, dashes or underscores (e.g. telegram).", field
        )
    return lowered


def utc(value: datetime | None, *, field: Sequence[str]) -> datetime | None:
    """A timestamp with its offset, converted to UTC; one without an offset is ambiguous."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed("Must include a time zone offset, e.g. 2026-01-31T12:00:00Z.", field)
    return value.astimezone(UTC)


def timezone(value: str, *, field: Sequence[str] = ("timezone",)) -> str:
    """An IANA time zone name such as Asia/Kuala_Lumpur."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed("Must be an IANA time zone such as Europe/Paris.", field) from None
    return value
