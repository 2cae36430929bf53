from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import MessageKind, RequestAction, SignerRole, StepStatus
from .fragments import (  # noqa: F401
    RequestContent,
    RequestContentEvidence,
    RequestContentParticulars,
    RequestContentRequested,
    RequestContentRequester,
)


class RequestVerification(BaseModel):
    node: Optional[
        Annotated[
            Union[
                "RequestVerificationNodeNode",
                "RequestVerificationNodeCooperationRequest",
            ],
            Field(discriminator="typename__"),
        ]
    ]


class RequestVerificationNodeNode(BaseModel):
    typename__: Literal[
        "Agency",
        "AgencySigningKey",
        "Case",
        "CaseShare",
        "CustodyEvent",
        "Evidence",
        "Identifier",
        "Node",
        "Subject",
    ] = Field(alias="__typename")


class RequestVerificationNodeCooperationRequest(RequestContent):
    typename__: Literal["CooperationRequest"] = Field(alias="__typename")
    messages: list["RequestVerificationNodeCooperationRequestMessages"]
    verification: list["RequestVerificationNodeCooperationRequestVerification"]


class RequestVerificationNodeCooperationRequestMessages(BaseModel):
    kind: MessageKind
    body: Optional[str]


class RequestVerificationNodeCooperationRequestVerification(BaseModel):
    event_number: int = Field(alias="eventNumber")
    action: RequestAction
    status: StepStatus
    reason: Optional[str]
    required: bool
    signatures: list["RequestVerificationNodeCooperationRequestVerificationSignatures"]


class RequestVerificationNodeCooperationRequestVerificationSignatures(BaseModel):
    role: SignerRole
    event_number: int = Field(alias="eventNumber")
    statement: str
    signature: str
    status: StepStatus
    reason: Optional[str]
    agency: Optional[
        "RequestVerificationNodeCooperationRequestVerificationSignaturesAgency"
    ]
    key: "RequestVerificationNodeCooperationRequestVerificationSignaturesKey"


class RequestVerificationNodeCooperationRequestVerificationSignaturesAgency(BaseModel):
    id: str
    code: str


class RequestVerificationNodeCooperationRequestVerificationSignaturesKey(BaseModel):
    thumbprint: str
    public_key: str = Field(alias="publicKey")
    accreditation: Optional[
        "RequestVerificationNodeCooperationRequestVerificationSignaturesKeyAccreditation"
    ]
    revocation: Optional[
        "RequestVerificationNodeCooperationRequestVerificationSignaturesKeyRevocation"
    ]


class RequestVerificationNodeCooperationRequestVerificationSignaturesKeyAccreditation(
    BaseModel
):
    statement: str
    signature: str
    hub_key: str = Field(alias="hubKey")


class RequestVerificationNodeCooperationRequestVerificationSignaturesKeyRevocation(
    BaseModel
):
    statement: str
    signature: str


RequestVerification.model_rebuild()
RequestVerificationNodeCooperationRequest.model_rebuild()
RequestVerificationNodeCooperationRequestVerification.model_rebuild()
RequestVerificationNodeCooperationRequestVerificationSignatures.model_rebuild()
RequestVerificationNodeCooperationRequestVerificationSignaturesKey.model_rebuild()
