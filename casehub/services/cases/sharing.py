"""Use-cases on sharing a case with another agency, and revoking it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from casehub.domain import validation as check
from casehub.domain.bounds import check_room
from casehub.domain.cases.policy import Action, Decision, ShareGrant, decide
from casehub.domain.cases.sharing import check_share
from casehub.domain.enums import ShareScope, Tlp
from casehub.domain.errors import NotFound, ValidationFailed
from casehub.domain.ids import new_id
from casehub.persistence.tables import CaseShareRow
from casehub.services import caps
from casehub.services.agencies.agencies import refuse_remote
from casehub.services.audit import trail as audit
from casehub.services.cases.access import authorize, seen, sight, visible_cases
from casehub.services.cases.cases import refuse_if_shredded
from casehub.services.keys import data_keys as keys
from casehub.services.runtime import Scope
from casehub.services.views import ShareView

NO_SHARE = "No such share."


def share_view(row: CaseShareRow, now: datetime) -> ShareView:
    """Render a share row."""
    grant = ShareGrant(row.agency_id, ShareScope(row.scope), row.expires_at, row.revoked_at)
    return ShareView(
        id=row.id,
        case_id=row.case_id,
        agency_id=row.agency_id,
        scope=ShareScope(row.scope),
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
        active=grant.is_active(now),
    )


async def share_case(
    scope: Scope,
    *,
    case_id: UUID,
    agency_id: UUID,
    share_scope: ShareScope,
    expires_at: datetime | None = None,
) -> ShareView:
    """Grant an agency METADATA or FULL access; a new share replaces its active one."""
    async with audit.mutation(scope, "case.share") as entry:
        # Sharing and marking one case serialise, so a TLP check never reads a stale state.
        await scope.store.lock_case(case_id, sight(scope))
        case, _grant = await authorize(scope, case_id, Action.SHARE_CASE)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "Case",
            case_id,
            case.owner_agency_id,
        )
        target = await scope.store.agencies_by_ids([agency_id])
        if not target:
            raise NotFound("No such agency.", ["agencyId"])
        refuse_remote(target[0], ["agencyId"])
        check_share(
            tlp=Tlp(case.tlp), owner_agency_id=case.owner_agency_id, target_agency_id=agency_id
        )
        # Counted under the case's lock: concurrent grants cannot both take the last place.
        check_room(
            await scope.store.count_shares(case_id),
            maximum=caps.shares_per_case(scope.runtime.settings),
            holder="A case",
            items="shares (revoked ones included)",
            field=["caseId"],
        )
        now = scope.now
        expires_at = check.utc(expires_at, field=["expiresAt"])
        if expires_at is not None and expires_at <= now:
            raise ValidationFailed("Must be in the future.", ["expiresAt"])
        for previous in await scope.store.shares_for_agency([case_id], agency_id):
            if previous.revoked_at is None:
                previous.revoked_at = now
        if share_scope is ShareScope.FULL:
            refuse_if_shredded(case, "scope")
            await keys.grant_key(scope, case_id, agency_id)
        else:
            await keys.withdraw_key(scope, case_id, agency_id)
        row = CaseShareRow(
            id=new_id(),
            case_id=case_id,
            agency_id=agency_id,
            scope=share_scope.value,
            expires_at=expires_at,
            revoked_at=None,
            created_by=scope.caller().id,
            created_at=now,
        )
        scope.store.add(row)
        await scope.store.flush()
        entry.details = {
            "shareId": str(row.id),
            "agencyId": str(agency_id),
            "scope": share_scope.value,
        }
    return share_view(row, now)


async def revoke_share(scope: Scope, *, share_id: UUID) -> ShareView:
    """End a share now and withdraw the agency's data-key wrap."""
    async with audit.mutation(scope, "case.revoke_share") as entry:
        # A share only its case's owner sees (not even its recipient) is never loaded, nor its
        # case locked, for anyone else: missing, as a random id, with one message whatever the
        # reason (FORBIDDEN would tell a partner that the share exists).
        found = await seen(scope, CaseShareRow, [share_id])
        if not found:
            raise NotFound(NO_SHARE, ["shareId"])
        await scope.store.lock_case(found[0].case_id, sight(scope))
        row = next(iter(await seen(scope, CaseShareRow, [share_id])), None)
        if row is None:
            raise NotFound(NO_SHARE, ["shareId"])
        case, _grant = await authorize(scope, row.case_id, Action.REVOKE_SHARE, "shareId", NO_SHARE)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "Case",
            case.id,
            case.owner_agency_id,
        )
        if row.revoked_at is not None:
            raise ValidationFailed("This share is already revoked.", ["shareId"])
        now = scope.now
        row.revoked_at = now
        await keys.withdraw_key(scope, row.case_id, row.agency_id)
        await scope.store.flush()
        entry.details = {"shareId": str(share_id), "agencyId": str(row.agency_id)}
    return share_view(row, now)


def _may_list(scope: Scope, case_id: UUID) -> bool:
    grant = scope.grants.get(case_id)
    return (
        decide(Action.LIST_SHARES, grant.access if grant else None, scope.caller().roles)
        is Decision.ALLOW
    )


async def shares_of_cases(scope: Scope, case_ids: Sequence[UUID]) -> dict[UUID, list[ShareView]]:
    """Shares of cases the caller has been shown, for owners only; empty for everyone else."""
    grouped: dict[UUID, list[ShareView]] = {case_id: [] for case_id in case_ids}
    listable = [case_id for case_id in set(case_ids) if _may_list(scope, case_id)]
    now = scope.now
    per_case = caps.shares_per_case(scope.runtime.settings)
    for row in await scope.store.shares_by_case(listable, per_case):
        grouped[row.case_id].append(share_view(row, now))
    return grouped


async def shares_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, ShareView]:
    """The shares among these ids whose case the caller owns."""
    rows = await seen(scope, CaseShareRow, ids)
    await visible_cases(scope, {row.case_id for row in rows})
    now = scope.now
    return {row.id: share_view(row, now) for row in rows if _may_list(scope, row.case_id)}
