from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import AgencyKind


class Agencies(BaseModel):
    agencies: "AgenciesAgencies"


class AgenciesAgencies(BaseModel):
    edges: list["AgenciesAgenciesEdges"]
    page_info: "AgenciesAgenciesPageInfo" = Field(alias="pageInfo")


class AgenciesAgenciesEdges(BaseModel):
    node: "AgenciesAgenciesEdgesNode"


class AgenciesAgenciesEdgesNode(BaseModel):
    id: str
    code: str
    name: str
    jurisdiction: str
    kind: AgencyKind


class AgenciesAgenciesPageInfo(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: Optional[str] = Field(alias="endCursor")


Agencies.model_rebuild()
AgenciesAgencies.model_rebuild()
AgenciesAgenciesEdges.model_rebuild()
