"""Crypto-shredding of cases (legal erasure) and the legal hold that refuses it.

Shredding deletes every agency's wrap of the case's data key: the encrypted columns stay in the
database but no key that can be derived from the keyring opens them any more. The case's clear
metadata remains, marked with `shredded_at`. Cooperation requests linked to the case have their
own data keys and are left as they are.
"""

from __future__ import annotations

import base64
from uuid import UUID

from casehub.domain import validation as check
from casehub.domain.cases.policy import Action
from casehub.domain.errors import LegalHold, NotFound, ValidationFailed
from casehub.persistence.tables import CaseRow
from casehub.services.audit import trail as audit
from casehub.services.cases.access import authorize, sight
from casehub.services.cases.cases import case_view, readable_keys
from casehub.services.keys import data_keys as keys
from casehub.services.protected import LEGAL_HOLD_REASON
from casehub.services.runtime import Scope
from casehub.services.views import CaseView

REASON_MAX = 500


async def _locked_case(scope: Scope, case_id: UUID, action: Action) -> CaseRow:
    await scope.store.lock_case(case_id, sight(scope))
    await authorize(scope, case_id, action, "id")
    row = await scope.store.case_for_update(case_id)
    if row is None:  # authorize found it under the same lock
        raise NotFound("No such case.", ["id"])
    if row.shredded_at is not None:
        raise ValidationFailed("The case is already shredded.", ["id"])
    return row


async def _seal_reason(scope: Scope, row: CaseRow, reason: str) -> str:
    """The reason sealed under the case's data key, base64: free text that may name people,
    kept like the case's other protected text rather than in clear in the audit log. It is
    bound to the case and its owner, and shredding the case erases it with the rest."""
    key = (await keys.agency_keys(scope, [row.id], row.owner_agency_id))[row.id]
    if key is None:  # the owner always holds a wrap until the case is shredded
        raise NotFound("No such case.", ["id"])
    blob = LEGAL_HOLD_REASON.seal(key, row.id, row.owner_agency_id, reason)
    return base64.b64encode(blob).decode("ascii")


async def set_legal_hold(scope: Scope, *, case_id: UUID, hold: bool, reason: str) -> CaseView:
    """Place (or release) a legal hold on a case the caller's agency owns (AGENCY_ADMIN)."""
    async with audit.mutation(scope, "case.legal_hold") as entry:
        row = await _locked_case(scope, case_id, Action.SET_LEGAL_HOLD)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "Case",
            case_id,
            row.owner_agency_id,
        )
        check.text(reason, field=["reason"], max_length=REASON_MAX, multiline=True)
        sealed_reason = await _seal_reason(scope, row, reason)
        row.legal_hold = hold
        row.version += 1
        row.updated_at = scope.now
        await scope.store.flush()
        entry.details = {"hold": hold, "reasonSealed": sealed_reason}
    grant = scope.grants[case_id]
    assert grant is not None
    return case_view(row, grant, (await readable_keys(scope, {case_id: grant}))[case_id])


async def shred_case(scope: Scope, *, case_id: UUID) -> CaseView:
    """Destroy every wrap of the case's data key, end its shares and mark it shredded.

    Refused with LEGAL_HOLD while the case is held, and with VALIDATION once it is shredded.
    """
    async with audit.mutation(scope, "case.shred") as entry:
        row = await _locked_case(scope, case_id, Action.SHRED_CASE)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "Case",
            case_id,
            row.owner_agency_id,
        )
        if row.legal_hold:
            raise LegalHold(
                "The case is under a legal hold; release the hold before shredding it.", ["id"]
            )
        now = scope.now
        wraps = await scope.store.delete_all_wraps(case_id)
        # The digests are keyed, not encrypted under the case's key: destroy them too.
        indexed = await scope.store.delete_case_index(case_id)
        revoked = 0
        for share in await scope.store.shares_by_case([case_id]):
            if share.revoked_at is None and (share.expires_at is None or share.expires_at > now):
                share.revoked_at = now
                revoked += 1
        row.shredded_at = now
        row.version += 1
        row.updated_at = now
        await scope.store.flush()
        # Nothing in this request may keep using the key it may have unwrapped before.
        scope.keys[case_id] = None
        entry.details = {
            "wrapsDestroyed": wraps,
            "sharesRevoked": revoked,
            "indexEntriesDestroyed": indexed,
        }
    grant = scope.grants[case_id]
    assert grant is not None
    return case_view(row, grant, None)
