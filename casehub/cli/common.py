"""What every command shares: settings to runtime, errors to exit codes, durations."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import typer

from casehub.config import Settings
from casehub.crypto import KeyringError
from casehub.domain.errors import DomainError
from casehub.services.runtime import Runtime

T = TypeVar("T")

_DURATION = re.compile(r"(\d+)([dhm])")


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def runtime_for(settings: Settings) -> Runtime:
    from casehub.app import build_runtime

    try:
        return build_runtime(settings)
    except KeyringError as error:
        fail(str(error))
        raise


def run(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def main() -> T:
        runtime = runtime_for(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.database.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        where = f" ({'.'.join(error.field)})" if error.field else ""
        fail(f"{error.message}{where}")
        raise


def parse_duration(text: str) -> timedelta:
    """90d, 12h or 30m."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise typer.BadParameter("use a number and d, h or m, e.g. 90d")
    number, unit = int(match.group(1)), match.group(2)
    return {
        "d": timedelta(days=number),
        "h": timedelta(hours=number),
        "m": timedelta(minutes=number),
    }[unit]
