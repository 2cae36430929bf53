from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestPayloadFields


class CreateRequest(BaseModel):
    create_cooperation_request: "CreateRequestCreateCooperationRequest" = Field(
        alias="createCooperationRequest"
    )


CreateRequestCreateCooperationRequest = RequestPayloadFields
CreateRequest.model_rebuild()
