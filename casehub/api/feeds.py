"""Serving a live feed over a subscription: authenticate, render each batch, audit reads."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from casehub.api.context import Info, SocketContext
from casehub.api.loaders import Loaders
from casehub.domain.errors import Unauthenticated
from casehub.services.audit import trail as audit
from casehub.services.runtime import Principal, Runtime, Scope

Item = TypeVar("Item")
Rendered = TypeVar("Rendered")
Follow = Callable[[Runtime, Principal], AsyncGenerator[tuple[Scope, list[Item]], None]]


async def deliver(
    info: Info,
    follow: Follow[Item],
    preload: Callable[[Loaders, list[Item]], Awaitable[object]],
    render: Callable[[Item], Rendered],
) -> AsyncGenerator[Rendered, None]:
    """The rendered items of a feed followed as the websocket's principal."""
    context = info.context
    if not isinstance(context, SocketContext) or context.principal is None:
        raise Unauthenticated
    async for scope, items in follow(context.runtime, context.principal):
        with context.bind(scope) as loaders:
            # Load what the items name now and end the read: rendering and sending then hold
            # no database connection, however slow the client.
            await preload(loaders, items)
            await scope.store.end_read()
            for item in items:
                yield render(item)
            # Should a protected field be selected, its decryption is audited.
            await audit.flush_reads(scope)
