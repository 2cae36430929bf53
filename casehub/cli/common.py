"""What every command shares: settings to runtime, the database checked first, output as text
or JSON, progress on stderr, durations."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from casehub.cli.errors import CONFIG, CliError, database_errors, shown_url
from casehub.config import Settings
from casehub.crypto import KeyringError, LocalKeyring
from casehub.persistence import sqlite_path
from casehub.services.runtime import Runtime

T = TypeVar("T")

_DURATION = re.compile(r"(\d+)([dhm])")
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_FORMS = "sqlite+aiosqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of text.")]


def check_database_url(url: str) -> None:
    """Refuse a URL casehub cannot run on, and a SQLite file in a directory that does not
    exist (a mistyped path must not become a new, empty database)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CliError(
            f"CASEHUB_DATABASE_URL is not a database URL — write {_FORMS}", code=CONFIG
        ) from None
    backend = parsed.drivername.partition("+")[0]
    backend = "postgresql" if backend == "postgres" else backend
    if parsed.drivername not in _DRIVERS.values():
        wanted = _DRIVERS.get(backend)
        fixed = wanted and parsed.set(drivername=wanted).render_as_string(hide_password=True)
        fix = f"write {fixed}" if fixed else f"use {_FORMS}"
        raise CliError(
            f"CASEHUB_DATABASE_URL {shown_url(url)} names the driver {parsed.drivername}, "
            f"which casehub does not run on — {fix}",
            code=CONFIG,
        )
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise CliError(
            f"the directory {path.parent} of the SQLite database does not exist — create it "
            "(casehub does not), or correct CASEHUB_DATABASE_URL",
            code=CONFIG,
        )


def runtime_for(settings: Settings) -> Runtime:
    """The runtime of one command on an existing database: a SQLite file that is not there is
    not created (only `db upgrade` makes one); the keyring is read before the database opens."""
    from casehub.app import build_runtime

    check_database_url(settings.database_url)
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        raise CliError(
            f"no database at {path} (not migrated) — run `casehub db upgrade`, or correct "
            "CASEHUB_DATABASE_URL"
        )
    try:
        keys = LocalKeyring.load(settings.keyring)
    except KeyringError as error:
        problem = str(error).rstrip(".")
        if "`" not in problem:  # no command to run: the file itself is wrong
            problem += " — restore it from its backup, or point CASEHUB_KEYRING at the keyring"
        raise CliError(problem, code=CONFIG) from None
    return build_runtime(settings, keys)


def run(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run one command's work on a database this release can serve (else the fix, on one
    line, and nothing written)."""
    from casehub.services.health import schema_problem

    async def main() -> T:
        runtime = runtime_for(settings)
        try:
            problem = await schema_problem(runtime)
            if problem:
                raise CliError(problem)
            return await work(runtime)
        finally:
            await runtime.database.dispose()

    with database_errors(settings.database_url):
        return asyncio.run(main())


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _when(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _when(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def print_json(data: Any) -> None:
    """JSON on stdout, times in UTC as 2026-01-31T12:00:00Z."""
    typer.echo(json.dumps(data, indent=2, default=_plain))


def emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    """Print a command's result on stdout: JSON when asked, else the text for people."""
    if as_json:
        print_json(data)
    else:
        typer.echo(text())


def titled(*keys: str) -> list[tuple[str, str]]:
    """Table columns headed by their keys in capitals."""
    return [(key.upper(), key) for key in keys]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def table(columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]], none: str) -> str:
    """Rows as aligned columns under a title line, or `none` when there are no rows."""
    if not rows:
        return none
    lines = [[title for title, _key in columns]]
    lines += [[_cell(row[key]) for _title, key in columns] for row in rows]
    widths = [max(len(line[index]) for line in lines) for index in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (stdout keeps only the result), shown from the first
    `advance(done, total)`: a command refused before its work starts prints no bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), console=Console(stderr=True)
    )
    task = bar.add_task(label, total=None)

    def advance(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=max(total, done))

    try:
        yield advance
    finally:
        if bar.live.is_started:
            bar.stop()


def spinner(label: str) -> AbstractContextManager[object]:
    """A spinner on stderr for work that counts nothing ahead (drawn on a terminal only)."""
    from rich.console import Console

    return Console(stderr=True).status(label)


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
