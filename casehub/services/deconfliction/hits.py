"""Hit/no-hit deconfliction: which other agencies hold an identifier, and telling them who asked.

A check answers with agencies and case counts only: never a case id, title or value. Matching
goes through keyed match tokens (casehub.crypto.blind_index), never clear text.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from datetime import timedelta
from uuid import UUID

from casehub.crypto import match_token
from casehub.domain import paging
from casehub.domain.deconfliction.allowance import wait_for
from casehub.domain.deconfliction.matching import HIT_CHECK_MAX, match_material, matchable
from casehub.domain.enums import IdentifierKind, Tlp
from casehub.domain.errors import RateLimited, ValidationFailed
from casehub.domain.identifiers import IdentifierInput, checked_identifier
from casehub.domain.ids import new_id
from casehub.domain.paging import KeyRange
from casehub.domain.roles import Operation
from casehub.persistence.tables import HitCheckRow, HitNoticeRow
from casehub.services import caps
from casehub.services import feeds as inbox
from casehub.services.audit import trail as audit
from casehub.services.bus import EventBus
from casehub.services.cases.identifier_index import jurisdictions
from casehub.services.feeds import Position
from casehub.services.paging import Listed, read_page
from casehub.services.runtime import Principal, Runtime, Scope, detached
from casehub.services.views import AgencyHitView, HitNoticeView, HitResultView

WINDOW = timedelta(minutes=1)


async def _allow(scope: Scope, agency_id: UUID, wanted: int) -> None:
    """Take `wanted` identifiers from the agency's allowance, or refuse with RATE_LIMITED."""
    # Serialise the agency's checks, across processes, from reading its allowance to writing.
    await scope.store.lock_agency(agency_id)
    limit = scope.runtime.settings.hit_check_per_minute
    used = await scope.store.hit_checks_since(agency_id, scope.now - WINDOW)
    wait = wait_for(used, wanted=wanted, limit=limit, now=scope.now, window=WINDOW)
    if wait is not None:
        raise RateLimited(
            f"Your agency may check {limit} identifiers a minute; retry in {wait:.0f} s"
            + (" with fewer identifiers." if wanted > limit else "."),
            retry_after=wait,
        )


async def hit_check(
    request: Scope, *, identifiers: Sequence[IdentifierInput]
) -> list[HitResultView]:
    """For each identifier, the other agencies holding a matchable subject with it, and how
    many of their cases; each holder receives a hit notice naming the caller's agency."""
    async with detached(request) as scope:
        return await _hit_check(scope, identifiers)


async def _hit_check(scope: Scope, identifiers: Sequence[IdentifierInput]) -> list[HitResultView]:
    async with audit.mutation(scope, "hit.check") as entry:
        principal = scope.require(Operation.HIT_CHECK)
        agency = principal.agency_id
        if not identifiers:
            raise ValidationFailed("Give at least one identifier.", ["identifiers"])
        if len(identifiers) > HIT_CHECK_MAX:
            raise ValidationFailed(f"At most {HIT_CHECK_MAX} identifiers a check.", ["identifiers"])
        entry.details = {"identifiers": len(identifiers)}
        region = (await jurisdictions(scope, [agency])).get(agency)
        checked = []
        for index, item in enumerate(identifiers):
            field = ["identifiers", str(index)]
            item = checked_identifier(item, field=field, default_region=region)
            material = match_material(item, default_region=region, field=field)
            checked.append((item.kind, match_token(scope.runtime.keys, material)))
        await _allow(scope, agency, len(checked))
        holders: dict[bytes, dict[UUID, set[UUID]]] = {}
        for token, owner, case_id, tlp, mark in await scope.store.token_holders(
            {token for _kind, token in checked}, other_than=agency
        ):
            if matchable(Tlp(tlp), mark):
                holders.setdefault(token, {}).setdefault(owner, set()).add(case_id)
        check_id = new_id()
        scope.store.add(
            HitCheckRow(
                id=check_id,
                agency_id=agency,
                principal_id=principal.id,
                identifiers=len(checked),
                created_at=scope.now,
            )
        )
        notices = _notices(scope, check_id, agency, checked, holders)
        await scope.store.flush()
        scope.store.add(*notices)
        await scope.store.flush()
        entry.details = {
            "identifiers": len(checked),
            "kinds": sorted({kind.value for kind, _token in checked}),
            "identifiersWithHits": sum(1 for _kind, token in checked if token in holders),
            "agenciesNotified": len({notice.agency_id for notice in notices}),
        }
    if notices:
        await scope.runtime.notices.published(max(notice.seq or 0 for notice in notices))
    return [
        HitResultView(
            kind=kind,
            hits=[
                AgencyHitView(agency_id=owner, case_count=len(cases))
                # Every holder is notified; the answer names the first ones (by id).
                for owner, cases in sorted(holders.get(token, {}).items())[: caps.HIT_AGENCIES]
            ],
        )
        for kind, token in checked
    ]


def _notices(
    scope: Scope,
    check_id: UUID,
    asking: UUID,
    checked: Sequence[tuple[IdentifierKind, bytes]],
    holders: dict[bytes, dict[UUID, set[UUID]]],
) -> list[HitNoticeRow]:
    """One notice per holding agency and distinct identifier of the check."""
    notices, seen = [], set()
    for kind, token in checked:
        if token in seen:
            continue
        seen.add(token)
        for owner, cases in sorted(holders.get(token, {}).items()):
            notices.append(
                HitNoticeRow(
                    id=new_id(),
                    hit_check_id=check_id,
                    agency_id=owner,
                    asking_agency_id=asking,
                    identifier_kind=kind.value,
                    case_ids=json.dumps(
                        sorted(str(case_id) for case_id in cases)[: caps.HIT_NOTICE_CASES]
                    ),
                    created_at=scope.now,
                )
            )
    return notices


def notice_view(row: HitNoticeRow) -> HitNoticeView:
    """Render a hit notice for the agency it was sent to."""
    assert row.seq is not None
    return HitNoticeView(
        id=row.id,
        seq=row.seq,
        asking_agency_id=row.asking_agency_id,
        identifier_kind=IdentifierKind(row.identifier_kind),
        case_ids=[UUID(case_id) for case_id in json.loads(row.case_ids)[: caps.HIT_NOTICE_CASES]],
        created_at=row.created_at,
    )


async def hit_notices(
    scope: Scope,
    *,
    first: int | None,
    after: UUID | None,
    last: int | None = None,
    before: UUID | None = None,
) -> Listed[HitNoticeView]:
    """The hit notices sent to the caller's agency, newest first (any agency role)."""
    principal = scope.require(Operation.READ_NOTICES)
    given = paging.window(first=first, after=after, last=last, before=before)

    async def read(keys: KeyRange[UUID]) -> list[HitNoticeRow]:
        return await scope.store.hit_notices_page(principal.agency_id, keys)

    async def render(rows: list[HitNoticeRow]) -> list[HitNoticeView]:
        return [notice_view(row) for row in rows]

    return await read_page(given, read, render, descending=True)


async def count_hit_notices(scope: Scope) -> int:
    """How many hit notices the caller's agency received."""
    principal = scope.require(Operation.READ_NOTICES)
    return await scope.store.count_hit_notices(principal.agency_id)


class HitNoticeFeed:
    """The live feed of an agency's hit notices."""

    operation = Operation.READ_NOTICES
    table = HitNoticeRow

    def bus(self, runtime: Runtime) -> EventBus:
        """Hit notices are announced on their own bus."""
        return runtime.notices

    async def read(
        self, scope: Scope, *, after: Position, before: Position, limit: int
    ) -> list[tuple[Position, HitNoticeView]]:
        """The caller's agency's notices between two feed positions."""
        rows = await scope.store.hit_notices_between(scope.caller().agency_id, after, before, limit)
        return [(position, notice_view(row)) for position, row in rows]


def follow_notices(
    runtime: Runtime, principal: Principal, *, since: int | None
) -> AsyncGenerator[tuple[Scope, list[HitNoticeView]], None]:
    """The caller's agency's hit notices after `since` (None: from now on), live."""
    return inbox.follow_feed(runtime, principal, HitNoticeFeed(), since=since)
