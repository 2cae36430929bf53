from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import EvidenceKind
from .fragments import UserErrorFields


class AddEvidence(BaseModel):
    add_evidence: "AddEvidenceAddEvidence" = Field(alias="addEvidence")


class AddEvidenceAddEvidence(BaseModel):
    evidence: Optional["AddEvidenceAddEvidenceEvidence"]
    errors: list["AddEvidenceAddEvidenceErrors"]


class AddEvidenceAddEvidenceEvidence(BaseModel):
    id: str
    kind: EvidenceKind
    title: str
    sha_256: str = Field(alias="sha256")
    size_bytes: int = Field(alias="sizeBytes")
    media_type: Optional[str] = Field(alias="mediaType")


AddEvidenceAddEvidenceErrors = UserErrorFields
AddEvidence.model_rebuild()
AddEvidenceAddEvidence.model_rebuild()
