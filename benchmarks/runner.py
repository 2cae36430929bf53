"""One database's run: seed it, serve casehub and the floor side by side (and on PostgreSQL the
peer, PostGraphile, for the workloads it has), and measure each workload on each, one right
after the other, after checking that they answer alike. A workload that adds to another (a
signed submission) is measured in turns with it, so both meet the same machine."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import httpx
from graphql import build_schema as parse_sdl

from benchmarks import databases, peer, seeding
from benchmarks.backend_cpu import BackendCpu, spent
from benchmarks.console import say
from benchmarks.load import BadAnswer, LoadResult, Operation, client, drive
from benchmarks.processes import Server, Stats, serving
from benchmarks.workloads import Fixture, Workload, casehub_rows, peer_rows
from casehub.api.schema import sdl

# Share of each measured run spent beforehand warming caches, pools and code paths.
WARM_UP = 0.2
# Turns of a workload measured with those that add to it (runner.turns_of).
ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Options:
    """How to run: the data size, the load and the seeder."""

    cases: int
    connections: int
    duration: float
    bulk: bool
    # Whether to run the peer (PostGraphile) on PostgreSQL for the workloads it has.
    peer: bool = False
    # Reads PostgreSQL's backends' CPU time (None on SQLite).
    backends: BackendCpu | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    """One server's run of one workload."""

    load: LoadResult
    stats: Stats
    peak_rss_kib: int
    # User and system CPU time of the server process during the run.
    cpu_seconds: float
    # ... and of the PostgreSQL backends connected to the run's database (NaN on SQLite).
    db_cpu_seconds: float = math.nan


@dataclass(frozen=True, slots=True)
class Outcome:
    """A workload on one database: both servers' measurements (no floor's for a workload the
    floor does not have), or why it was skipped."""

    database: str
    workload: Workload
    casehub: Measurement | None = None
    floor: Measurement | None = None
    skipped: str | None = None
    peer: Measurement | None = None
    # Why the peer did not run a workload it has (None where it ran or has no such workload).
    peer_skipped: str | None = None


class AnswersDiffer(Exception):
    """casehub and the floor answered the same request differently."""


def first_difference(left: Any, right: Any, path: str = "$") -> str | None:
    """Where two JSON values first differ (None: they are equal)."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                return f"{path}.{key}: present on one side only"
            found = first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} items against {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path}: {left!r} against {right!r}"


def _lacks(field: str) -> bool:
    """Whether casehub's schema has no such root query field."""
    query = parse_sdl(sdl()).query_type
    return query is None or field not in query.fields


async def _segment(
    server: Server,
    http: httpx.AsyncClient,
    operation: Operation,
    options: Options,
    seconds: float,
) -> Measurement:
    """The operation driven for `seconds` on a server whose counters start from zero."""
    await server.reset(http)
    backends = options.backends.read() if options.backends else {}
    cpu = server.cpu_seconds()
    load = await drive(http, operation, connections=options.connections, seconds=seconds)
    cpu = server.cpu_seconds() - cpu
    db_cpu = spent(backends, options.backends.read()) if options.backends else math.nan
    return Measurement(load, await server.stats(http), server.peak_rss_kib(), cpu, db_cpu)


async def _warm_up(http: httpx.AsyncClient, operation: Operation, options: Options) -> None:
    seconds = options.duration * WARM_UP
    await drive(http, operation, connections=options.connections, seconds=seconds)


def _say_errors(server: Server, measured: Measurement) -> None:
    if measured.load.errors:
        errors = measured.load.errors
        say(f"  {errors} errors; the {server.kind} server's log ends:\n{server.log_tail()}")


async def _measure(
    server: Server, http: httpx.AsyncClient, operation: Operation, options: Options
) -> Measurement:
    await _warm_up(http, operation, options)
    measured = await _segment(server, http, operation, options, options.duration)
    _say_errors(server, measured)
    return measured


def pooled(parts: Sequence[Measurement]) -> Measurement:
    """One measurement of runs made one after the other (times and counts added up, the
    highest peak memory)."""
    errors = [part.load.first_error for part in parts if part.load.first_error]
    load = LoadResult(
        seconds=sum(part.load.seconds for part in parts),
        latencies=[latency for part in parts for latency in part.load.latencies],
        errors=sum(part.load.errors for part in parts),
        first_error=errors[0] if errors else None,
    )
    stats = Stats(
        requests=sum(part.stats.requests for part in parts),
        statements=sum(part.stats.statements for part in parts),
    )
    return Measurement(
        load,
        stats,
        max(part.peak_rss_kib for part in parts),
        sum(part.cpu_seconds for part in parts),
        sum(part.db_cpu_seconds for part in parts),
    )


async def _measure_in_turns(
    server: Server, http: httpx.AsyncClient, operations: Sequence[Operation], options: Options
) -> list[Measurement]:
    """Each operation for the duration, in ROUNDS turns of a share of it each, so that a change
    of the machine's load during the run weighs on every one alike."""
    for operation in operations:
        await _warm_up(http, operation, options)
    turns: list[list[Measurement]] = [[] for _ in operations]
    for _round in range(ROUNDS):
        for operation, parts in zip(operations, turns, strict=True):
            seconds = options.duration / ROUNDS
            parts.append(await _segment(server, http, operation, options, seconds))
    measured = [pooled(parts) for parts in turns]
    for measurement in measured:
        _say_errors(server, measurement)
    return measured


def turns_of(workload: Workload, workloads: Sequence[Workload]) -> list[Workload]:
    """The workloads measured in turns with this one: the one it adds to and every other that
    adds to that one, among those run (just itself where none is)."""
    names = {candidate.name: candidate for candidate in workloads}
    base = names.get(workload.extra_over or workload.name, workload)
    return [base, *(other for other in workloads if other.extra_over == base.name)]


async def _compare(
    workload: Workload,
    casehub: tuple[Operation, httpx.AsyncClient],
    floor: tuple[Operation, httpx.AsyncClient],
) -> object:
    """Fail loudly unless one request to each server gets the same answer; casehub's answer."""
    (casehub_operation, casehub_http), (floor_operation, floor_http) = casehub, floor
    answers = await casehub_operation(casehub_http), await floor_operation(floor_http)
    difference = first_difference(*answers)
    if difference:
        raise AnswersDiffer(f"{workload.title}: casehub and the floor differ at {difference}")
    return answers[0]


async def _peer_difference(
    casehub_answer: object, operation: Operation, http: httpx.AsyncClient
) -> str | None:
    """Where the peer's page differs from casehub's in the rows they share (None: nowhere).
    The peer applies no policy: cases the reader cannot see (a write run's) would differ."""
    try:
        peer_answer = await operation(http)
    except (BadAnswer, httpx.HTTPError) as error:
        return f"its answer: {type(error).__name__}: {error}"
    if not isinstance(casehub_answer, dict) or not isinstance(peer_answer, dict):
        return "an answer that is not an object"
    return first_difference(casehub_rows(casehub_answer), peer_rows(peer_answer))


async def _run_peer(
    workload: Workload,
    fixture: Fixture,
    casehub_answer: object,
    server: Server,
    options: Options,
) -> tuple[Measurement | None, str | None]:
    """The peer's measurement of the workload, or why it was not measured."""
    assert workload.peer is not None
    operation = workload.peer(fixture)
    async with client(server.url, options.connections) as http:
        difference = await _peer_difference(casehub_answer, operation, http)
        if difference:
            say(f"  {workload.title}: {peer.NAME} skipped, its page is not casehub's: {difference}")
            return None, "its page is not casehub's (stderr says where)"
        say(f"  {workload.title}: {peer.NAME} ...")
        return await _measure(server, http, operation, options), None


async def _run_workloads(
    database: str,
    servers: tuple[Server, Server],
    fixture: Fixture,
    workloads: list[Workload],
    options: Options,
    peer_server: Server | str | None = None,
) -> list[Outcome]:
    """Each workload on casehub then the floor, then on the peer where it has the workload
    (`peer_server`: the running peer, why it is not running, or None where it does not run)."""
    outcomes = []
    in_turns: dict[str, Measurement] = {}
    async with (
        client(servers[0].url, options.connections) as casehub_http,
        client(servers[1].url, options.connections) as floor_http,
    ):
        for workload in workloads:
            if workload.requires and _lacks(workload.requires):
                reason = f"casehub's schema has no `{workload.requires}` field yet"
                say(f"  {workload.title}: skipped, {reason}")
                outcomes.append(Outcome(database, workload, skipped=reason))
                continue
            casehub_operation = workload.casehub(fixture)
            floor_operation = None if workload.floor is None else workload.floor(fixture)
            casehub_answer = None
            if workload.compare and floor_operation is not None:
                casehub_answer = await _compare(
                    workload, (casehub_operation, casehub_http), (floor_operation, floor_http)
                )
            group = turns_of(workload, workloads)
            if len(group) == 1:
                say(f"  {workload.title}: casehub ...")
                casehub = await _measure(servers[0], casehub_http, casehub_operation, options)
            else:
                if workload.name not in in_turns:
                    say(f"  {', '.join(w.title for w in group)}: casehub, in turns ...")
                    operations = [w.casehub(fixture) for w in group]
                    together = await _measure_in_turns(
                        servers[0], casehub_http, operations, options
                    )
                    in_turns.update(zip([w.name for w in group], together, strict=True))
                casehub = in_turns[workload.name]
            floor = None
            if floor_operation is not None:
                say(f"  {workload.title}: floor ...")
                floor = await _measure(servers[1], floor_http, floor_operation, options)
            measured, peer_skipped = None, None
            if workload.peer is not None and isinstance(peer_server, Server):
                measured, peer_skipped = await _run_peer(
                    workload, fixture, casehub_answer, peer_server, options
                )
            elif workload.peer is not None and isinstance(peer_server, str):
                peer_skipped = peer_server
            outcomes.append(
                Outcome(
                    database, workload, casehub, floor, peer=measured, peer_skipped=peer_skipped
                )
            )
    return outcomes


def run(database: str, workloads: list[Workload], options: Options) -> list[Outcome]:
    """Seed a fresh database of this engine and measure the workloads on it."""
    with databases.prepared(database) as target:
        seeder = "bulk inserts" if options.bulk else "casehub's services"
        say(f"{database}: seeding {options.cases:,} cases through {seeder}")
        tokens, submitter = asyncio.run(
            seeding.seed(target, cases=options.cases, bulk=options.bulk)
        )
        fixture = Fixture(tokens, options.cases, submitter)
        if target.engine == "postgres":
            name = target.url.rsplit("/", 1)[1]
            options = replace(options, backends=BackendCpu(databases.POSTGRES_ADMIN_URL, name))
        with serving(target, "casehub", "floor") as (casehub, floor), ExitStack() as stack:
            say(f"{database}: serving casehub (pid {casehub.pid}) and the floor (pid {floor.pid})")
            peer_server = None
            if options.peer and database == "postgres" and any(w.peer for w in workloads):
                peer_server = _start_peer(stack, target)
            return asyncio.run(
                _run_workloads(database, (casehub, floor), fixture, workloads, options, peer_server)
            )


def _start_peer(stack: ExitStack, target: databases.Target) -> Server | str:
    """The peer, serving until the stack closes; or why it could not start (printed)."""
    try:
        installed = peer.install()
        server = stack.enter_context(peer.serving(target, installed))
    except (peer.PeerUnavailable, RuntimeError) as error:
        say(f"{target.engine}: {peer.NAME} skipped: {error}")
        return str(error).splitlines()[0]
    say(f"{target.engine}: serving {peer.NAME} (pid {server.pid})")
    return server
