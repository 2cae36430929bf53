"""The floor's hitCheck: match tokens, the agency's allowance, the holders, the check and its
notices, as casehub.services.deconfliction.hits does them, in one query per table."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.floor.audit import Entry
from benchmarks.floor.auth import Caller
from benchmarks.floor.env import Env
from benchmarks.floor.reads import agencies
from benchmarks.tables import AGENCY, CASE, HIT_CHECK, HIT_NOTICE, IDENTIFIER_INDEX, SUBJECT
from casehub.crypto import match_token
from casehub.domain.deconfliction.allowance import wait_for
from casehub.domain.deconfliction.matching import HIT_CHECK_MAX, match_material, matchable
from casehub.domain.enums import IdentifierKind, Role, Tlp
from casehub.domain.errors import Forbidden, RateLimited, ValidationFailed
from casehub.domain.identifiers import IdentifierInput, checked_identifier
from casehub.domain.ids import new_id
from casehub.persistence import HIT_NOTICES
from casehub.persistence.horizon import stamp

WINDOW = timedelta(minutes=1)
CHECK_ROLES = frozenset({Role.LIAISON_OFFICER, Role.INVESTIGATOR})


def _tokens(env: Env, caller: Caller, given: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    """(kind, match token) of each identifier, checked as casehub checks them."""
    if not given:
        raise ValidationFailed("Give at least one identifier.", ["identifiers"])
    if len(given) > HIT_CHECK_MAX:
        raise ValidationFailed(f"At most {HIT_CHECK_MAX} identifiers a check.", ["identifiers"])
    checked = []
    for index, raw in enumerate(given):
        field = ["identifiers", str(index)]
        item = IdentifierInput(
            IdentifierKind(raw["kind"]), raw["value"], raw.get("platform"), raw.get("chain")
        )
        item = checked_identifier(item, field=field, default_region=caller.jurisdiction)
        material = match_material(item, default_region=caller.jurisdiction, field=field)
        checked.append((item.kind.value, match_token(env.keys, material)))
    return checked


async def _allow(
    connection: AsyncConnection, env: Env, caller: Caller, wanted: int, now: datetime
) -> None:
    """Take `wanted` identifiers from the agency's allowance, or refuse with RATE_LIMITED."""
    if connection.dialect.name == "postgresql":  # SQLite's write lock is held already
        lock = select(AGENCY.c.id).where(AGENCY.c.id == caller.agency_id).with_for_update()
        await connection.execute(lock)
    used = select(HIT_CHECK.c.created_at, HIT_CHECK.c.identifiers).where(
        HIT_CHECK.c.agency_id == caller.agency_id, HIT_CHECK.c.created_at > now - WINDOW
    )
    limit = env.hit_check_per_minute
    recent = [(at, count) for at, count in await connection.execute(used)]
    wait = wait_for(recent, wanted=wanted, limit=limit, now=now, window=WINDOW)
    if wait is not None:
        raise RateLimited(f"Your agency may check {limit} identifiers a minute.", retry_after=wait)


async def _holders(
    connection: AsyncConnection, caller: Caller, tokens: set[bytes]
) -> dict[bytes, dict[UUID, set[UUID]]]:
    """Match token -> other agency -> its cases holding a matchable subject with it."""
    statement = (
        select(
            IDENTIFIER_INDEX.c.match_token,
            IDENTIFIER_INDEX.c.agency_id,
            IDENTIFIER_INDEX.c.case_id,
            CASE.c.tlp,
            SUBJECT.c.matchable,
        )
        .join(CASE, CASE.c.id == IDENTIFIER_INDEX.c.case_id)
        .join(SUBJECT, SUBJECT.c.id == IDENTIFIER_INDEX.c.subject_id)
        .where(
            IDENTIFIER_INDEX.c.match_token.in_(tokens),
            IDENTIFIER_INDEX.c.agency_id != caller.agency_id,
            CASE.c.shredded_at.is_(None),
        )
    )
    holders: dict[bytes, dict[UUID, set[UUID]]] = defaultdict(lambda: defaultdict(set))
    for token, owner, case_id, tlp, mark in await connection.execute(statement):
        if matchable(Tlp(tlp), mark):
            holders[token][owner].add(case_id)
    return holders


async def _notify(
    connection: AsyncConnection, check_id: UUID, notices: list[dict[str, Any]]
) -> None:
    """Insert the notices, stamped with the transaction for the feed's order; on PostgreSQL,
    announced as casehub does."""
    dialect = connection.dialect.name
    await connection.execute(HIT_NOTICE.insert().values(position_xid=stamp(dialect)), notices)
    if dialect != "postgresql":
        return
    newest = await connection.scalar(
        select(func.max(HIT_NOTICE.c.seq)).where(HIT_NOTICE.c.hit_check_id == check_id)
    )
    await connection.execute(
        text("SELECT pg_notify(:channel, :seq)"),
        {"channel": HIT_NOTICES.channel, "seq": str(newest)},
    )


async def hit_check(
    connection: AsyncConnection, env: Env, caller: Caller, data: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], Entry]:
    """hitCheck: for each identifier, the other agencies holding it and in how many cases;
    each holder gets a notice naming the caller's agency."""
    if not caller.roles & CHECK_ROLES:
        raise Forbidden("This action needs the LIAISON_OFFICER or INVESTIGATOR role.")
    checked = _tokens(env, caller, data["identifiers"])
    await _allow(connection, env, caller, len(checked), now)
    holders = await _holders(connection, caller, {token for _kind, token in checked})
    check_id = new_id()
    await connection.execute(
        HIT_CHECK.insert(),
        {
            "id": check_id,
            "agency_id": caller.agency_id,
            "principal_id": caller.principal_id,
            "identifiers": len(checked),
            "created_at": now,
        },
    )
    notices, seen = [], set()
    for kind, token in checked:
        if token in seen:
            continue
        seen.add(token)
        for owner, cases in sorted(holders.get(token, {}).items()):
            notices.append(
                {
                    "id": new_id(),
                    "hit_check_id": check_id,
                    "agency_id": owner,
                    "asking_agency_id": caller.agency_id,
                    "identifier_kind": kind,
                    "case_ids": json.dumps(sorted(str(case) for case in cases)),
                    "created_at": now,
                }
            )
    if notices:
        await _notify(connection, check_id, notices)
    names = await agencies(connection, {owner for found in holders.values() for owner in found})
    results = [
        {
            "kind": kind,
            "hits": [
                {"agency": names[owner], "caseCount": len(cases)}
                for owner, cases in sorted(holders.get(token, {}).items())
            ],
        }
        for kind, token in checked
    ]
    details = {
        "identifiers": len(checked),
        "kinds": sorted({kind for kind, _token in checked}),
        "identifiersWithHits": sum(1 for _kind, token in checked if token in holders),
        "agenciesNotified": len({notice["agency_id"] for notice in notices}),
    }
    return {"hitCheck": {"results": results, "errors": []}}, Entry("hit.check", details=details)
