"""Timing helpers: medians of repeated runs, printed as a small table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(function: Callable[[], Any], *, repeat: int = 5, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time in seconds over ``repeat`` runs (after ``warmup``), and the last result."""
    result = None
    for _ in range(warmup):
        result = function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def interleaved(
    functions: list[Callable[[], Any]],
    *,
    rounds: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median time of each function (wall time, or ``clock``: ``time.process_time`` for the CPU time of
    this process, which other processes on a shared machine disturb less), timing them in turn within
    every round."""
    for _ in range(warmup):
        for function in functions:
            function()
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(rounds):
        for index, function in enumerate(functions):
            start = clock()
            function()
            samples[index].append(clock() - start)
    return [statistics.median(times) for times in samples]


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


def django_setup(database_path: str) -> None:
    """Configure Django on a throw-away SQLite database (unless DATABASE_URL is set) and migrate it."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{database_path}")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def fresh_postgres_database(url: str) -> None:
    """Drop and create a benchmark's own PostgreSQL database (never the service's): every run starts equal."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    assert name.startswith("mrv_bench"), "benchmarks only ever recreate a database named mrv_bench*"
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
