"""The caller's key of a request (its fields are sealed through casehub.services.protected;
the particulars' JSON form is casehub.domain.requests.content's)."""

from __future__ import annotations

from uuid import UUID

from casehub.crypto import DataKey
from casehub.services.keys import data_keys as keys
from casehub.services.runtime import Scope


async def request_key(scope: Scope, request_id: UUID) -> DataKey:
    """The caller's key of a request it is party to (both parties hold a wrap)."""
    key = (await keys.viewer_keys(scope, [request_id]))[request_id]
    if key is None:
        raise LookupError("a party of the request holds no wrap of its key")
    return key
