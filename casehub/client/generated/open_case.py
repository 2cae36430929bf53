from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import UserErrorFields


class OpenCase(BaseModel):
    open_case: "OpenCaseOpenCase" = Field(alias="openCase")


class OpenCaseOpenCase(BaseModel):
    case: Optional["OpenCaseOpenCaseCase"]
    errors: list["OpenCaseOpenCaseErrors"]


class OpenCaseOpenCaseCase(BaseModel):
    id: str
    reference: str
    title: str


OpenCaseOpenCaseErrors = UserErrorFields
OpenCase.model_rebuild()
OpenCaseOpenCase.model_rebuild()
