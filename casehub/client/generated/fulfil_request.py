from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class FulfilRequest(BaseModel):
    fulfil_cooperation_request: "FulfilRequestFulfilCooperationRequest" = Field(
        alias="fulfilCooperationRequest"
    )


FulfilRequestFulfilCooperationRequest = RequestPayloadFields
FulfilRequest.model_rebuild()
