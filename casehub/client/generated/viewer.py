from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import AgencyKind, Role


class Viewer(BaseModel):
    viewer: "ViewerViewer"


class ViewerViewer(BaseModel):
    name: str
    principal_id: str = Field(alias="principalId")
    roles: list[Role]
    agency: Optional["ViewerViewerAgency"]


class ViewerViewerAgency(BaseModel):
    id: str
    code: str
    name: str
    jurisdiction: str
    kind: AgencyKind


Viewer.model_rebuild()
ViewerViewer.model_rebuild()
