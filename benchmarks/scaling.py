"""The write-scaling run (PostgreSQL only): casehub served by one and by two replicas on one
database, and the lock-free floor by one and two processes, each driven by the write workload
(openCase + addSubject + addEvidence) at a few connection counts, while PostgreSQL's lock
waits are sampled. Do writers serialise on the database, and does a second replica help?"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx

from benchmarks import databases, seeding
from benchmarks.console import say
from benchmarks.hostcpu import cpu_times, idle_share
from benchmarks.load import LoadResult, Operation, client, drive
from benchmarks.pg_sampler import LockSummary, Sampler
from benchmarks.processes import Server
from benchmarks.replicas import replicas
from benchmarks.runner import WARM_UP
from benchmarks.workloads import WORKLOADS, Fixture

CASEHUB = "casehub"
FLOOR = "floor"  # benchmarks.floor, as benchmarks.server serves it
SERVERS = (CASEHUB, FLOOR)
REPLICAS = (1, 2)
CONNECTIONS = (16, 64)


@dataclass(frozen=True, slots=True)
class Options:
    """How to run: the data size, the seeder, the connection counts and each point's time."""

    cases: int
    bulk: bool
    connections: tuple[int, ...] = CONNECTIONS
    duration: float = 10.0
    replicas: tuple[int, ...] = REPLICAS


@dataclass(frozen=True, slots=True)
class Point:
    """One server kind at one replica count and one connection count."""

    server: str
    replicas: int
    connections: int
    load: LoadResult
    locks: LockSummary
    # Shares of the machine's CPU time spent idle, and used by this (the load) process.
    host_idle: float
    client_cpu: float


def spread(connections: int, count: int) -> list[int]:
    """Connections per replica, dealt round-robin: connection i goes to replica i mod count."""
    base, extra = divmod(connections, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


def merged(results: Sequence[LoadResult]) -> LoadResult:
    """One result of runs that went on side by side (their latencies pooled)."""
    errors = [result.first_error for result in results if result.first_error]
    return LoadResult(
        seconds=max((result.seconds for result in results), default=0.0),
        latencies=[latency for result in results for latency in result.latencies],
        errors=sum(result.errors for result in results),
        first_error=errors[0] if errors else None,
    )


async def _drive(
    clients: Sequence[httpx.AsyncClient], operation: Operation, connections: int, seconds: float
) -> LoadResult:
    shares = spread(connections, len(clients))
    runs = [
        drive(http, operation, connections=share, seconds=seconds)
        for http, share in zip(clients, shares, strict=True)
        if share
    ]
    return merged(await asyncio.gather(*runs))


async def _point(
    servers: Sequence[Server], operation: Operation, connections: int, options: Options, url: str
) -> Point:
    async with AsyncExitStack() as stack:
        shares = spread(connections, len(servers))
        clients = [
            await stack.enter_async_context(client(server.url, max(share, 1)))
            for server, share in zip(servers, shares, strict=True)
        ]
        await _drive(clients, operation, connections, options.duration * WARM_UP)
        cpu, process, wall = cpu_times(), time.process_time(), time.perf_counter()
        with Sampler(url) as sampler:
            load = await _drive(clients, operation, connections, options.duration)
        client_cpu = (time.process_time() - process) / (time.perf_counter() - wall)
        host_idle = idle_share(cpu, cpu_times())
    if load.errors:
        tails = "\n".join(server.log_tail() for server in servers)
        say(f"  {load.errors} errors; the {servers[0].kind} servers' logs end:\n{tails}")
    kind = servers[0].kind
    return Point(kind, len(servers), connections, load, sampler.summary(), host_idle, client_cpu)


async def _points(
    servers: Sequence[Server], operation: Operation, options: Options, url: str
) -> list[Point]:
    points = []
    for connections in options.connections:
        say(f"  {servers[0].kind} x{len(servers)}, {connections} connections ...")
        points.append(await _point(servers, operation, connections, options, url))
    return points


def run(options: Options) -> list[Point]:
    """Seed a fresh PostgreSQL database and measure every server, replica count and
    connection count on it, one point after the other."""
    write = next(workload for workload in WORKLOADS if workload.name == "write")
    with databases.prepared("postgres") as target:
        seeder = "bulk inserts" if options.bulk else "casehub's services"
        say(f"postgres: seeding {options.cases:,} cases through {seeder}")
        tokens, submitter = asyncio.run(
            seeding.seed(target, cases=options.cases, bulk=options.bulk)
        )
        fixture = Fixture(tokens, options.cases, submitter)
        assert write.floor is not None, "the floor has the write workload"
        # One operation per server for the whole run: its case references never repeat.
        operations = {CASEHUB: write.casehub(fixture), FLOOR: write.floor(fixture)}
        points = []
        for kind in SERVERS:
            for count in options.replicas:
                with replicas(target, kind, count) as servers:
                    pids = ", ".join(str(server.pid) for server in servers)
                    say(f"postgres: serving {kind} x{count} (pids {pids})")
                    points += asyncio.run(_points(servers, operations[kind], options, target.url))
    return points
