"""Data keys of cases: made with the case, wrapped per agency that may decrypt it."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from casehub.crypto import DataKey, new_data_key, unwrap_data_key, wrap_data_key
from casehub.domain.ids import new_id
from casehub.persistence.tables import DataKeyWrapRow
from casehub.services.runtime import Scope


def _wrap_row(scope: Scope, key: DataKey, agency_id: UUID) -> DataKeyWrapRow:
    version, blob = wrap_data_key(scope.runtime.keys, key, agency_id)
    return DataKeyWrapRow(
        id=new_id(),
        scope_id=key.scope_id,
        generation=key.generation,
        agency_id=agency_id,
        kek_version=version,
        wrapped=blob,
        created_at=scope.now,
    )


def create_key(scope: Scope, scope_id: UUID, owner_agency_id: UUID) -> DataKey:
    """A new data key for a case, wrapped for its owner (inside the caller's transaction)."""
    key = new_data_key(scope_id)
    scope.store.add(_wrap_row(scope, key, owner_agency_id))
    scope.keys[scope_id] = key
    return key


async def viewer_keys(scope: Scope, scope_ids: Iterable[UUID]) -> dict[UUID, DataKey | None]:
    """The caller's agency's unwrapped keys for these scopes (None where it holds no wrap)."""
    wanted = [scope_id for scope_id in set(scope_ids) if scope_id not in scope.keys]
    if wanted:
        scope.keys.update(await agency_keys(scope, wanted, scope.caller().agency_id))
    return {scope_id: scope.keys[scope_id] for scope_id in scope_ids}


async def agency_keys(
    scope: Scope, scope_ids: Iterable[UUID], agency_id: UUID
) -> dict[UUID, DataKey | None]:
    """One agency's unwrapped keys for these scopes (None where it holds no wrap)."""
    wanted = list(set(scope_ids))
    found: dict[UUID, DataKey | None] = dict.fromkeys(wanted)
    for wrap in await scope.store.wraps_for_agency(wanted, agency_id):
        found[wrap.scope_id] = _unwrapped(scope, wrap)
    return found


def _unwrapped(scope: Scope, wrap: DataKeyWrapRow) -> DataKey:
    """The data key in a wrap, from the process's bounded cache when it was opened lately.

    The cache only saves the unwrapping: which wraps an agency holds is read from the database
    on every request, so a revoked share or a shredded case never reaches it; and it is keyed
    by the whole wrap, so a rewrapped key is opened anew.
    """
    ident = (wrap.scope_id, wrap.generation, wrap.agency_id, wrap.kek_version, bytes(wrap.wrapped))
    cache = scope.runtime.unwrapped
    key = cache.get(ident)
    if key is None:
        key = cache[ident] = unwrap_data_key(
            scope.runtime.keys,
            scope_id=wrap.scope_id,
            generation=wrap.generation,
            agency_id=wrap.agency_id,
            version=wrap.kek_version,
            blob=wrap.wrapped,
        )
    return key


async def grant_key(scope: Scope, scope_id: UUID, agency_id: UUID) -> None:
    """Wrap the scope's data key for another agency, unless it holds a wrap already."""
    if await scope.store.wraps_for_agency([scope_id], agency_id):
        return
    key = (await viewer_keys(scope, [scope_id]))[scope_id]
    if key is None:
        raise LookupError("the caller holds no wrap of this data key")
    scope.store.add(_wrap_row(scope, key, agency_id))


async def withdraw_key(scope: Scope, scope_id: UUID, agency_id: UUID) -> None:
    """Delete an agency's wrap, so it can no longer decrypt the scope's fields."""
    await scope.store.delete_wrap(scope_id, agency_id)
