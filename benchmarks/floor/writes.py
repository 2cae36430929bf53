"""The floor's writes: open a case, add a subject, add evidence; the rows, checks, crypto and
audit links casehub's use-cases write, by hand, inside the caller's transaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.floor.audit import Entry
from benchmarks.floor.auth import Caller
from benchmarks.floor.env import Env
from benchmarks.floor.keys import data_keys
from benchmarks.rows import case_row, identifier_rows, subject_row, wrap_row
from benchmarks.tables import CASE, CUSTODY, EVIDENCE, IDENTIFIER, IDENTIFIER_INDEX, SUBJECT, WRAP
from casehub.api.ids import parse_id_of, to_global_id
from casehub.crypto import DataKey, new_data_key
from casehub.domain import validation as check
from casehub.domain.cases.policy import Action, Decision, decide
from casehub.domain.enums import (
    Access,
    CaseCategory,
    CustodyAction,
    EvidenceKind,
    HandlingCode,
    IdentifierKind,
    Role,
    SubjectKind,
    Tlp,
)
from casehub.domain.errors import Forbidden, NotFound, ValidationFailed
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.ids import new_id
from casehub.services.cases.cases import REFERENCE_MAX, SUMMARY_MAX, TITLE_MAX
from casehub.services.cases.evidence import DESCRIPTION_MAX
from casehub.services.cases.subjects import IDENTIFIERS_MAX, NAME_MAX
from casehub.services.protected import EVIDENCE_CONTENT, EVIDENCE_DESCRIPTION

Written = tuple[dict[str, Any], Entry]


async def _own_case(
    connection: AsyncConnection, env: Env, caller: Caller, action: Action, given: str
) -> DataKey:
    """The key of the case the caller's agency owns and may change; casehub's refusals."""
    case_id = parse_id_of("Case", given, ["caseId"])
    statement = select(CASE.c.owner_agency_id, CASE.c.shredded_at).where(CASE.c.id == case_id)
    case = (await connection.execute(statement)).first()
    access = Access.OWNER if case and case.owner_agency_id == caller.agency_id else None
    decision = decide(action, access, caller.roles)
    if decision is Decision.NOT_FOUND or case is None:
        raise NotFound("No such case.", ["caseId"])
    if decision is Decision.FORBIDDEN:
        raise Forbidden("Your agency's access or your roles do not allow this.", ["caseId"])
    key = (await data_keys(connection, env.keys, caller.agency_id, [case_id])).get(case_id)
    if case.shredded_at is not None or key is None:
        raise ValidationFailed("The case was crypto-shredded.", ["caseId"])
    return key


async def open_case(
    connection: AsyncConnection, env: Env, caller: Caller, data: dict[str, Any], now: datetime
) -> Written:
    """openCase: a new case under a new data key wrapped for its owner."""
    if Role.INVESTIGATOR not in caller.roles:
        raise Forbidden("This action needs the INVESTIGATOR role.")
    owner = caller.agency_id
    key = new_data_key(new_id())
    fields = {
        "reference": check.text(data["reference"], field=["reference"], max_length=REFERENCE_MAX),
        "title": check.text(data["title"], field=["title"], max_length=TITLE_MAX),
        "summary": check.text(
            data["summary"], field=["summary"], max_length=SUMMARY_MAX, multiline=True
        ),
        "category": CaseCategory(data["category"]).value,
        "tlp": Tlp(data["tlp"]).value,
        "handling_code": HandlingCode(data["handlingCode"]).value,
    }
    row = case_row(key, owner=owner, created_by=caller.principal_id, fields=fields, now=now)
    await connection.execute(CASE.insert(), row)
    await connection.execute(WRAP.insert(), wrap_row(env.keys, key, owner, now))
    answer = {"openCase": {"case": {"id": to_global_id("Case", key.scope_id)}, "errors": []}}
    return answer, Entry("case.open", "Case", key.scope_id, owner)


async def add_subject(
    connection: AsyncConnection, env: Env, caller: Caller, data: dict[str, Any], now: datetime
) -> Written:
    """addSubject: a subject and its identifiers, sealed under the case's key and indexed."""
    key = await _own_case(connection, env, caller, Action.ADD_SUBJECT, data["caseId"])
    owner = caller.agency_id
    name = check.text(data["displayName"], field=["displayName"], max_length=NAME_MAX)
    given = data.get("identifiers", [])
    if len(given) > IDENTIFIERS_MAX:
        raise ValidationFailed(f"At most {IDENTIFIERS_MAX} identifiers.", ["identifiers"])
    subject_id = new_id()
    kind = SubjectKind(data["kind"]).value
    identifiers, index = identifier_rows(
        env.keys,
        key,
        subject_id=subject_id,
        owner=owner,
        given=[
            IdentifierInput(
                IdentifierKind(item["kind"]), item["value"], item.get("platform"), item.get("chain")
            )
            for item in given
        ],
        region=caller.jurisdiction,
        now=now,
    )
    row = subject_row(key, subject_id=subject_id, owner=owner, kind=kind, name=name, now=now)
    await connection.execute(SUBJECT.insert(), row)
    if identifiers:
        await connection.execute(IDENTIFIER.insert(), identifiers)
        await connection.execute(IDENTIFIER_INDEX.insert(), index)
    answer = {"addSubject": {"subject": {"id": to_global_id("Subject", subject_id)}, "errors": []}}
    details = {"caseId": str(key.scope_id), "identifiers": len(identifiers)}
    return answer, Entry("subject.add", "Subject", subject_id, owner, details)


def _content(given: str, limit: int) -> bytes:
    try:
        content = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("Not valid base64.", ["contentBase64"]) from None
    if len(content) > limit:
        raise ValidationFailed(
            f"Content is larger than the limit of {limit} bytes.", ["contentBase64"]
        )
    return content


async def add_evidence(
    connection: AsyncConnection, env: Env, caller: Caller, data: dict[str, Any], now: datetime
) -> Written:
    """addEvidence: an item with sealed description and content, and its first custody entry."""
    key = await _own_case(connection, env, caller, Action.ADD_EVIDENCE, data["caseId"])
    owner, case_id = caller.agency_id, key.scope_id
    content = _content(data["contentBase64"], env.max_evidence_bytes)
    description = check.optional_text(
        data.get("description"), field=["description"], max_length=DESCRIPTION_MAX, multiline=True
    )
    media_type = data.get("mediaType")
    evidence_id = new_id()
    digest = hashlib.sha256(content).hexdigest()
    await connection.execute(
        EVIDENCE.insert(),
        {
            "id": evidence_id,
            "case_id": case_id,
            "kind": EvidenceKind(data["kind"]).value,
            "title": check.text(data["title"], field=["title"], max_length=TITLE_MAX),
            "description": None
            if description is None
            else EVIDENCE_DESCRIPTION.seal(key, evidence_id, owner, description),
            "content": EVIDENCE_CONTENT.seal(key, evidence_id, owner, content),
            "sha256": digest,
            "size_bytes": len(content),
            "media_type": None
            if media_type is None
            else check.media_type(media_type, field=["mediaType"]),
            "handling_code": HandlingCode(data.get("handlingCode", "H0")).value,
            "created_by": caller.principal_id,
            "created_at": now,
        },
    )
    await connection.execute(
        CUSTODY.insert(),
        {
            "id": new_id(),
            "evidence_id": evidence_id,
            "case_id": case_id,
            "action": CustodyAction.RECEIVED.value,
            "actor_principal_id": caller.principal_id,
            "actor_agency_id": caller.agency_id,
            "occurred_at": now,
            "recorded_at": now,
        },
    )
    evidence = {"id": to_global_id("Evidence", evidence_id), "sha256": digest}
    details = {"caseId": str(case_id), "sizeBytes": len(content), "hasContent": True}
    answer = {"addEvidence": {"evidence": evidence, "errors": []}}
    return answer, Entry("evidence.add", "Evidence", evidence_id, owner, details)
