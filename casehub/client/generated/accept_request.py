from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class AcceptRequest(BaseModel):
    accept_cooperation_request: "AcceptRequestAcceptCooperationRequest" = Field(
        alias="acceptCooperationRequest"
    )


AcceptRequestAcceptCooperationRequest = RequestPayloadFields
AcceptRequest.model_rebuild()
