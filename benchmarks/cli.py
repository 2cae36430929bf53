"""`python -m benchmarks` (`make bench`): seed, serve, drive, and print the table."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from benchmarks import databases, federation, report, runner, scaling, scaling_cli
from benchmarks.console import say
from benchmarks.workloads import WORKLOADS, Workload

# Up to this many cases are seeded through casehub's services; more are bulk-inserted.
SERVICES_SEEDING_MAX = 10_000

app = typer.Typer(add_completion=False, help=__doc__)


class Database(StrEnum):
    """Which databases to measure."""

    SQLITE = "sqlite"
    POSTGRES = "postgres"
    BOTH = "both"


class Seeder(StrEnum):
    """How to load the cases."""

    AUTO = "auto"
    SERVICES = "services"
    BULK = "bulk"


def _workloads(names: str) -> list[Workload]:
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {workload.name: workload for workload in WORKLOADS}
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise typer.BadParameter(f"choose among {', '.join(known)}", param_hint="--workloads")
    return [known[name] for name in wanted]


@app.command()
def main(
    cases: Annotated[int, typer.Option(min=1, help="Cases to seed.")] = 1_000,
    connections: Annotated[int, typer.Option(min=1, help="Concurrent keep-alive clients.")] = 16,
    duration: Annotated[
        float, typer.Option(min=0.1, help="Seconds each workload runs on each server.")
    ] = 10.0,
    database: Annotated[Database, typer.Option(help="Databases to measure.")] = Database.BOTH,
    workloads: Annotated[
        str, typer.Option(help="Comma-separated, among " + ", ".join(w.name for w in WORKLOADS))
    ] = ",".join(workload.name for workload in WORKLOADS),
    seeder: Annotated[
        Seeder,
        typer.Option(
            help=f"services: through casehub's use-cases; bulk: batched inserts with casehub's "
            f"crypto; auto: services up to {SERVICES_SEEDING_MAX:,} cases."
        ),
    ] = Seeder.AUTO,
    peer: Annotated[
        bool,
        typer.Option(
            help="On PostgreSQL, also serve the cases page with PostGraphile 4 (node and npm "
            "needed; installed once into ~/.cache/casehub-bench) and give each server's "
            "throughput as a share of it.",
        ),
    ] = True,
    scaling_run: Annotated[
        bool,
        typer.Option(
            "--scaling",
            help="Instead: the write-scaling run on PostgreSQL (casehub as 1 and 2 replicas "
            "against a lock-free floor, lock waits sampled); --duration is per point.",
        ),
    ] = False,
    scaling_connections: Annotated[
        str, typer.Option(help="With --scaling: comma-separated connection counts.")
    ] = ",".join(str(count) for count in scaling.CONNECTIONS),
    federation_run: Annotated[
        bool,
        typer.Option(
            "--federation",
            help="Instead: messages per second through one federation outbox, hub A to a "
            "served hub B, on each --database (benchmarks/federation.py).",
        ),
    ] = False,
    federation_messages: Annotated[
        int, typer.Option(min=1, help="With --federation: messages queued at A.")
    ] = 2_000,
    federation_conversations: Annotated[
        int, typer.Option(min=1, help="With --federation: conversations they are spread over.")
    ] = 16,
    federation_rate: Annotated[
        float,
        typer.Option(min=0, help="With --federation: messages/s offered; 0 for all at once."),
    ] = 0.0,
) -> None:
    """Seed N cases, serve casehub and the floor on loopback, drive each workload with
    concurrent keep-alive clients, and print requests/s, latency, SQL statements per operation
    and peak RSS, with casehub's throughput as a share of the floor's."""
    bulk = seeder is Seeder.BULK or (seeder is Seeder.AUTO and cases > SERVICES_SEEDING_MAX)
    if scaling_run:
        scaling_cli.scale(cases, duration, scaling_connections, bulk=bulk)
        return
    if federation_run:
        engines = databases.ENGINES if database is Database.BOTH else (database.value,)
        federation_options = federation.Options(
            federation_messages, federation_conversations, federation_rate
        )
        _federation(engines, federation_options)
        return
    chosen = _workloads(workloads)
    engines = databases.ENGINES if database is Database.BOTH else (database.value,)
    options = runner.Options(
        cases=cases, connections=connections, duration=duration, bulk=bulk, peer=peer
    )
    outcomes = []
    try:
        for engine in engines:
            outcomes += runner.run(engine, chosen, options)
    except runner.AnswersDiffer as error:
        say(f"error: {error}")
        raise typer.Exit(1) from None
    postgres = databases.postgres_version() if "postgres" in engines else None
    typer.echo(f"casehub benchmark: {report.machine(postgres)}")
    typer.echo(
        f"{cases:,} cases, {connections} connections, {duration:g} s per workload and server; "
        "an operation is one request, but a write is openCase + addSubject + addEvidence "
        "and a submit createCooperationRequest + submitCooperationRequest"
    )
    typer.echo("")
    typer.echo(report.table(outcomes))
    extra = report.extra_costs(outcomes)
    if extra:
        typer.echo("")
        typer.echo("What a workload adds to another, per operation, measured in the same run:")
        for line in extra:
            typer.echo(f"- {line}")
    failures = report.errors(outcomes)
    for line in failures:
        say(f"error: {line}")
    if failures:
        raise typer.Exit(1)


def _federation(engines: tuple[str, ...], options: federation.Options) -> None:
    """Run the outbox benchmark on each engine, print its table; exit 1 on any problem."""
    results = [federation.run(engine, options) for engine in engines]
    postgres = databases.postgres_version() if "postgres" in engines else None
    typer.echo(f"casehub federation outbox: {report.machine(postgres)}")
    typer.echo(
        "federation.ping messages queued at hub A, one transaction each, delivered by rounds "
        "back to back to hub B (a casehub process on loopback), each acknowledged and checked; "
        "msg/s from the first queued to the last acknowledged; latency from queued to "
        "acknowledged"
    )
    typer.echo("")
    typer.echo(federation.table(results))
    problems = [f"{result.engine}: {problem}" for result in results for problem in result.problems]
    for line in problems:
        say(f"error: {line}")
    if problems:
        raise typer.Exit(1)
