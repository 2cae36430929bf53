"""Opaque global ids (`Type:uuid`, base64url) and cursors."""

from __future__ import annotations

import base64
import binascii
from typing import Literal, cast, get_args
from uuid import UUID

from casehub.domain.errors import ValidationFailed

# The names of the GraphQL types that are nodes: what a global id may name.
# casehub.api.nodes gives each its type and look-up (mypy checks that it covers every one).
NodeName = Literal[
    "Agency",
    "Case",
    "Subject",
    "Identifier",
    "Evidence",
    "CustodyEvent",
    "CaseShare",
    "CooperationRequest",
    "AgencySigningKey",
]
NODE_NAMES: frozenset[str] = frozenset(get_args(NodeName))


def to_global_id(type_name: str, object_id: UUID) -> str:
    """Encode a type and an id into an opaque global id."""
    raw = f"{type_name}:{object_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def parse_global_id(value: str, field: list[str] | None = None) -> tuple[NodeName, UUID]:
    """Decode any global id; a malformed one is a VALIDATION error naming the field."""
    field = field or ["id"]
    if len(value) > 100:
        raise ValidationFailed("Not a valid id.", field)
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        type_name, _, text = raw.partition(":")
        object_id = UUID(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed("Not a valid id.", field) from None
    if type_name not in NODE_NAMES or to_global_id(type_name, object_id) != value:
        raise ValidationFailed("Not a valid id.", field)
    return cast(NodeName, type_name), object_id


def parse_id_of(expected: NodeName, value: str, field: list[str]) -> UUID:
    """Decode a global id that must be of one type (an Agency id where a Case is due fails)."""
    type_name, object_id = parse_global_id(value, field)
    if type_name != expected:
        raise ValidationFailed(f"Expected the id of a {expected}, got one of a {type_name}.", field)
    return object_id


def to_cursor(object_id: UUID) -> str:
    """An opaque keyset cursor."""
    return base64.urlsafe_b64encode(object_id.bytes).decode("ascii").rstrip("=")


def parse_cursor(value: str | None, argument: str = "after") -> UUID | None:
    """Decode a cursor; a malformed one is a VALIDATION error on its argument."""
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return UUID(bytes=raw)
    except (binascii.Error, ValueError):
        raise ValidationFailed("Not a valid cursor.", [argument]) from None


def renamed_id(expected: NodeName, given: str | None, old: str | None, old_name: str) -> UUID:
    """The id of an input that names the object it changes `id`, given as `id` or under its
    deprecated `old_name`; both or neither is a VALIDATION error, and a malformed one names
    the field the client used."""
    if given is not None and old is not None:
        raise ValidationFailed(f"Give `id` or `{old_name}`, not both.", [old_name])
    if given is not None:
        return parse_id_of(expected, given, ["id"])
    if old is not None:
        return parse_id_of(expected, old, [old_name])
    raise ValidationFailed("Required.", ["id"])
