"""TLP rules: by which ways a case's fields may reach an agency other than its owner.

Every way out of the owner is listed in `Disclosure`; the services ask `check_disclosure` before
opening any of them, and the access policy (casehub.domain.cases.policy) reads `may_leave_owner` so
that a grant written before a rule held (or by a race the locks missed) still opens nothing.
Matching in other agencies' hit checks is the one way that reveals no field, only that an agency
holds the identifier the asker already has; its rule is
`casehub.domain.deconfliction.matching.matchable`.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from casehub.domain.enums import Tlp
from casehub.domain.errors import ClassificationForbidsSharing, ValidationFailed


class Disclosure(StrEnum):
    """A way a case's non-public fields can reach another agency."""

    # shareCase: METADATA or FULL on the whole case, to one named agency.
    SHARE = "SHARE"
    # A submitted cooperation request linking the case: METADATA to the requested agency.
    REQUEST_LINK = "REQUEST_LINK"
    # An evidence item attached to a request (FULL to the requested agency while it is open) or
    # supplied in a fulfilment (FULL to the requester, for good).
    REQUEST_EVIDENCE = "REQUEST_EVIDENCE"


# Markings whose cases stay inside the owning agency whatever the way (TLP 2.0 AMBER+STRICT:
# "limited to the organization only"). RED goes out by every way, because each way names exactly
# one recipient agency, which is what RED asks for ("named one by one"), and only the owner opens
# a way (a recipient can neither share, nor link, nor attach a case it does not own), so
# nothing ever goes onward.
OWNER_ONLY = frozenset({Tlp.AMBER_STRICT})

_REFUSALS = {
    Disclosure.SHARE: "TLP:AMBER+STRICT cases stay inside the owning agency.",
    Disclosure.REQUEST_LINK: (
        "TLP:AMBER+STRICT cases stay inside the owning agency: a request cannot link one."
    ),
    Disclosure.REQUEST_EVIDENCE: (
        "Evidence of a TLP:AMBER+STRICT case stays inside the owning agency: a request cannot "
        "carry it."
    ),
}


def may_leave_owner(tlp: Tlp) -> bool:
    """Whether any of the case's non-public fields may reach another agency at all."""
    return tlp not in OWNER_ONLY


def check_disclosure(*, tlp: Tlp, way: Disclosure, field: list[str]) -> None:
    """Refuse, with CLASSIFICATION_FORBIDS_SHARING on `field`, a way the marking does not allow."""
    if not may_leave_owner(tlp):
        raise ClassificationForbidsSharing(_REFUSALS[way], field)


def check_share(*, tlp: Tlp, owner_agency_id: UUID, target_agency_id: UUID) -> None:
    """Refuse a share the case's marking does not allow (TLP 2.0 as docs/SECURITY.md states it).

    AMBER_STRICT stays inside the owner. RED may go only to agencies named one by one, which
    every share is; onward sharing is impossible for every marking because only the owner
    shares.
    """
    if target_agency_id == owner_agency_id:
        raise ValidationFailed("A case cannot be shared with its own agency.", ["agencyId"])
    check_disclosure(tlp=tlp, way=Disclosure.SHARE, field=["caseId"])


def check_reclassification(*, new_tlp: Tlp, active_shares: int, live_links: int = 0) -> None:
    """Refuse marking a case AMBER_STRICT while it still reaches another agency.

    `live_links` counts the submitted requests whose requested agency reads the case now
    (policy.LINK_ACCESS_STATES). The owner ends them first, as it revokes shares first: the
    partner is never cut off mid-request without the owner's explicit step, and the case's
    marking never says less than who reads it.
    """
    if new_tlp in OWNER_ONLY and active_shares:
        raise ClassificationForbidsSharing(
            "Revoke the case's active shares before marking it TLP:AMBER+STRICT.", ["tlp"]
        )
    if new_tlp in OWNER_ONLY and live_links:
        raise ClassificationForbidsSharing(
            "Withdraw or close the cooperation requests that link the case before marking it "
            "TLP:AMBER+STRICT.",
            ["tlp"],
        )
