"""Federation delivery commands: `casehub federation deliver --once` and `casehub federation
outbox [--state STATE] [retry MESSAGE_ID]`, registered into the federation group.

`casehub serve` delivers the outbox by itself, one sender at a time across replicas; these
commands are for operators: see the queue, push one round by hand, send a dead letter again.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer

from casehub.cli.common import JsonFlag, emit, run, table, titled
from casehub.cli.errors import CONFIG, CliError
from casehub.config import Settings
from casehub.domain.federation.outbox import OutboxState
from casehub.services.federation import delivery, outbox
from casehub.services.federation.messages import NotFederated
from casehub.services.runtime import Runtime

_NOT_FEDERATED = "this hub has no federation identity — create it with `casehub federation init`"


def _message(queued: outbox.QueuedMessage) -> dict[str, Any]:
    return {
        "id": str(queued.message_id),
        "peer": str(queued.peer),
        "peer_name": queued.peer_name,
        "peer_removed": queued.peer_removed,
        "conversation": str(queued.conversation),
        "sequence": queued.sequence,
        "type": queued.type,
        "state": queued.state,
        "attempts": queued.attempts,
        "next_attempt_at": queued.next_attempt_at,
        "last_error_code": queued.last_error_code,
        "last_error": queued.last_error,
        "created_at": queued.created_at,
        "delivered_at": queued.delivered_at,
    }


def _state(text: str | None) -> OutboxState | None:
    if text is None:
        return None
    try:
        return OutboxState(text.upper())
    except ValueError:
        names = ", ".join(state.value.lower() for state in OutboxState)
        raise CliError(
            f"{text!r} is not an outbox state — use one of {names}", code=CONFIG
        ) from None


def _message_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise CliError(f"{text!r} is not a message id (a UUID)", code=CONFIG) from None


def deliver(
    once: Annotated[
        bool, typer.Option("--once", help="One round: try every message that is due, then stop.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Deliver the federation outbox by hand: one round, as the worker of `casehub serve`
    does (nothing when another process is delivering now)."""
    if not once:
        raise CliError(
            "only --once is supported here — `casehub serve` delivers continuously", code=CONFIG
        )

    async def work(runtime: Runtime) -> delivery.Round:
        try:
            return await delivery.deliver_once(runtime)
        except NotFederated:
            raise CliError(_NOT_FEDERATED) from None

    done = run(Settings(), work)
    data = {"leader": done.leader} | {
        outcome.value.lower(): done.count(outcome) for outcome in delivery.Outcome
    }
    if not done.leader:
        text = "another process is delivering now: nothing done"
    else:
        text = ", ".join(f"{key} {value}" for key, value in data.items() if key != "leader")
    emit(data, as_json, lambda: text)


outbox_app = typer.Typer(
    help="Messages queued for peer hubs: list them (`outbox`), retry a dead letter.",
    invoke_without_command=True,
)


@outbox_app.callback()
def outbox_list(
    context: typer.Context,
    state: Annotated[
        str | None,
        typer.Option("--state", help="Only messages in this state: pending, delivered or dead."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List queued messages, oldest first: peer, conversation, sequence, state, attempts,
    the last error (never a payload)."""
    if context.invoked_subcommand is not None:
        return
    wanted = _state(state)

    async def work(runtime: Runtime) -> list[outbox.QueuedMessage]:
        return await outbox.list_outbox(runtime, state=wanted)

    rows = [_message(queued) for queued in run(Settings(), work)]
    columns = titled("id", "peer_name", "conversation", "sequence", "type", "state", "attempts")
    columns += titled("next_attempt_at", "last_error_code")
    emit(rows, as_json, lambda: table(columns, rows, none="the outbox is empty"))


@outbox_app.command("retry")
def outbox_retry(
    message: Annotated[str, typer.Argument(metavar="MESSAGE_ID", help="The dead message's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Send a DEAD message again: PENDING, due now, its attempts counted afresh (audited)."""
    message_id = _message_id(message)

    async def work(runtime: Runtime) -> outbox.QueuedMessage:
        return await outbox.retry_message(runtime, message_id)

    data = _message(run(Settings(), work))
    emit(data, as_json, lambda: f"message {data['id']} is pending again")


def register(federation_app: typer.Typer) -> None:
    """Add `deliver` and `outbox` to the `casehub federation` group."""
    federation_app.command("deliver")(deliver)
    federation_app.add_typer(outbox_app, name="outbox")
