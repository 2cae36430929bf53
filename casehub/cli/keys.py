"""Key commands: keys rotate, keys rewrap, keys status, keys retire, keys reindex.

A running server loads the keyring once, when it starts: restart (or roll) every server after
`keys rotate` and again after `keys rotate --activate`. There is no reload endpoint.
"""

from __future__ import annotations

from typing import Annotated

import typer

from casehub.cli.common import fail, run
from casehub.config import Settings
from casehub.crypto import KeyringError, activate_version, rotate_keyring
from casehub.services.cases import identifier_index
from casehub.services.keys import lifecycle as key_lifecycle
from casehub.services.runtime import Runtime

_RESTART = "Restart (or roll) every server now: a server loads the keyring only when it starts."


def rotate(
    activate: Annotated[
        bool,
        typer.Option(
            "--activate",
            help="Make the pending version the one new wraps use (second step).",
        ),
    ] = False,
) -> None:
    """Rotate the root key in two steps, so new versions decrypt before they encrypt.

    `keys rotate` adds version N+1 as decrypt-only (pending). Restart every server, so each can
    unwrap under it. Then `keys rotate --activate` makes it the version new wraps use; restart
    every server again, then move the old wraps with `keys rewrap`.
    """
    path = Settings().keyring
    try:
        if activate:
            version = activate_version(path)
            typer.echo(f"key version {version} is now active", err=True)
        else:
            version = rotate_keyring(path)
            typer.echo(
                f"added key version {version} (decrypt-only); after restarting every server, "
                "run `casehub keys rotate --activate`",
                err=True,
            )
    except KeyringError as error:
        fail(str(error))
    typer.echo(_RESTART, err=True)
    typer.echo(str(version))


def rewrap(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Wraps per transaction.")
    ] = 500,
) -> None:
    """Rewrap every data key not under the active version, online, in short batches.

    Servers keep serving while it runs; interrupted, it can simply be run again. Run it only
    after every server was restarted following `keys rotate --activate`.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("rewrapping"), BarColumn(), MofNCompleteColumn(), transient=False
    ) as bar:
        task = bar.add_task("rewrap", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        async def work(runtime: Runtime) -> key_lifecycle.RewrapResult:
            return await key_lifecycle.rewrap(runtime, batch_size=batch_size, progress=advance)

        result = run(Settings(), work)
    typer.echo(f"rewrapped {result.rewrapped} wrap(s), skipped {result.skipped}", err=True)
    if result.skipped:
        fail(f"{result.skipped} wrap(s) could not be rewrapped: see `casehub keys status`.")


def status() -> None:
    """Key versions (active, pending, retired) and how many data-key wraps each holds."""
    rows = run(Settings(), key_lifecycle.key_status)
    typer.echo("version\tstate\twraps")
    for row in rows:
        if not row.in_keyring:
            state = "MISSING"
        elif row.active:
            state = "active"
        elif row.pending:
            state = "pending"
        else:
            state = "decrypt-only"
        typer.echo(f"{row.version}\t{state}\t{row.wraps}")


def retire(
    version: Annotated[int, typer.Argument(help="The key version to remove.")],
) -> None:
    """Remove a key version from the keyring; refused while it is active or any wrap uses it."""

    async def work(runtime: Runtime) -> None:
        await key_lifecycle.retire(runtime, version)

    run(Settings(), work)
    typer.echo(f"retired key version {version}", err=True)


def reindex(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Identifiers per transaction.")
    ] = 500,
) -> None:
    """Compute the blind indexes and match tokens of identifiers stored without them (those
    written before deconfliction existed), online and resumable; new ones get theirs at once."""

    async def work(runtime: Runtime) -> tuple[int, int]:
        return await identifier_index.index_missing(runtime, batch=batch_size)

    indexed, skipped = run(Settings(), work)
    typer.echo(f"indexed {indexed} identifier(s), skipped {skipped}", err=True)
    if skipped:
        typer.echo(
            "skipped identifiers have no canonical form under today's rules (or no readable "
            "key): they are not searchable and never match; correct them by adding the "
            "identifier again",
            err=True,
        )


def register(keys_app: typer.Typer) -> None:
    """Add the rotation and index commands to the `keys` group."""
    keys_app.command("rotate")(rotate)
    keys_app.command("rewrap")(rewrap)
    keys_app.command("status")(status)
    keys_app.command("retire")(retire)
    keys_app.command("reindex")(reindex)
