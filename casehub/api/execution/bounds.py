"""The most items every list field of the schema returns, for the cost of an operation.

One table, keyed by `Type.field`, for every field of an object type that returns a list of
objects (lists of scalars and enums cost nothing). The numbers come from the settings and the
rules the services enforce when writing and apply when reading (casehub.services.caps), so the
cost computed before an operation runs bounds what it can return. A test generated from the
schema fails when a list field has no row here.

Two kinds of list take their length from the document instead: a connection's `edges` (the
connection already multiplies by its page size) and `nodes(ids:)` (as many as the ids).
"""

from __future__ import annotations

from collections.abc import Callable

from casehub.api.errors import USER_ERRORS_MAX
from casehub.config import Settings
from casehub.domain.deconfliction.matching import HIT_CHECK_MAX
from casehub.domain.requests.content import ITEMS_MAX
from casehub.services import caps

PAGE = "page"  # the edges of a connection: its page size multiplies, each edge counts once
IDS = "ids"  # `nodes(ids:)`: as many as the ids given

Bound = int | str | Callable[[Settings], int]

LIST_BOUNDS: dict[str, Bound] = {
    "Query.nodes": IDS,
    "AgencyConnection.edges": PAGE,
    "AuditEventConnection.edges": PAGE,
    "CaseConnection.edges": PAGE,
    "CooperationRequestConnection.edges": PAGE,
    "HitNoticeConnection.edges": PAGE,
    "Case.subjects": caps.subjects_per_case,
    "Case.evidence": caps.evidence_per_case,
    "Case.shares": caps.shares_per_case,
    "Subject.identifiers": caps.IDENTIFIERS_PER_SUBJECT,
    "Evidence.custody": caps.custody_per_evidence,
    "CooperationRequest.events": caps.events_per_request,
    "CooperationRequest.messages": caps.messages_per_request,
    "CooperationRequest.evidence": caps.EVIDENCE_PER_REQUEST,
    "CooperationRequest.verification": caps.TRANSITION_EVENTS,
    "StepVerification.signatures": caps.SIGNATURES_PER_STEP,
    "Agency.signingKeys": caps.SIGNING_KEYS_PER_AGENCY,
    "RequestParticulars.accountIdentifiers": ITEMS_MAX,
    "HitNotice.cases": caps.HIT_NOTICE_CASES,
    "HitCheckPayload.results": HIT_CHECK_MAX,
    "HitResult.hits": caps.HIT_AGENCIES,
    "AuditEvent.fieldsRead": caps.FIELD_READS_PER_EVENT,
    "AuditEvent.details": caps.AUDIT_DETAILS,
}

# Lists bounded by the type of their items, wherever they appear: every payload's `errors`.
ITEM_BOUNDS: dict[str, int] = {"UserError": USER_ERRORS_MAX}

# Fields returning stored evidence bytes: each counts against the contents budget of an
# operation, multiplied like the cost.
CONTENT_FIELDS = frozenset({"Evidence.contentBase64", "RequestEvidence.contentBase64"})


def resolved(settings: Settings) -> dict[str, int | str]:
    """The bounds of LIST_BOUNDS for these settings (PAGE and IDS left as they are)."""
    return {
        name: bound(settings) if callable(bound) else bound for name, bound in LIST_BOUNDS.items()
    }
