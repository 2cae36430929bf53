"""The root field on the audit trail."""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Annotated

import strawberry

from casehub.api.audit.types import (
    AuditConsistencyProof,
    AuditEvent,
    AuditEventFilter,
    AuditTreeHead,
)
from casehub.api.context import Info
from casehub.api.enums import AuditAction
from casehub.api.relay import After, Before, Connection, First, Last, page
from casehub.domain.errors import ValidationFailed
from casehub.services.audit import log as audit_log
from casehub.services.audit import reads as audit_reads

_CURSOR = "AuditEvent:"


def stored_action(name: str | None) -> str | None:
    """The stored name of an action given as an AuditAction name; any other text as given
    (the service checks it)."""
    if name is not None and name in AuditAction.__members__:
        stored: str = AuditAction[name].value
        return stored
    return name


def _to_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR}{seq}".encode("ascii")).decode("ascii").rstrip("=")


def _parse_cursor(value: str | None, argument: str) -> int | None:
    """The sequence number in an audit cursor; a malformed one is a VALIDATION error."""
    if value is None:
        return None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR)
    if (
        not text.startswith(_CURSOR)
        or not (number.isascii() and number.isdigit())
        or len(number) > 18
    ):
        raise ValidationFailed("Not a valid cursor.", [argument])
    return int(number)


@strawberry.type(description="Reads of the audit trail.")
class AuditQuery:
    @strawberry.field(
        description=(
            "AGENCY_ADMIN only: newest first, the audit events about your agency's objects "
            "(whoever acted: who read your evidence) and those by your agency's principals."
        )
    )
    async def audit_events(
        self,
        info: Info,
        filter: Annotated[
            AuditEventFilter | None,
            strawberry.argument(description="Narrows the list; all when null."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEvent]:
        given = filter or AuditEventFilter()
        audit_filter = audit_reads.AuditFilter(
            action=stored_action(given.action),
            object_type=given.object_type,
            since=given.since,
            until=given.until,
        )
        listed = await audit_reads.list_audit_events(
            info.context.scope,
            audit_filter=audit_filter,
            first=first,
            after=_parse_cursor(after, "after"),
            last=last,
            before=_parse_cursor(before, "before"),
        )
        return page(
            listed,
            AuditEvent.of,
            partial(audit_reads.count_audit_events, audit_filter=audit_filter),
            cursor=lambda item: _to_cursor(item.seq),
        )

    @strawberry.field(
        description=(
            "AGENCY_ADMIN only: the newest signed tree head of the audit log (null before the "
            "first entry is integrated). Verify its signature with the hub's receipt keys."
        )
    )
    async def audit_tree_head(self, info: Info) -> AuditTreeHead | None:
        head = await audit_log.latest_head(info.context.scope)
        return AuditTreeHead.of(head) if head else None

    @strawberry.field(
        description=(
            "AGENCY_ADMIN only: the proof that the log at `toSize` entries extends the one at "
            "`fromSize` (sizes of signed tree heads, up to the newest)."
        )
    )
    async def audit_consistency_proof(
        self,
        info: Info,
        from_size: Annotated[
            int, strawberry.argument(description="Size of the older signed tree head.")
        ],
        to_size: Annotated[
            int, strawberry.argument(description="Size of the newer signed tree head.")
        ],
    ) -> AuditConsistencyProof:
        hashes = await audit_log.consistency(
            info.context.scope, from_size=from_size, to_size=to_size
        )
        return AuditConsistencyProof(
            from_size=from_size, to_size=to_size, hashes=[node.hex() for node in hashes]
        )
