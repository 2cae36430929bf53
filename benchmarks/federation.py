"""Messages per second through one federation outbox (`python -m benchmarks --federation`).

Hub A (the database under test) and hub B (a fresh one of the same engine) each get a hub
identity and are served as real `casehub` processes on loopback; each pins the other by its
fingerprint. Then, at A, N `federation.ping` messages are queued, each in its own transaction
(as a change and its message are), spread round-robin over K conversations, all at once or at
an offered rate; at the same time delivery rounds run back to back in this process
(`deliver_once`, what the worker of `casehub serve` and `casehub federation deliver --once`
run; A's own worker is off), posting sealed and signed envelopes to B and verifying B's acks.

Measured: delivered messages per second, from the first message queued to the last
acknowledged, and each message's latency from queued to acknowledged (its outbox row's
created_at and delivered_at). The run checks the count at both ends: every message DELIVERED at
A, and B's inbox holding each exactly once, each conversation received in sequence order.
The worker of `casehub serve` waits CASEHUB_FEDERATION_DELIVER_SECONDS (2 s) after a round
that was not full; rounds back to back measure the outbox's capacity, not that wait.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from sqlalchemy import text

from benchmarks import databases
from benchmarks.console import say
from benchmarks.load import LoadResult
from benchmarks.processes import Server, serving_command
from casehub.app import build_runtime
from casehub.crypto.rotation import add_hub_identity
from casehub.domain.federation.outbox import OutboxState
from casehub.services.federation import delivery, outbox, peers
from casehub.services.runtime import Runtime, open_scope

PING = "federation.ping"
# A run that has not delivered everything by then is reported with the rest as errors.
TIMEOUT_SECONDS = 600.0
IDLE_SECONDS = 0.005  # between rounds that found nothing due
COLUMNS = (
    "database",
    "messages",
    "conversations",
    "offered",
    "msg/s",
    "p50 ms",
    "p95 ms",
    "rounds",
    "errors",
)


@dataclass(frozen=True, slots=True)
class Options:
    """N messages in K conversations; `rate` messages/s offered, 0 for all at once."""

    messages: int
    conversations: int
    rate: float = 0.0


@dataclass(slots=True)
class Result:
    """One engine's run: how long it took from the first message queued to the last
    acknowledged, each delivered message's latency from queued to acknowledged (seconds),
    the messages not delivered, the rounds that attempted anything, and what did not arrive
    as it should."""

    engine: str
    options: Options
    seconds: float
    latencies: list[float]
    errors: int = 0
    rounds: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> LoadResult:
        """The delivered messages as a load result: their rate and latency percentiles."""
        return LoadResult(self.seconds, self.latencies)


@contextmanager
def _hub(target: databases.Target, name: str) -> Iterator[tuple[Server, str]]:
    """The target given a hub identity and served (its delivery worker off: the harness
    delivers); the server and the hub's fingerprint."""
    identity = add_hub_identity(target.keyring, name)
    environment = {
        **os.environ,
        **target.environment(),
        "CASEHUB_FEDERATION_DELIVER_SECONDS": "0",
    }

    def command(fd: int) -> list[str]:
        return [sys.executable, "-m", "benchmarks.server", "casehub", str(fd)]

    with serving_command(f"hub-{name}", target, command, environment) as server:
        yield server, identity.public.fingerprint()


async def _pin(target: databases.Target, url: str, fingerprint: str) -> UUID:
    runtime = build_runtime(target.settings())
    try:
        return (await peers.add_peer(runtime, url=url, fingerprint=fingerprint)).hub_id
    finally:
        await runtime.database.dispose()


async def _enqueue(runtime: Runtime, peer: UUID, options: Options) -> None:
    conversations = [uuid4() for _ in range(options.conversations)]
    started = time.monotonic()
    for number in range(options.messages):
        if options.rate:
            wait = started + number / options.rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        async with open_scope(runtime) as scope, scope.store.transaction():
            await outbox.enqueue(
                scope,
                peer=peer,
                type=PING,
                conversation=conversations[number % len(conversations)],
                payload={"note": f"benchmark {number}"},
            )


async def _deliver(runtime: Runtime, queued: asyncio.Task[None], total: int) -> int:
    """Rounds back to back until every message is delivered or dead (or the timeout); the
    number of rounds that attempted anything."""
    settled, rounds = 0, 0
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        done = await delivery.deliver_once(runtime)
        if done.attempted:
            rounds += 1
        settled += done.count(delivery.Outcome.DELIVERED) + done.count(delivery.Outcome.DEAD)
        if queued.done() and (settled >= total or queued.exception() is not None):
            break  # (a failed enqueue is raised by the caller's await)
        if not done.attempted:
            await asyncio.sleep(IDLE_SECONDS)
    return rounds


async def _outbox_rows(runtime: Runtime, total: int) -> list[tuple[str, float | None]]:
    """(state, seconds from queued to acknowledged) of every message at A."""
    found = []
    for row in await outbox.list_outbox(runtime, limit=total + 1):
        delivered = row.delivered_at
        latency = None if delivered is None else (delivered - row.created_at).total_seconds()
        found.append((row.state, latency))
    return found


async def _inbox_problems(target: databases.Target, total: int) -> list[str]:
    """What is wrong with B's inbox: not each message exactly once, or a conversation not
    received in sequence order."""
    runtime = build_runtime(target.settings())
    try:
        async with runtime.database.engine.connect() as connection:
            count, distinct = (
                await connection.execute(
                    text(
                        "SELECT count(*), count(DISTINCT message_id) FROM federation_inbox "
                        "WHERE type = :type"
                    ),
                    {"type": PING},
                )
            ).one()
            rows = (
                await connection.execute(
                    text(
                        "SELECT conversation, sequence, received_at FROM federation_inbox "
                        "WHERE type = :type ORDER BY conversation, sequence"
                    ),
                    {"type": PING},
                )
            ).all()
    finally:
        await runtime.database.dispose()
    problems = []
    if (count, distinct) != (total, total):
        problems.append(f"B's inbox holds {count} pings ({distinct} distinct), not {total}")
    for before, after in itertools.pairwise(rows):
        if before[0] == after[0] and after[2] < before[2]:
            problems.append(
                f"conversation {after[0]}: sequence {after[1]} arrived before {before[1]}"
            )
            break
    return problems


async def _measure(
    a: databases.Target, b: databases.Target, peer: UUID, options: Options
) -> Result:
    runtime = build_runtime(a.settings())
    try:
        started = time.monotonic()
        queued = asyncio.create_task(_enqueue(runtime, peer, options))
        rounds = await _deliver(runtime, queued, options.messages)
        seconds = time.monotonic() - started
        await queued
        rows = await _outbox_rows(runtime, options.messages)
    finally:
        await runtime.database.dispose()
    latencies = [latency for _state, latency in rows if latency is not None]
    errors = sum(1 for state, _latency in rows if state != OutboxState.DELIVERED.value)
    result = Result(a.engine, options, seconds, latencies, errors, rounds)
    if len(rows) != options.messages:
        result.problems.append(f"A's outbox holds {len(rows)} messages, not {options.messages}")
    if errors:
        result.problems.append(f"{errors} messages were not delivered")
    result.problems += await _inbox_problems(b, options.messages)
    return result


def run(engine: str, options: Options) -> Result:
    """One engine's run, from fresh databases to the checked result."""
    with ExitStack() as stack:
        a = stack.enter_context(databases.prepared(engine, "_a"))
        b = stack.enter_context(databases.prepared(engine, "_b"))
        say(f"{engine}: serving hubs A and B, pinning each other")
        server_a, fingerprint_a = stack.enter_context(_hub(a, "A"))
        server_b, fingerprint_b = stack.enter_context(_hub(b, "B"))
        peer = asyncio.run(_pin(a, server_b.url, fingerprint_b))
        asyncio.run(_pin(b, server_a.url, fingerprint_a))
        say(f"{engine}: {options.messages} pings in {options.conversations} conversations, A to B")
        result = asyncio.run(_measure(a, b, peer, options))
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(results: list[Result]) -> str:
    """The Markdown table of the runs."""
    body = [list(COLUMNS)]
    for result in results:
        options, delivered = result.options, result.delivered
        body.append(
            [
                result.engine,
                str(options.messages),
                str(options.conversations),
                f"{options.rate:g}/s" if options.rate else "all at once",
                f"{delivered.rate:.1f}",
                _ms(delivered.percentile(0.50)),
                _ms(delivered.percentile(0.95)),
                str(result.rounds),
                str(result.errors),
            ]
        )
    widths = [max(len(row[index]) for row in body) for index in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in body
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
