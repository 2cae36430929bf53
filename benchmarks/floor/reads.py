"""The floor's reads: the cases page and the inbox, one query per level (the cases page's
cases come with their owner and the reader's key wrap joined in), only the columns the answer
needs, the same JSON as casehub's answers to the workloads' GraphQL documents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, exists, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.floor.audit import Entry
from benchmarks.floor.auth import Caller
from benchmarks.floor.env import Env
from benchmarks.tables import (
    AGENCY,
    CASE,
    IDENTIFIER,
    REQUEST,
    REQUEST_EVENT,
    SHARE,
    SUBJECT,
    WRAP,
)
from casehub.api.ids import to_cursor, to_global_id
from casehub.crypto import DataKey, KeyProvider, unwrap_data_key
from casehub.domain.cases.policy import (
    LINK_ACCESS_STATES,
    Action,
    Decision,
    RequestLink,
    ShareGrant,
    case_access,
    decide,
)
from casehub.domain.enums import Access, ShareScope, Tlp
from casehub.domain.requests.transitions import RequestStatus
from casehub.services.protected import (
    CASE_SUMMARY,
    IDENTIFIER_VALUE,
    SUBJECT_DISPLAY_NAME,
    ProtectedField,
)

LINK_STATUSES = sorted(status.value for status in LINK_ACCESS_STATES)


def _page_info(page: Sequence[Row[Any]], has_next_page: bool) -> dict[str, Any]:
    return {
        "hasNextPage": has_next_page,
        "endCursor": to_cursor(page[-1].id) if page else None,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class _Decrypter:
    """Opens protected fields with the cases' keys and notes each opening for the audit."""

    def __init__(self, keys: dict[UUID, DataKey], owners: dict[UUID, UUID]) -> None:
        self.keys = keys
        self.owners = owners
        # owner agency -> object type -> object id -> field names
        self.reads: dict[UUID, dict[str, dict[UUID, set[str]]]] = {}

    def open(self, case_id: UUID, field: ProtectedField, row_id: UUID, blob: bytes) -> str | None:
        """The plaintext of one field, or None where the caller holds no key of its case."""
        key = self.keys.get(case_id)
        if key is None:
            return None
        owner = self.owners[case_id]
        plaintext = field.open(key, row_id, owner, blob)
        by_kind = self.reads.setdefault(owner, {}).setdefault(field.object_type, {})
        by_kind.setdefault(row_id, set()).add(field.column)
        return plaintext.decode("utf-8")

    def audit(self) -> list[Entry]:
        """One decryption event per owner agency and object type, as casehub records them."""
        return [
            Entry(
                action="field.decrypt",
                object_type=kind,
                object_agency_id=owner,
                details={
                    "objects": [
                        {"type": kind, "id": str(object_id), "fields": sorted(names)}
                        for object_id, names in sorted(objects.items())
                    ]
                },
            )
            for owner, kinds in self.reads.items()
            for kind, objects in sorted(kinds.items())
        ]


async def _access(
    connection: AsyncConnection, caller: Caller, cases: Sequence[Row[Any]], now: datetime
) -> dict[UUID, Access | None]:
    """The caller's access to each case, by casehub's policy over its shares and links (read
    in one query)."""
    agency = caller.agency_id
    foreign = [case.id for case in cases if case.owner_agency_id != agency]
    grants: dict[UUID, list[ShareGrant]] = defaultdict(list)
    links: dict[UUID, list[RequestLink]] = defaultdict(list)
    if foreign:
        # Shares and request links in one query: a share has a scope, a link a status.
        shares = select(
            SHARE.c.case_id,
            SHARE.c.scope,
            SHARE.c.expires_at,
            SHARE.c.revoked_at,
            null().label("status"),
        ).where(SHARE.c.case_id.in_(foreign), SHARE.c.agency_id == agency)
        linked = select(REQUEST.c.case_id, null(), null(), null(), REQUEST.c.status).where(
            REQUEST.c.case_id.in_(foreign), REQUEST.c.requested_agency_id == agency
        )
        for row in await connection.execute(union_all(shares, linked)):
            if row.status is None:
                grants[row.case_id].append(
                    ShareGrant(agency, ShareScope(row.scope), row.expires_at, row.revoked_at)
                )
            else:
                links[row.case_id].append(RequestLink(agency, RequestStatus(row.status)))
    return {
        case.id: case_access(
            viewer_agency_id=agency,
            owner_agency_id=case.owner_agency_id,
            grants=grants[case.id],
            now=now,
            tlp=Tlp(case.tlp),
            links=links[case.id],
        )
        for case in cases
    }


async def agencies(connection: AsyncConnection, ids: set[UUID]) -> dict[UUID, dict[str, Any]]:
    """Code, name and jurisdiction of these agencies, as the workloads select them."""
    rows = await connection.execute(select(AGENCY).where(AGENCY.c.id.in_(ids)))
    return {
        row.id: {"code": row.code, "name": row.name, "jurisdiction": row.jurisdiction}
        for row in rows
    }


async def _subjects(
    connection: AsyncConnection, case_ids: list[UUID], opener: _Decrypter
) -> dict[UUID, list[dict[str, Any]]]:
    """The subjects of these cases with their identifiers, oldest first, by case."""
    statement = (
        select(SUBJECT.c.id, SUBJECT.c.case_id, SUBJECT.c.kind, SUBJECT.c.display_name)
        .where(SUBJECT.c.case_id.in_(case_ids))
        .order_by(SUBJECT.c.id)
    )
    subject_rows = (await connection.execute(statement)).all()
    identifiers: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    columns = IDENTIFIER.c
    statement = (
        select(
            columns.id,
            columns.subject_id,
            columns.case_id,
            columns.kind,
            columns.value,
            columns.platform,
            columns.chain,
        )
        .where(columns.subject_id.in_([row.id for row in subject_rows]))
        .order_by(columns.id)
    )
    for row in await connection.execute(statement):
        identifiers[row.subject_id].append(
            {
                "id": to_global_id("Identifier", row.id),
                "kind": row.kind,
                "value": opener.open(row.case_id, IDENTIFIER_VALUE, row.id, row.value),
                "platform": row.platform,
                "chain": row.chain,
            }
        )
    subjects: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in subject_rows:
        subjects[row.case_id].append(
            {
                "id": to_global_id("Subject", row.id),
                "kind": row.kind,
                "displayName": opener.open(
                    row.case_id, SUBJECT_DISPLAY_NAME, row.id, row.display_name
                ),
                "identifiers": identifiers[row.id],
            }
        )
    return subjects


def _visible(agency: UUID, now: datetime) -> Any:
    """casehub's visibility rule: owned, shared and in force, or linked to a request."""
    shared = select(SHARE.c.id).where(
        SHARE.c.case_id == CASE.c.id,
        SHARE.c.agency_id == agency,
        SHARE.c.revoked_at.is_(None),
        or_(SHARE.c.expires_at.is_(None), SHARE.c.expires_at > now),
    )
    linked = select(REQUEST.c.id).where(
        REQUEST.c.case_id == CASE.c.id,
        REQUEST.c.requested_agency_id == agency,
        REQUEST.c.status.in_(LINK_STATUSES),
    )
    return or_(CASE.c.owner_agency_id == agency, exists(shared), exists(linked))


def _cases(agency: UUID, now: datetime, first: int) -> Any:
    """The newest cases the agency sees (one more than a page), each with its owner agency
    and the agency's wrap of its data key (NULL where it holds none): one row per case, as a
    wrap is unique by scope and agency."""
    wrap = and_(WRAP.c.scope_id == CASE.c.id, WRAP.c.agency_id == agency)
    return (
        select(
            CASE.c.id,
            CASE.c.owner_agency_id,
            CASE.c.reference,
            CASE.c.title,
            CASE.c.category,
            CASE.c.status,
            CASE.c.tlp,
            CASE.c.handling_code,
            CASE.c.version,
            CASE.c.created_at,
            CASE.c.summary,
            AGENCY.c.code,
            AGENCY.c.name,
            AGENCY.c.jurisdiction,
            WRAP.c.generation,
            WRAP.c.kek_version,
            WRAP.c.wrapped,
        )
        .select_from(CASE.join(AGENCY, AGENCY.c.id == CASE.c.owner_agency_id).outerjoin(WRAP, wrap))
        .where(_visible(agency, now))
        .order_by(CASE.c.id.desc())
        .limit(first + 1)
    )


def _unwrapped(keys: KeyProvider, agency: UUID, cases: Sequence[Row[Any]]) -> dict[UUID, DataKey]:
    """The data keys of these cases from the agency's wraps joined to them."""
    return {
        case.id: unwrap_data_key(
            keys,
            scope_id=case.id,
            generation=case.generation,
            agency_id=agency,
            version=case.kek_version,
            blob=case.wrapped,
        )
        for case in cases
        if case.wrapped is not None
    }


async def cases_page(
    connection: AsyncConnection, env: Env, caller: Caller, first: int, now: datetime
) -> tuple[dict[str, Any], list[Entry]]:
    """The newest cases the caller sees, with owner, subjects and identifiers (decrypted where
    it may read them); and the audit events of what was decrypted."""
    rows = (await connection.execute(_cases(caller.agency_id, now, first))).all()
    access = await _access(connection, caller, rows[:first], now)
    cases = [case for case in rows[:first] if access[case.id] is not None]
    readable = [
        case
        for case in cases
        if decide(Action.READ_PROTECTED, access[case.id], caller.roles) is Decision.ALLOW
    ]
    opener = _Decrypter(
        _unwrapped(env.keys, caller.agency_id, readable),
        {case.id: case.owner_agency_id for case in cases},
    )
    subjects = await _subjects(connection, [case.id for case in cases], opener)
    edges = [
        {
            "node": {
                "id": to_global_id("Case", case.id),
                "reference": case.reference,
                "title": case.title,
                "category": case.category,
                "status": case.status,
                "tlp": case.tlp,
                "handlingCode": case.handling_code,
                "version": case.version,
                "createdAt": _iso(case.created_at),
                "viewerAccess": access[case.id],
                "summary": opener.open(case.id, CASE_SUMMARY, case.id, case.summary),
                "owner": {
                    "code": case.code,
                    "name": case.name,
                    "jurisdiction": case.jurisdiction,
                },
                "subjects": subjects[case.id],
            }
        }
        for case in cases
    ]
    body = {"data": {"cases": {"edges": edges, "pageInfo": _page_info(cases, len(rows) > first)}}}
    return body, opener.audit()


async def inbox(
    connection: AsyncConnection, _env: Env, caller: Caller, first: int, _now: datetime
) -> tuple[dict[str, Any], list[Entry]]:
    """The newest requests sent to the caller's agency, with the requester and the events it
    may see (the latest last)."""
    agency = caller.agency_id
    statement = (
        select(REQUEST)
        .where(REQUEST.c.requested_agency_id == agency, REQUEST.c.submitted_at.is_not(None))
        .order_by(REQUEST.c.id.desc())
        .limit(first + 1)
    )
    rows = (await connection.execute(statement)).all()
    page = rows[:first]
    requesters = await agencies(connection, {row.requester_agency_id for row in page})
    events: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    if page:
        visible = (
            select(REQUEST_EVENT)
            .where(
                REQUEST_EVENT.c.request_id.in_([row.id for row in page]),
                REQUEST_EVENT.c.visible_to_requested,
            )
            .order_by(REQUEST_EVENT.c.request_id, REQUEST_EVENT.c.number)
        )
        for event in await connection.execute(visible):
            events[event.request_id].append(
                {
                    "number": event.number,
                    "action": event.action,
                    "toStatus": event.to_status,
                    "occurredAt": _iso(event.occurred_at),
                }
            )
    edges = [
        {
            "node": {
                "id": to_global_id("CooperationRequest", row.id),
                "kind": row.kind,
                "priority": row.priority,
                "title": row.title,
                "status": row.status,
                "submittedAt": _iso(row.submitted_at),
                "acknowledgeBy": _iso(row.acknowledge_by),
                "requester": requesters.get(row.requester_agency_id),
                "events": events[row.id],
            }
        }
        for row in page
    ]
    page_info = _page_info(page, len(rows) > first)
    return {"data": {"cooperationRequests": {"edges": edges, "pageInfo": page_info}}}, []
