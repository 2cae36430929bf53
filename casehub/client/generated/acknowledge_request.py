from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class AcknowledgeRequest(BaseModel):
    acknowledge_cooperation_request: "AcknowledgeRequestAcknowledgeCooperationRequest" = Field(
        alias="acknowledgeCooperationRequest"
    )


AcknowledgeRequestAcknowledgeCooperationRequest = RequestPayloadFields
AcknowledgeRequest.model_rebuild()
