"""Legal deadlines of cooperation requests with an injected start time (DESIGN §3).

Day periods are calendar days on the requested agency's wall clock, so a deadline keeps its
local time across a daylight-saving change; hour periods are elapsed hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casehub.domain.requests.deadlines import Deadlines, at_acceptance, at_submission, is_overdue
from casehub.domain.requests.deadlines import pending_deadline as pending
from casehub.domain.requests.transitions import Priority, RequestKind, RequestStatus

UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KUALA_LUMPUR = ZoneInfo("Asia/Kuala_Lumpur")

START = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
MLA = RequestKind.MUTUAL_LEGAL_ASSISTANCE
ROUTINE = Priority.ROUTINE


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Mutual legal assistance: 7 / 30 days, execution 90 days after acceptance.


def test_mla_acknowledge_in_7_days_and_decide_in_30() -> None:
    deadlines = at_submission(MLA, ROUTINE, START, UTC_ZONE)
    assert deadlines.acknowledge_by == START + timedelta(days=7)
    assert deadlines.decide_by == START + timedelta(days=30)
    assert deadlines.hold_until is None
    # Before acceptance execution cannot end before the decision deadline's 90 days.
    assert deadlines.due_at >= START + timedelta(days=90)


def test_mla_execution_runs_90_days_from_acceptance() -> None:
    submitted = at_submission(MLA, ROUTINE, START, UTC_ZONE)
    accepted_at = START + timedelta(days=3, hours=5)
    accepted = at_acceptance(submitted, MLA, ROUTINE, accepted_at, UTC_ZONE)
    assert accepted.due_at == accepted_at + timedelta(days=90)
    # The earlier deadlines do not move.
    assert accepted.acknowledge_by == submitted.acknowledge_by
    assert accepted.decide_by == submitted.decide_by


def test_mla_deadlines_are_utc_whatever_the_zone() -> None:
    deadlines = at_submission(MLA, ROUTINE, START, KUALA_LUMPUR)
    for moment in (deadlines.acknowledge_by, deadlines.decide_by, deadlines.due_at):
        assert moment.utcoffset() == timedelta(0)
    # Kuala Lumpur has no daylight saving: calendar days are 24-hour days.
    assert deadlines.acknowledge_by == START + timedelta(days=7)


# Data disclosure: 10 days.


def test_data_disclosure_is_due_in_10_days() -> None:
    deadlines = at_submission(RequestKind.DATA_DISCLOSURE, ROUTINE, START, UTC_ZONE)
    assert deadlines.due_at == START + timedelta(days=10)
    assert deadlines.decide_by <= deadlines.due_at
    assert deadlines.acknowledge_by <= deadlines.due_at
    assert deadlines.hold_until is None


def test_data_disclosure_due_date_does_not_move_on_acceptance() -> None:
    submitted = at_submission(RequestKind.DATA_DISCLOSURE, ROUTINE, START, UTC_ZONE)
    accepted = at_acceptance(
        submitted, RequestKind.DATA_DISCLOSURE, ROUTINE, START + timedelta(days=8), UTC_ZONE
    )
    assert accepted.due_at == START + timedelta(days=10)


# Emergency priority: 8 hours, any kind.


@pytest.mark.parametrize("kind", list(RequestKind))
def test_emergency_priority_gives_8_hours_for_any_kind(kind: RequestKind) -> None:
    deadlines = at_submission(kind, Priority.EMERGENCY, START, PARIS)
    eight = START + timedelta(hours=8)
    assert deadlines.acknowledge_by == eight
    assert deadlines.decide_by == eight
    assert deadlines.due_at == eight
    # Accepting does not grant more time in an emergency.
    accepted = at_acceptance(deadlines, kind, Priority.EMERGENCY, START + timedelta(hours=2), PARIS)
    assert accepted.due_at == eight


@pytest.mark.parametrize("priority", [Priority.ROUTINE, Priority.URGENT])
def test_non_emergency_priorities_keep_the_kinds_periods(priority: Priority) -> None:
    deadlines = at_submission(MLA, priority, START, UTC_ZONE)
    assert deadlines.acknowledge_by == START + timedelta(days=7)


# Evidence preservation: acknowledged in 24 hours, held at least 60 days.


def test_preservation_acknowledged_in_24_hours_and_held_60_days() -> None:
    deadlines = at_submission(RequestKind.EVIDENCE_PRESERVATION, ROUTINE, START, UTC_ZONE)
    assert deadlines.acknowledge_by == START + timedelta(hours=24)
    assert deadlines.hold_until == START + timedelta(days=60)
    assert deadlines.decide_by <= START + timedelta(hours=24)


def test_emergency_preservation_keeps_its_60_day_hold() -> None:
    deadlines = at_submission(RequestKind.EVIDENCE_PRESERVATION, Priority.EMERGENCY, START, PARIS)
    assert deadlines.acknowledge_by == START + timedelta(hours=8)
    assert deadlines.hold_until == START + timedelta(days=60)


# Daylight saving in the requested agency's zone.


def test_days_keep_local_time_across_spring_forward_in_paris() -> None:
    # 2026-03-25 10:00 in Paris is UTC+1; clocks go forward on 2026-03-29.
    submitted = datetime(2026, 3, 25, 10, 0, tzinfo=PARIS)
    assert submitted.astimezone(UTC) == utc(2026, 3, 25, 9, 0)
    deadlines = at_submission(MLA, ROUTINE, submitted.astimezone(UTC), PARIS)
    # 2026-04-01 10:00 in Paris is UTC+2: 08:00Z, 6 days 23 hours of elapsed time.
    assert deadlines.acknowledge_by == utc(2026, 4, 1, 8, 0)
    assert deadlines.acknowledge_by.astimezone(PARIS).hour == 10
    # 30 days later: 2026-04-24 10:00 local, also summer time.
    assert deadlines.decide_by == utc(2026, 4, 24, 8, 0)


def test_days_keep_local_time_across_fall_back_in_new_york() -> None:
    # 2026-10-28 10:00 EDT (UTC-4); clocks go back on 2026-11-01.
    submitted = utc(2026, 10, 28, 14, 0)
    assert submitted.astimezone(NEW_YORK).hour == 10
    deadlines = at_submission(MLA, ROUTINE, submitted, NEW_YORK)
    # 2026-11-04 10:00 EST (UTC-5) = 15:00Z: 7 days and one hour of elapsed time.
    assert deadlines.acknowledge_by == utc(2026, 11, 4, 15, 0)
    assert deadlines.acknowledge_by.astimezone(NEW_YORK).hour == 10


def test_data_disclosure_across_fall_back_in_new_york() -> None:
    submitted = utc(2026, 10, 26, 13, 0)  # 09:00 EDT
    deadlines = at_submission(RequestKind.DATA_DISCLOSURE, ROUTINE, submitted, NEW_YORK)
    assert deadlines.due_at == utc(2026, 11, 5, 14, 0)  # 09:00 EST


def test_execution_from_acceptance_across_a_dst_change() -> None:
    # Accepted 2026-02-10 10:00 in Paris (UTC+1); 90 days later is 2026-05-11 10:00 (UTC+2).
    submitted = at_submission(MLA, ROUTINE, utc(2026, 2, 1, 9, 0), PARIS)
    accepted = at_acceptance(submitted, MLA, ROUTINE, utc(2026, 2, 10, 9, 0), PARIS)
    assert accepted.due_at == utc(2026, 5, 11, 8, 0)


def test_the_requested_agencys_zone_decides_not_utc() -> None:
    submitted = utc(2026, 3, 25, 9, 0)
    in_paris = at_submission(MLA, ROUTINE, submitted, PARIS)
    in_utc = at_submission(MLA, ROUTINE, submitted, UTC_ZONE)
    assert in_utc.acknowledge_by == utc(2026, 4, 1, 9, 0)
    assert in_paris.acknowledge_by == in_utc.acknowledge_by - timedelta(hours=1)


def test_hour_periods_are_elapsed_hours_across_spring_forward() -> None:
    # 2026-03-28 22:00 in Paris (UTC+1): 8 elapsed hours later the wall clock shows 07:00.
    submitted = utc(2026, 3, 28, 21, 0)
    deadlines = at_submission(RequestKind.DATA_DISCLOSURE, Priority.EMERGENCY, submitted, PARIS)
    assert deadlines.acknowledge_by == utc(2026, 3, 29, 5, 0)
    assert deadlines.acknowledge_by.astimezone(PARIS).hour == 7


def test_hour_periods_are_elapsed_hours_across_fall_back() -> None:
    # 2026-10-31 12:00 EDT: 24 elapsed hours later the wall clock shows 11:00 EST.
    submitted = utc(2026, 10, 31, 16, 0)
    deadlines = at_submission(RequestKind.EVIDENCE_PRESERVATION, ROUTINE, submitted, NEW_YORK)
    assert deadlines.acknowledge_by == utc(2026, 11, 1, 16, 0)
    assert deadlines.acknowledge_by.astimezone(NEW_YORK).hour == 11
    # The 60-day hold is calendar days: 2026-12-30 12:00 EST.
    assert deadlines.hold_until == utc(2026, 12, 30, 17, 0)


def test_a_deadline_falling_in_the_spring_gap_is_a_real_instant_near_the_period() -> None:
    # 2026-03-22 02:30 in Paris; 7 days later 02:30 does not exist on the local clock.
    submitted = utc(2026, 3, 22, 1, 30)
    ack = at_submission(MLA, ROUTINE, submitted, PARIS).acknowledge_by
    assert abs(ack - (submitted + timedelta(days=7))) <= timedelta(hours=1)
    assert ack.utcoffset() == timedelta(0)


# What a request waits on, per state.

DEADLINES = Deadlines(
    acknowledge_by=utc(2026, 1, 8),
    decide_by=utc(2026, 1, 31),
    due_at=utc(2026, 5, 1),
    hold_until=None,
)
WAITS_ON = {
    "DRAFT": None,
    "AWAITING_APPROVAL": None,  # the clock starts at the approval
    "SUBMITTED": utc(2026, 1, 8),
    "ACKNOWLEDGED": utc(2026, 1, 31),
    "ACCEPTED": utc(2026, 5, 1),
    "DECLINED": None,
    "FULFILLED": None,
    "PARTIALLY_FULFILLED": None,
    "WITHDRAWN": None,
    "CLOSED": None,
}


def test_the_table_covers_every_state() -> None:
    assert set(WAITS_ON) == {status.value for status in RequestStatus}


@pytest.mark.parametrize(("status", "due"), WAITS_ON.items())
def test_pending_deadline_and_overdue_per_state(status: str, due: datetime | None) -> None:
    state = RequestStatus(status)
    assert pending(state, DEADLINES) == due
    far_future = utc(2030, 1, 1)
    if due is None:
        assert not is_overdue(state, DEADLINES, far_future)
        return
    assert not is_overdue(state, DEADLINES, due - timedelta(seconds=1))
    assert is_overdue(state, DEADLINES, due + timedelta(seconds=1))


@pytest.mark.parametrize("status", list(RequestStatus))
def test_without_deadlines_nothing_is_pending_or_overdue(status: RequestStatus) -> None:
    assert pending(status, None) is None
    assert not is_overdue(status, None, utc(2030, 1, 1))


def test_a_submitted_preservation_is_overdue_after_24_hours() -> None:
    submitted = utc(2026, 6, 1, 12, 0)
    deadlines = at_submission(RequestKind.EVIDENCE_PRESERVATION, ROUTINE, submitted, UTC_ZONE)
    assert not is_overdue(RequestStatus.SUBMITTED, deadlines, submitted + timedelta(hours=23))
    assert is_overdue(RequestStatus.SUBMITTED, deadlines, submitted + timedelta(hours=25))
