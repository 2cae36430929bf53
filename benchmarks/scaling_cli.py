"""`python -m benchmarks --scaling` (`make bench-scaling`): run the write-scaling points and
print their table and the issue's targets."""

from __future__ import annotations

import typer

from benchmarks import databases, report, scaling, scaling_report
from benchmarks.console import say


def connection_counts(given: str) -> tuple[int, ...]:
    """The connection counts of a comma-separated list, e.g. "16,64"."""
    try:
        counts = tuple(int(part) for part in given.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise typer.BadParameter(
            "give positive integers, e.g. 16,64", param_hint="--scaling-connections"
        )
    return counts


def scale(cases: int, duration: float, connections: str, *, bulk: bool) -> None:
    """Measure every point, print the table and the targets; exit 1 if any write failed."""
    options = scaling.Options(cases, bulk, connection_counts(connections), duration)
    points = scaling.run(options)
    typer.echo(f"casehub write scaling: {report.machine(databases.postgres_version())}")
    typer.echo(
        f"{cases:,} cases, {duration:g} s per point; a write is openCase + addSubject + "
        "addEvidence; connections dealt round-robin over the replicas; lock columns: means of "
        "PostgreSQL samples every 0.1 s; host CPU idle: all CPUs; client CPU: the load "
        "generator, share of one CPU; of floor: casehub / floor at the same replicas and "
        "connections"
    )
    typer.echo("")
    typer.echo(scaling_report.table(points))
    typer.echo("")
    for line in scaling_report.targets(points):
        typer.echo(line)
    failures = scaling_report.errors(points)
    for line in failures:
        say(f"error: {line}")
    if failures:
        raise typer.Exit(1)
