"""What an agency administrator sees of an audit event it may read (one about its agency's
objects or by its principals): another agency's actor by agency, never by principal name — "who
read our evidence" names the agency that did — and only the details that carry no protected
value, no free text and no internal id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

# Counts, flags, enumeration names, field names and public agency codes. Everything else stays
# in the log for the operator: free text (reasons), client addresses, principal names, raw ids.
SHOWN_DETAILS = frozenset(
    {
        "action",
        "agenciesNotified",
        "code",
        "fields",
        "from",
        "hasContent",
        "hold",
        "identifiers",
        "identifiersWithHits",
        "kinds",
        "matchable",
        "receipts",
        "roles",
        "scope",
        "sharesRevoked",
        "sizeBytes",
        "to",
        "wrapsDestroyed",
    }
)


def actor_name_shown(viewer_agency_id: UUID, actor_agency_id: UUID | None) -> bool:
    """Whether the viewer's agency may learn the name of the principal who acted."""
    return actor_agency_id is not None and actor_agency_id == viewer_agency_id


def shown_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """The details an administrator may read, by allow-listed key."""
    return {key: value for key, value in details.items() if key in SHOWN_DETAILS}
