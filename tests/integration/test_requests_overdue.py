"""`casehub requests overdue`: the real console script lists the requests past the deadline of
the step they wait on (requests made in-process on a clock set back), and nothing else."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from casehub.api.ids import to_global_id
from casehub.domain.enums import AgencyKind
from casehub.domain.requests.content import Particulars
from casehub.domain.requests.transitions import RequestAction, RequestKind
from tests.integration.request_world import (
    RequestHome,
    actors,
    disclosure_particulars,
    register_pair,
)

DAY = timedelta(days=1)
PRESERVATION = Particulars(
    offence="fraud",
    data_to_preserve="subscriber data and login IPs",
    custodian_or_location="Relaygram, Dubai",
    follow_up_mla=True,
)


@dataclass
class Late:
    """The home and the ids of the requests that are (and are not) overdue."""

    home: RequestHome
    overdue: dict[str, UUID]
    on_time: list[UUID]


@pytest.fixture(scope="module")
async def late(tmp_path_factory: pytest.TempPathFactory) -> Late:
    home = RequestHome(tmp_path_factory.mktemp("overdue"))
    await asyncio.to_thread(home.create)  # migrations run their own event loop
    mla, ack, exe = RequestKind.MUTUAL_LEGAL_ASSISTANCE, "ACKNOWLEDGE", "EXECUTE"
    async with actors(home) as world:
        await register_pair(world)
        await world.register("FR-PARQUET-J3", "FR", AgencyKind.PROSECUTOR, "Europe/Paris")
        overdue: dict[str, UUID] = {}
        on_time: list[UUID] = []

        # Submitted 35 days ago, never acknowledged: 7 days to acknowledge, 28 days late.
        overdue[ack] = await world.create("MY-PDRM", "FR-PARQUET-J3", mla, 36 * DAY)
        await world.step("MY-PDRM", overdue[ack], RequestAction.SUBMIT, 35 * DAY)

        # Preservation submitted 5 days ago and accepted: 24 hours to execute, 4 days late.
        overdue[exe] = await world.create(
            "MY-PDRM",
            "AE-RELAYGRAM",
            RequestKind.EVIDENCE_PRESERVATION,
            5 * DAY,
            particulars=PRESERVATION,
        )
        await world.step("MY-PDRM", overdue[exe], RequestAction.SUBMIT, 5 * DAY)
        await world.step("AE-RELAYGRAM", overdue[exe], RequestAction.ACCEPT, 5 * DAY - DAY / 4)

        # Disclosure submitted 12 days ago, acknowledged: 10 days to decide, 2 days late.
        overdue["DECIDE"] = await world.create(
            "FR-PARQUET-J3",
            "AE-RELAYGRAM",
            RequestKind.DATA_DISCLOSURE,
            12 * DAY,
            particulars=disclosure_particulars(),
        )
        await world.step("FR-PARQUET-J3", overdue["DECIDE"], RequestAction.SUBMIT, 12 * DAY)
        await world.step("AE-RELAYGRAM", overdue["DECIDE"], RequestAction.ACKNOWLEDGE, 11 * DAY)

        # On time: just submitted; an old draft; old but declined; old but withdrawn.
        fresh = await world.create("MY-PDRM", "FR-PARQUET-J3", mla)
        await world.step("MY-PDRM", fresh, RequestAction.SUBMIT)
        draft = await world.create("MY-PDRM", "FR-PARQUET-J3", mla, 40 * DAY)
        declined = await world.create("MY-PDRM", "FR-PARQUET-J3", mla, 40 * DAY)
        await world.step("MY-PDRM", declined, RequestAction.SUBMIT, 40 * DAY)
        await world.step(
            "FR-PARQUET-J3", declined, RequestAction.DECLINE, 39 * DAY, text="Not a crime in FR."
        )
        withdrawn = await world.create("MY-PDRM", "FR-PARQUET-J3", mla, 40 * DAY)
        await world.step("MY-PDRM", withdrawn, RequestAction.SUBMIT, 40 * DAY)
        await world.step("MY-PDRM", withdrawn, RequestAction.WITHDRAW, 2 * DAY, text="Solved.")
        on_time += [fresh, draft, declined, withdrawn]
    return Late(home, overdue, on_time)


def gid(request_id: UUID) -> str:
    return to_global_id("CooperationRequest", request_id)


def test_overdue_json_lists_each_late_request_longest_first(late: Late) -> None:
    result = late.home.run("requests", "overdue", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == [
        gid(late.overdue[step]) for step in ("ACKNOWLEDGE", "EXECUTE", "DECIDE")
    ]
    assert not {gid(request_id) for request_id in late.on_time} & {row["id"] for row in rows}

    by_step = {row["step"]: row for row in rows}
    assert {key: by_step["ACKNOWLEDGE"][key] for key in ("kind", "priority", "status")} == {
        "kind": "MUTUAL_LEGAL_ASSISTANCE",
        "priority": "ROUTINE",
        "status": "SUBMITTED",
    }
    assert (by_step["ACKNOWLEDGE"]["requester"], by_step["ACKNOWLEDGE"]["requested"]) == (
        "MY-PDRM",
        "FR-PARQUET-J3",
    )
    assert (by_step["EXECUTE"]["status"], by_step["EXECUTE"]["kind"]) == (
        "ACCEPTED",
        "EVIDENCE_PRESERVATION",
    )
    assert (by_step["DECIDE"]["status"], by_step["DECIDE"]["requester"]) == (
        "ACKNOWLEDGED",
        "FR-PARQUET-J3",
    )

    now = datetime.now(UTC)
    expected_days = {"ACKNOWLEDGE": 28, "EXECUTE": 4, "DECIDE": 2}
    for step, row in by_step.items():
        deadline = datetime.fromisoformat(row["deadline"].replace("Z", "+00:00"))
        late_by = timedelta(seconds=row["overdueSeconds"])
        assert abs((now - deadline) - late_by) < timedelta(minutes=2), row
        # Day periods run on the requested agency's wall clock: a DST change moves them by 1h.
        assert abs(late_by - expected_days[step] * DAY) < timedelta(hours=1, minutes=5), row
        assert row["overdueBy"].startswith(f"{(late_by // DAY)}d "), row


def test_overdue_table_for_people(late: Late) -> None:
    result = late.home.run("requests", "overdue")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    for title in ("REQUEST", "KIND", "PRIORITY", "STATUS", "REQUESTER", "REQUESTED", "DEADLINE"):
        assert title in header
    assert "OVERDUE BY" in header
    assert len(lines) == 3, result.stdout
    first = lines[0].split()
    assert first[:7] == [
        gid(late.overdue["ACKNOWLEDGE"]),
        "MUTUAL_LEGAL_ASSISTANCE",
        "ROUTINE",
        "SUBMITTED",
        "MY-PDRM",
        "FR-PARQUET-J3",
        "ACKNOWLEDGE",
    ]
    assert first[-2].startswith("28d") or first[-2].startswith("27d"), lines[0]
    assert "3 overdue requests" in result.stderr


def test_no_overdue_requests(tmp_path: Path) -> None:
    home = RequestHome(tmp_path)
    home.create()
    text, as_json = home.run("requests", "overdue"), home.run("requests", "overdue", "--json")
    assert text.returncode == 0, text.stderr
    assert text.stdout == "no overdue cooperation requests\n"
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == []
