"""What an accepted message does at this hub: the table of message types that are applied,
each by a function run inside the transaction that stores the envelope in the inbox (so a
message is applied exactly when it is accepted, once). A type absent here is only stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from casehub.domain.federation.directory import DIRECTORY
from casehub.domain.federation.envelopes import Header
from casehub.services.federation.remote_agencies import apply_directory
from casehub.services.runtime import Scope

# (scope, the envelope's header, its payload as checked by its type's PAYLOAD_CHECKS entry)
Applier = Callable[[Scope, Header, Mapping[str, Any]], Awaitable[None]]

APPLIERS: Mapping[str, Applier] = {
    DIRECTORY: apply_directory,
}
