from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class DeclineRequest(BaseModel):
    decline_cooperation_request: "DeclineRequestDeclineCooperationRequest" = Field(
        alias="declineCooperationRequest"
    )


DeclineRequestDeclineCooperationRequest = RequestPayloadFields
DeclineRequest.model_rebuild()
