"""Legal deadlines of cooperation requests, computed in the requested agency's time zone.

Day periods are calendar days on the requested agency's wall clock (so a deadline keeps its
local time across a daylight-saving change); hour periods are elapsed hours.

- MUTUAL_LEGAL_ASSISTANCE: acknowledge 7 days (EIO art. 16), decide 30 days (EIO art. 12),
  execute 90 days after acceptance (EIO art. 12(4)).
- DATA_DISCLOSURE: acknowledge 7 days, decide and execute 10 days (EU e-evidence order).
- EVIDENCE_PRESERVATION: acknowledge, decide and execute in 24 hours; data held at least
  60 days from submission (Budapest Convention art. 29).
- EMERGENCY priority, any kind: every step in 8 hours (e-evidence emergency orders).
- Every other kind: as mutual legal assistance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from casehub.domain.requests.transitions import Priority, RequestKind, RequestStatus


@dataclass(frozen=True, slots=True)
class Period:
    """A span of calendar days on the local clock, or of elapsed hours."""

    days: int = 0
    hours: int = 0

    def after(self, start: datetime, zone: ZoneInfo) -> datetime:
        """The moment this period after `start` ends, in UTC."""
        if self.days:
            local = start.astimezone(zone)
            # Wall-clock arithmetic: same local time n days later, whatever the UTC offset.
            wall = (local.replace(tzinfo=None) + timedelta(days=self.days)).replace(tzinfo=zone)
            return wall.astimezone(UTC)
        return (start + timedelta(hours=self.hours)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Rule:
    """The periods of one kind of request."""

    acknowledge: Period
    decide: Period
    execute: Period
    execute_from_acceptance: bool
    hold: Period | None = None


_DEFAULT = Rule(Period(days=7), Period(days=30), Period(days=90), execute_from_acceptance=True)
_RULES: dict[RequestKind, Rule] = {
    RequestKind.MUTUAL_LEGAL_ASSISTANCE: _DEFAULT,
    RequestKind.DATA_DISCLOSURE: Rule(
        Period(days=7), Period(days=10), Period(days=10), execute_from_acceptance=False
    ),
    RequestKind.EVIDENCE_PRESERVATION: Rule(
        Period(hours=24),
        Period(hours=24),
        Period(hours=24),
        execute_from_acceptance=False,
        hold=Period(days=60),
    ),
}
_EMERGENCY = Period(hours=8)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When each step is due (UTC); hold_until is how long preserved data must be kept."""

    acknowledge_by: datetime
    decide_by: datetime
    due_at: datetime
    hold_until: datetime | None


def rule_for(kind: RequestKind, priority: Priority) -> Rule:
    """The periods that apply; EMERGENCY priority shortens every step to 8 hours."""
    rule = _RULES.get(kind, _DEFAULT)
    if priority is Priority.EMERGENCY:
        return Rule(_EMERGENCY, _EMERGENCY, _EMERGENCY, False, rule.hold)
    return rule


def at_submission(
    kind: RequestKind, priority: Priority, submitted_at: datetime, zone: ZoneInfo
) -> Deadlines:
    """Deadlines fixed when the request is submitted (execution counted from the decision
    deadline until the request is accepted)."""
    rule = rule_for(kind, priority)
    decide_by = rule.decide.after(submitted_at, zone)
    start = decide_by if rule.execute_from_acceptance else submitted_at
    return Deadlines(
        acknowledge_by=rule.acknowledge.after(submitted_at, zone),
        decide_by=decide_by,
        due_at=rule.execute.after(start, zone),
        hold_until=rule.hold.after(submitted_at, zone) if rule.hold else None,
    )


def at_acceptance(
    current: Deadlines, kind: RequestKind, priority: Priority, accepted_at: datetime, zone: ZoneInfo
) -> Deadlines:
    """On acceptance, execution periods that run from the decision restart from it."""
    rule = rule_for(kind, priority)
    if not rule.execute_from_acceptance:
        return current
    return Deadlines(
        acknowledge_by=current.acknowledge_by,
        decide_by=current.decide_by,
        due_at=rule.execute.after(accepted_at, zone),
        hold_until=current.hold_until,
    )


def pending_deadline(status: RequestStatus, deadlines: Deadlines | None) -> datetime | None:
    """The deadline the request is waiting on in its state (None once nothing is due)."""
    if deadlines is None:
        return None
    if status is RequestStatus.SUBMITTED:
        return min(deadlines.acknowledge_by, deadlines.decide_by)
    if status is RequestStatus.ACKNOWLEDGED:
        return deadlines.decide_by
    if status is RequestStatus.ACCEPTED:
        return deadlines.due_at
    return None


def is_overdue(status: RequestStatus, deadlines: Deadlines | None, now: datetime) -> bool:
    """Whether the step the request waits on is past its deadline."""
    due = pending_deadline(status, deadlines)
    return due is not None and now > due
