from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel


class EvidenceDigests(BaseModel):
    nodes: list[
        Optional[
            Annotated[
                Union["EvidenceDigestsNodesNode", "EvidenceDigestsNodesEvidence"],
                Field(discriminator="typename__"),
            ]
        ]
    ]


class EvidenceDigestsNodesNode(BaseModel):
    typename__: Literal[
        "Agency",
        "AgencySigningKey",
        "Case",
        "CaseShare",
        "CooperationRequest",
        "CustodyEvent",
        "Identifier",
        "Node",
        "Subject",
    ] = Field(alias="__typename")


class EvidenceDigestsNodesEvidence(BaseModel):
    typename__: Literal["Evidence"] = Field(alias="__typename")
    id: str
    sha_256: str = Field(alias="sha256")


EvidenceDigests.model_rebuild()
