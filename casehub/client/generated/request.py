from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import MessageKind
from .fragments import (  # noqa: F401
    RequestContent,
    RequestContentEvidence,
    RequestContentParticulars,
    RequestContentRequested,
    RequestContentRequester,
    RequestEventFields,
)


class Request(BaseModel):
    node: Optional[
        Annotated[
            Union["RequestNodeNode", "RequestNodeCooperationRequest"],
            Field(discriminator="typename__"),
        ]
    ]


class RequestNodeNode(BaseModel):
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


class RequestNodeCooperationRequest(RequestContent):
    typename__: Literal["CooperationRequest"] = Field(alias="__typename")
    events: list["RequestNodeCooperationRequestEvents"]
    messages: list["RequestNodeCooperationRequestMessages"]


RequestNodeCooperationRequestEvents = RequestEventFields


class RequestNodeCooperationRequestMessages(BaseModel):
    kind: MessageKind
    body: Optional[str]
    author_agency: Optional["RequestNodeCooperationRequestMessagesAuthorAgency"] = (
        Field(alias="authorAgency")
    )


class RequestNodeCooperationRequestMessagesAuthorAgency(BaseModel):
    code: str


Request.model_rebuild()
RequestNodeCooperationRequest.model_rebuild()
RequestNodeCooperationRequestMessages.model_rebuild()
