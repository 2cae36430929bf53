"""TLP rules for sharing and reclassifying a case."""

from __future__ import annotations

from uuid import UUID

import pytest

from casehub.domain.cases.sharing import (
    Disclosure,
    check_disclosure,
    check_reclassification,
    check_share,
    may_leave_owner,
)
from casehub.domain.enums import Tlp
from casehub.domain.errors import ClassificationForbidsSharing, ErrorCode, ValidationFailed

OWNER = UUID("00000000-0000-7000-8000-00000000000a")
TARGET = UUID("00000000-0000-7000-8000-00000000000b")

# Hand-written: which markings may be shared with another agency.
SHAREABLE = {
    Tlp.CLEAR: True,
    Tlp.GREEN: True,
    Tlp.AMBER: True,
    Tlp.AMBER_STRICT: False,
    Tlp.RED: True,
}


def test_table_covers_every_tlp():
    assert set(SHAREABLE) == set(Tlp)


@pytest.mark.parametrize("tlp", [t for t, ok in SHAREABLE.items() if ok])
def test_share_to_another_agency_is_allowed(tlp):
    check_share(tlp=tlp, owner_agency_id=OWNER, target_agency_id=TARGET)  # must not raise


def test_amber_strict_share_is_refused():
    with pytest.raises(ClassificationForbidsSharing) as info:
        check_share(tlp=Tlp.AMBER_STRICT, owner_agency_id=OWNER, target_agency_id=TARGET)
    err = info.value
    assert type(err) is ClassificationForbidsSharing
    assert err.code is ErrorCode.CLASSIFICATION_FORBIDS_SHARING
    assert err.field == ["caseId"]
    assert "AMBER+STRICT" in err.message


@pytest.mark.parametrize("tlp", list(Tlp))
def test_self_share_is_refused_for_every_tlp(tlp):
    with pytest.raises(ValidationFailed) as info:
        check_share(tlp=tlp, owner_agency_id=OWNER, target_agency_id=OWNER)
    err = info.value
    assert type(err) is ValidationFailed
    assert err.code is ErrorCode.VALIDATION
    assert err.field == ["agencyId"]


def test_self_share_compares_uuid_values_not_identity():
    same = UUID(str(OWNER))
    with pytest.raises(ValidationFailed):
        check_share(tlp=Tlp.GREEN, owner_agency_id=OWNER, target_agency_id=same)


@pytest.mark.parametrize(
    ("new_tlp", "active_shares", "refused"),
    [
        (Tlp.AMBER_STRICT, 0, False),
        (Tlp.AMBER_STRICT, 1, True),
        (Tlp.AMBER_STRICT, 7, True),
        (Tlp.CLEAR, 0, False),
        (Tlp.CLEAR, 3, False),
        (Tlp.GREEN, 3, False),
        (Tlp.AMBER, 3, False),
        (Tlp.RED, 0, False),
        (Tlp.RED, 3, False),
    ],
)
def test_check_reclassification(new_tlp, active_shares, refused):
    if refused:
        with pytest.raises(ClassificationForbidsSharing) as info:
            check_reclassification(new_tlp=new_tlp, active_shares=active_shares)
        assert info.value.field == ["tlp"]
        assert info.value.code is ErrorCode.CLASSIFICATION_FORBIDS_SHARING
    else:
        check_reclassification(new_tlp=new_tlp, active_shares=active_shares)  # must not raise


# Every way out of the owner, per marking (hand-written): AMBER_STRICT goes out by none, RED by
# every one (each names one recipient agency).
WAYS = {
    Tlp.CLEAR: {Disclosure.SHARE, Disclosure.REQUEST_LINK, Disclosure.REQUEST_EVIDENCE},
    Tlp.GREEN: {Disclosure.SHARE, Disclosure.REQUEST_LINK, Disclosure.REQUEST_EVIDENCE},
    Tlp.AMBER: {Disclosure.SHARE, Disclosure.REQUEST_LINK, Disclosure.REQUEST_EVIDENCE},
    Tlp.AMBER_STRICT: set(),
    Tlp.RED: {Disclosure.SHARE, Disclosure.REQUEST_LINK, Disclosure.REQUEST_EVIDENCE},
}


def test_ways_table_covers_every_marking():
    assert set(WAYS) == set(Tlp)


@pytest.mark.parametrize("way", list(Disclosure))
@pytest.mark.parametrize("tlp", list(Tlp))
def test_check_disclosure(tlp, way):
    assert may_leave_owner(tlp) is bool(WAYS[tlp])
    if way in WAYS[tlp]:
        check_disclosure(tlp=tlp, way=way, field=["x"])  # must not raise
        return
    with pytest.raises(ClassificationForbidsSharing) as info:
        check_disclosure(tlp=tlp, way=way, field=["evidenceIds", "2"])
    assert info.value.code is ErrorCode.CLASSIFICATION_FORBIDS_SHARING
    assert info.value.field == ["evidenceIds", "2"]
    assert "AMBER+STRICT" in info.value.message


@pytest.mark.parametrize(
    ("new_tlp", "active_shares", "live_links", "refused"),
    [
        (Tlp.AMBER_STRICT, 0, 0, False),
        (Tlp.AMBER_STRICT, 0, 1, True),
        (Tlp.AMBER_STRICT, 0, 4, True),
        (Tlp.AMBER_STRICT, 2, 1, True),
        (Tlp.RED, 0, 3, False),
        (Tlp.AMBER, 0, 3, False),
        (Tlp.GREEN, 0, 3, False),
        (Tlp.CLEAR, 1, 3, False),
    ],
)
def test_check_reclassification_with_request_links(new_tlp, active_shares, live_links, refused):
    if not refused:
        check_reclassification(new_tlp=new_tlp, active_shares=active_shares, live_links=live_links)
        return
    with pytest.raises(ClassificationForbidsSharing) as info:
        check_reclassification(new_tlp=new_tlp, active_shares=active_shares, live_links=live_links)
    assert info.value.field == ["tlp"]
    expected = "shares" if active_shares else "cooperation requests"
    assert expected in info.value.message
