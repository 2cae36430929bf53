"""The one error boundary of every command.

A foreseeable mistake (settings, the database URL, the keyring, an unreachable or un-migrated
database, a refused operation) is one line on stderr, `error: what — the fix`, and an exit
code: 2 when the configuration is wrong, 1 when the work failed. Anything else is a bug: one
line saying so, and the traceback with `casehub --debug`.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError

from casehub.crypto import KeyringError
from casehub.domain.errors import DomainError
from casehub.persistence.database import unreachable

CONFIG = 2
"""Exit code of a mistake in the settings or the command line (click's own usage code)."""
FAILED = 1
"""Exit code of work that could not be done."""


class CliError(Exception):
    """A foreseeable mistake: lines (each `what — the fix`) and the exit code."""

    def __init__(self, *lines: str, code: int = FAILED) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.code = code


@dataclass
class Options:
    """The options given before the command (`casehub --debug ...`)."""

    debug: bool = False


options = Options()


def fail(message: str, *, code: int = FAILED) -> NoReturn:
    """Print `error: message` on stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def shown_url(url: str) -> str:
    """A database URL fit to print: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def _reason(error: BaseException) -> str:
    """The driver's own words, on one line (psycopg's hints follow on further lines)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn a database that cannot be reached (down, unknown host, wrong credentials, not a
    database at all) into one line naming the URL, its password hidden."""
    try:
        yield
    except Exception as error:
        # The bare DatabaseError: the file is no database (SQLite's "file is not a database").
        if not unreachable(error) and type(error) is not DatabaseError:
            raise
        raise CliError(
            f"cannot use the database {shown_url(url)}: {_reason(error)} — check "
            "CASEHUB_DATABASE_URL (host, port, user, password) and that the database is up"
        ) from error


def _settings_lines(error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        field = "_".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if field:
            # The value is not repeated: a setting may hold a secret.
            lines.append(f"CASEHUB_{field.upper()} is invalid — {message[:1].lower()}{message[1:]}")
        else:
            lines.append(f"the settings do not agree — {message}")
    return lines


def explain(error: BaseException) -> CliError | None:
    """The foreseeable mistake behind an error, or None for a bug."""
    if isinstance(error, CliError):
        return error
    if isinstance(error, ValidationError) and error.title == "Settings":
        return CliError(*_settings_lines(error), code=CONFIG)
    if isinstance(error, SettingsError):
        return CliError(f"{error} — correct that CASEHUB_ variable", code=CONFIG)
    if isinstance(error, KeyringError):
        return CliError(str(error).rstrip("."))
    if isinstance(error, DomainError):
        where = f" ({'.'.join(error.field)})" if error.field else ""
        return CliError(f"{error.message}{where}")
    return None


def report(error: Exception) -> int:
    """Print an error escaping a command; returns the exit code."""
    if options.debug:
        traceback.print_exception(error, file=sys.stderr)
    known = explain(error)
    if known is None:
        hint = "" if options.debug else " — run with `casehub --debug ...` for the traceback"
        first = str(error).strip().split("\n", 1)[0]
        typer.echo(f"error: unexpected {type(error).__name__}: {first} (a bug){hint}", err=True)
        return FAILED
    for line in known.lines:
        typer.echo(f"error: {line}", err=True)
    return known.code
