from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    AgencyKind,
    ErrorCode,
    EvidenceRole,
    FulfilOutcome,
    IdentifierKind,
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
)


class RequestContent(BaseModel):
    id: str
    kind: RequestKind
    priority: Priority
    legal_basis: Optional[str] = Field(alias="legalBasis")
    title: str
    status: RequestStatus
    outcome: Optional[FulfilOutcome]
    version: int
    requester: Optional["RequestContentRequester"]
    requested: Optional["RequestContentRequested"]
    body: Optional[str]
    particulars: Optional["RequestContentParticulars"]
    evidence: list["RequestContentEvidence"]


class RequestContentRequester(BaseModel):
    id: str
    code: str


class RequestContentRequested(BaseModel):
    id: str
    code: str
    kind: AgencyKind


class RequestContentParticulars(BaseModel):
    offence: Optional[str]
    data_to_preserve: Optional[str] = Field(alias="dataToPreserve")
    custodian_or_location: Optional[str] = Field(alias="custodianOrLocation")
    follow_up_mla: Optional[bool] = Field(alias="followUpMla")
    imminent_threat: Optional[str] = Field(alias="imminentThreat")
    account_identifiers: list["RequestContentParticularsAccountIdentifiers"] = Field(
        alias="accountIdentifiers"
    )
    content_locations: list[str] = Field(alias="contentLocations")


class RequestContentParticularsAccountIdentifiers(BaseModel):
    kind: IdentifierKind
    value: str
    platform: Optional[str]
    chain: Optional[str]


class RequestContentEvidence(BaseModel):
    role: EvidenceRole
    evidence_id: str = Field(alias="evidenceId")
    sha_256: str = Field(alias="sha256")


class RequestEventFields(BaseModel):
    id: str
    seq: int
    number: int
    action: RequestAction
    from_status: Optional[RequestStatus] = Field(alias="fromStatus")
    to_status: RequestStatus = Field(alias="toStatus")
    occurred_at: datetime = Field(alias="occurredAt")
    request_id: str = Field(alias="requestId")
    actor_agency: Optional["RequestEventFieldsActorAgency"] = Field(alias="actorAgency")


class RequestEventFieldsActorAgency(BaseModel):
    id: str
    code: str


class UserErrorFields(BaseModel):
    code: ErrorCode
    field: Optional[list[str]]
    message: str
    retry_after: Optional[int] = Field(alias="retryAfter")


class RequestPayloadFields(BaseModel):
    request: Optional["RequestPayloadFieldsRequest"]
    errors: list["RequestPayloadFieldsErrors"]


class RequestPayloadFieldsRequest(RequestContent):
    pass


class RequestPayloadFieldsErrors(UserErrorFields):
    pass


RequestContent.model_rebuild()
RequestEventFields.model_rebuild()
UserErrorFields.model_rebuild()
RequestPayloadFields.model_rebuild()
