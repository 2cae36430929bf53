"""Protected text fields: the one resolver of every field that opens a sealed value.

The fast path serves it without graphql-core's per-field machinery (the `reveals` mark), and
`Sealed.reveal` opens it: the key check and the read audit happen there, never here.
"""

from __future__ import annotations

from typing import Any

import strawberry

from casehub.api.context import Info
from casehub.api.execution.fast_path import reveals
from casehub.services.views import Sealed


def revealed(attribute: str, description: str) -> Any:
    """A nullable String field revealing the `Sealed` value its object holds in `attribute`."""

    @reveals(attribute)
    def resolve(root: Any, info: Info) -> str | None:
        sealed: Sealed = getattr(root, attribute)
        return sealed.reveal(info.context.scope)

    return strawberry.field(resolver=resolve, description=description)
