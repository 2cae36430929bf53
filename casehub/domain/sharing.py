"""TLP rules for sharing a case with another agency."""

from __future__ import annotations

from uuid import UUID

from casehub.domain.enums import Tlp
from casehub.domain.errors import ClassificationForbidsSharing, ValidationFailed


def check_share(*, tlp: Tlp, owner_agency_id: UUID, target_agency_id: UUID) -> None:
    """Refuse a share the case's marking does not allow (TLP 2.0 as DESIGN §3 applies it).

    AMBER_STRICT stays inside the owner. RED may go only to agencies named one by one, which
    every share is; onward sharing is impossible for every marking because only the owner
    shares.
    """
    if target_agency_id == owner_agency_id:
        raise ValidationFailed("A case cannot be shared with its own agency.", ["agencyId"])
    if tlp is Tlp.AMBER_STRICT:
        raise ClassificationForbidsSharing(
            "TLP:AMBER+STRICT cases stay inside the owning agency.", ["caseId"]
        )


def check_reclassification(*, new_tlp: Tlp, active_shares: int) -> None:
    """Refuse raising a case to AMBER_STRICT while it is still shared outside the owner."""
    if new_tlp is Tlp.AMBER_STRICT and active_shares:
        raise ClassificationForbidsSharing(
            "Revoke the case's active shares before marking it TLP:AMBER+STRICT.", ["tlp"]
        )
