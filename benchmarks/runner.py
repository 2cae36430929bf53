"""One database's run: seed it, serve casehub and the floor side by side, and measure each
workload on both, one right after the other, after checking that they answer alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import build_schema as parse_sdl

from benchmarks import databases, seeding
from benchmarks.console import say
from benchmarks.load import LoadResult, Operation, client, drive
from benchmarks.processes import Server, Stats, serving
from benchmarks.workloads import Fixture, Workload
from casehub.api.schema import sdl

# Share of each measured run spent beforehand warming caches, pools and code paths.
WARM_UP = 0.2


@dataclass(frozen=True, slots=True)
class Options:
    """How to run: the data size, the load and the seeder."""

    cases: int
    connections: int
    duration: float
    bulk: bool


@dataclass(frozen=True, slots=True)
class Measurement:
    """One server's run of one workload."""

    load: LoadResult
    stats: Stats
    peak_rss_kib: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """A workload on one database: both servers' measurements, or why it was skipped."""

    database: str
    workload: Workload
    casehub: Measurement | None = None
    floor: Measurement | None = None
    skipped: str | None = None


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


async def _measure(
    server: Server, http: httpx.AsyncClient, operation: Operation, options: Options
) -> Measurement:
    connections = options.connections
    await drive(http, operation, connections=connections, seconds=options.duration * WARM_UP)
    await server.reset(http)
    load = await drive(http, operation, connections=connections, seconds=options.duration)
    if load.errors:
        say(f"  {load.errors} errors; the {server.kind} server's log ends:\n{server.log_tail()}")
    return Measurement(load, await server.stats(http), server.peak_rss_kib())


async def _compare(
    workload: Workload,
    casehub: tuple[Operation, httpx.AsyncClient],
    floor: tuple[Operation, httpx.AsyncClient],
) -> None:
    """Fail loudly unless one request to each server gets the same answer."""
    (casehub_operation, casehub_http), (floor_operation, floor_http) = casehub, floor
    answers = await casehub_operation(casehub_http), await floor_operation(floor_http)
    difference = first_difference(*answers)
    if difference:
        raise AnswersDiffer(f"{workload.title}: casehub and the floor differ at {difference}")


async def _run_workloads(
    database: str,
    servers: tuple[Server, Server],
    fixture: Fixture,
    workloads: list[Workload],
    options: Options,
) -> list[Outcome]:
    outcomes = []
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
            floor_operation = workload.floor(fixture)
            if workload.compare:
                await _compare(
                    workload, (casehub_operation, casehub_http), (floor_operation, floor_http)
                )
            say(f"  {workload.title}: casehub ...")
            casehub = await _measure(servers[0], casehub_http, casehub_operation, options)
            say(f"  {workload.title}: floor ...")
            floor = await _measure(servers[1], floor_http, floor_operation, options)
            outcomes.append(Outcome(database, workload, casehub, floor))
    return outcomes


def run(database: str, workloads: list[Workload], options: Options) -> list[Outcome]:
    """Seed a fresh database of this engine and measure the workloads on it."""
    with databases.prepared(database) as target:
        seeder = "bulk inserts" if options.bulk else "casehub's services"
        say(f"{database}: seeding {options.cases:,} cases through {seeder}")
        tokens = asyncio.run(seeding.seed(target, cases=options.cases, bulk=options.bulk))
        fixture = Fixture(tokens, options.cases)
        with serving(target, "casehub", "floor") as (casehub, floor):
            say(f"{database}: serving casehub (pid {casehub.pid}) and the floor (pid {floor.pid})")
            return asyncio.run(
                _run_workloads(database, (casehub, floor), fixture, workloads, options)
            )
