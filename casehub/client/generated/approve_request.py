from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class ApproveRequest(BaseModel):
    approve_cooperation_request: "ApproveRequestApproveCooperationRequest" = Field(
        alias="approveCooperationRequest"
    )


ApproveRequestApproveCooperationRequest = RequestPayloadFields
ApproveRequest.model_rebuild()
