"""Shapes of the members of signed statements, and the first malformed member of an object."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from uuid import UUID

from casehub.domain.signatures.instants import parse_instant

Rule = Callable[[object], bool]

_HEX = re.compile(r"[0-9a-f]{64}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# An RFC 7638 thumbprint: unpadded base64url of a SHA-256 digest.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


def matches(pattern: re.Pattern[str]) -> Rule:
    """A rule: text the whole of which matches pattern."""
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None


def one_of(values: Iterable[str]) -> Rule:
    """A rule: one of these strings."""
    allowed = frozenset(values)
    return lambda value: isinstance(value, str) and value in allowed


def optional(rule: Rule) -> Rule:
    """A rule: null, or what `rule` accepts."""
    return lambda value: value is None or rule(value)


def text(value: object) -> bool:
    """Any string."""
    return isinstance(value, str)


def is_instant(value: object) -> bool:
    """A statement instant (casehub.domain.signatures.instants)."""
    return parse_instant(value) is not None


is_hex = matches(_HEX)
is_uuid = matches(_UUID)
is_thumbprint = matches(_THUMBPRINT)


def first_malformed(obj: Mapping[str, object], rules: Mapping[str, Rule]) -> str | None:
    """The first member, in sorted order, that is missing, unknown or breaks its rule."""
    for name in sorted({*obj, *rules}):
        rule = rules.get(name)
        if rule is None or name not in obj or not rule(obj[name]):
            return name
    return None


def uuid_text(value: UUID | str) -> str:
    """The lowercase hyphenated text of a UUID given as one or as text (ValueError if neither)."""
    return str(value if isinstance(value, UUID) else UUID(value))
