"""Use-cases drafting cooperation requests, and the look-up of a request for one of its
parties that every later step starts from (transitions.py, messages.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from casehub.domain import validation as check
from casehub.domain.cases.sharing import Disclosure, check_disclosure
from casehub.domain.enums import Access, Tlp
from casehub.domain.errors import Forbidden, NotFound, ValidationFailed
from casehub.domain.ids import new_id
from casehub.domain.requests.content import Particulars, checked_particulars, particulars_json
from casehub.domain.requests.transitions import (
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
    Side,
    reaches_requested,
)
from casehub.domain.roles import Operation
from casehub.persistence.tables import CooperationRequestRow
from casehub.services.agencies.agencies import refuse_remote
from casehub.services.audit import trail as audit
from casehub.services.cases.access import visible_cases
from casehub.services.keys import data_keys as keys
from casehub.services.protected import REQUEST_BODY, REQUEST_PARTICULARS
from casehub.services.requests.events import announce, record_event
from casehub.services.requests.evidence import copy_evidence, own_evidence
from casehub.services.requests.reads import request_view
from casehub.services.runtime import Scope
from casehub.services.views import RequestView

TITLE_MAX = 200
BODY_MAX = 50_000
LEGAL_BASIS_MAX = 500


@dataclass(frozen=True, slots=True)
class Party:
    """A request as loaded for one of its parties."""

    row: CooperationRequestRow
    side: Side


async def load_party(scope: Scope, request_id: UUID, field: str = "id") -> Party:
    """The request if the caller's agency is party to it; NOT_FOUND for everyone else."""
    agency = scope.caller().agency_id
    # Another agency's request is never read: it and a missing id take the same path.
    rows = await scope.store.party_requests_by_ids([request_id], agency)
    if rows:
        row = rows[0]
        if row.requester_agency_id == agency:
            return Party(row, Side.REQUESTER)
        if row.requested_agency_id == agency and reaches_requested(row.submitted_at is not None):
            return Party(row, Side.REQUESTED)
    raise NotFound("No such cooperation request.", [field])


async def create_request(
    scope: Scope,
    *,
    requested_agency_id: UUID,
    kind: RequestKind,
    priority: Priority,
    title: str,
    body: str,
    legal_basis: str | None = None,
    particulars: Particulars | None = None,
    case_id: UUID | None = None,
    evidence_ids: Sequence[UUID] = (),
) -> RequestView:
    """Draft a request to another agency; only the requester sees it until it is submitted."""
    async with audit.mutation(scope, "request.create") as entry:
        principal = scope.require(Operation.ACT_ON_REQUESTS)
        check.text(title, field=["title"], max_length=TITLE_MAX)
        check.text(body, field=["body"], max_length=BODY_MAX, multiline=True)
        check.optional_text(legal_basis, field=["legalBasis"], max_length=LEGAL_BASIS_MAX)
        own = await scope.store.agencies_by_ids([principal.agency_id])
        region = own[0].jurisdiction if own else None
        checked = checked_particulars(particulars or Particulars(), region=region)
        if requested_agency_id == principal.agency_id:
            raise ValidationFailed("A request goes to another agency.", ["requestedAgencyId"])
        requested = await scope.store.agencies_by_ids([requested_agency_id])
        if not requested:
            raise NotFound("No such agency.", ["requestedAgencyId"])
        refuse_remote(requested[0], ["requestedAgencyId"])
        if case_id is not None:
            found = (await visible_cases(scope, [case_id])).get(case_id)
            if found is None:
                raise NotFound("No such case.", ["caseId"])
            if found[1].access is not Access.OWNER:
                raise Forbidden("Only a case your agency owns can be linked.", ["caseId"])
            check_disclosure(tlp=Tlp(found[0].tlp), way=Disclosure.REQUEST_LINK, field=["caseId"])
        elif evidence_ids:
            raise ValidationFailed(
                "Attach evidence of a linked case: give caseId.", ["evidenceIds"]
            )
        evidence = await own_evidence(scope, evidence_ids, case_id, "evidenceIds")
        request_id = new_id()
        owner = principal.agency_id
        key = keys.create_key(scope, request_id, owner)
        await keys.grant_key(scope, request_id, requested_agency_id)
        now = scope.now
        row = CooperationRequestRow(
            id=request_id,
            requester_agency_id=owner,
            requested_agency_id=requested_agency_id,
            kind=kind.value,
            priority=priority.value,
            legal_basis=legal_basis,
            title=title,
            body=REQUEST_BODY.seal(key, request_id, owner, body),
            particulars=REQUEST_PARTICULARS.seal(key, request_id, owner, particulars_json(checked)),
            case_id=case_id,
            status=RequestStatus.DRAFT.value,
            version=1,
            created_by=principal.id,
            created_at=now,
            updated_at=now,
        )
        scope.store.add(row)
        await scope.store.flush()
        await copy_evidence(scope, row, evidence, "ATTACHED")
        event = await record_event(scope, row, RequestAction.CREATE, None, RequestStatus.DRAFT)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CooperationRequest",
            request_id,
            owner,
        )
    await announce(scope, event)
    return request_view(scope, row, Side.REQUESTER, key)
