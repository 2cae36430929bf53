from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class SubmitRequest(BaseModel):
    submit_cooperation_request: "SubmitRequestSubmitCooperationRequest" = Field(
        alias="submitCooperationRequest"
    )


SubmitRequestSubmitCooperationRequest = RequestPayloadFields
SubmitRequest.model_rebuild()
