"""casehub's tables as SQLAlchemy Core sees them, for the hand-written SQL of the floor and the
bulk seeder."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlmodel import SQLModel

from casehub.persistence.tables import (
    AgencyRow,
    ApiTokenRow,
    AuditEventRow,
    CaseRow,
    CaseShareRow,
    CooperationRequestRow,
    CustodyEventRow,
    DataKeyWrapRow,
    EvidenceRow,
    HitCheckRow,
    HitNoticeRow,
    IdentifierIndexRow,
    IdentifierRow,
    PrincipalRow,
    RequestEventRow,
    SubjectRow,
)


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # set on table models


AGENCY = _table(AgencyRow)
PRINCIPAL = _table(PrincipalRow)
TOKEN = _table(ApiTokenRow)
CASE = _table(CaseRow)
WRAP = _table(DataKeyWrapRow)
SHARE = _table(CaseShareRow)
SUBJECT = _table(SubjectRow)
IDENTIFIER = _table(IdentifierRow)
IDENTIFIER_INDEX = _table(IdentifierIndexRow)
EVIDENCE = _table(EvidenceRow)
CUSTODY = _table(CustodyEventRow)
AUDIT = _table(AuditEventRow)
HIT_CHECK = _table(HitCheckRow)
HIT_NOTICE = _table(HitNoticeRow)
REQUEST = _table(CooperationRequestRow)
REQUEST_EVENT = _table(RequestEventRow)
