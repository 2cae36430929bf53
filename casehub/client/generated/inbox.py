from pydantic import Field

from .base_model import BaseModel
from .fragments import RequestEventFields


class Inbox(BaseModel):
    cooperation_request_events: "InboxCooperationRequestEvents" = Field(
        alias="cooperationRequestEvents"
    )


InboxCooperationRequestEvents = RequestEventFields
Inbox.model_rebuild()
