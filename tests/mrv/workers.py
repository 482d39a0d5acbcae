"""Real Celery workers for tests: separate ``celery worker`` processes on a queue of the test's own,
connected to the test database that pytest-django created, with a ``redis-server`` of the test's own
as broker (tests/mrv/own_redis.py). The fixtures ``own_redis`` and ``workers`` (tests/mrv/conftest.py)
start them and stop every one afterwards.

A worker runs the solo pool by default (one process: SIGKILL reaches the run itself); ``pool="prefork"``
gives a main process and one child, which is what enforces time limits (the main process kills a
child past its hard limit and reports it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu.pools
import psycopg
import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from tests.mrv.own_redis import OwnRedis

#: Seconds a worker may take to pick a message and finish a job before a test gives up.
DEADLINE = 45.0


def worker_database_url() -> str:
    """``DATABASE_URL`` of the database this test runs on (pytest-django's ``test_...`` copy)."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        credentials += ":" + quote(s["PASSWORD"], safe="")
    host = quote(s["HOST"] or "localhost", safe="")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(s['NAME'], safe='')}"


def forget_broker_connections() -> None:
    """Make this process's Celery app connect afresh to the broker its configuration names now."""
    kombu.pools.reset()  # closes this process's pooled broker connections and forgets the pools
    app._pool = None
    app.amqp._producer_pool = None


@dataclass
class Worker:
    """One ``celery worker`` process (and its children) in a session (process group) of its own."""

    queue: str
    log: Path
    env: dict[str, str]
    pool: str = "solo"
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        pool = ["--pool=solo"] if self.pool == "solo" else [f"--pool={self.pool}", "--concurrency=1"]
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", *pool, "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", self.queue,
            "-n", f"{self.log.stem}@%h", f"--logfile={self.log}",
        ]  # fmt: skip
        with self.log.with_suffix(".stderr").open("wb") as stderr:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # a process group of its own: kill() reaches every process
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: no warm shutdown, no acknowledgement, no cleanup."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()  # warm shutdown: a running task is finished first
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        text = ""
        for path in (self.log, self.log.with_suffix(".stderr")):
            if path.exists():
                text += path.read_text(encoding="utf-8", errors="replace")
        return text[-4000:]


@dataclass
class Workers:
    """Starts workers on this test's queue against the test database; every one is stopped afterwards.

    Imports are routed to the same queue (``MRV_IMPORT_QUEUE``), in this process and in the workers.
    """

    queue: str
    folder: Path
    broker: OwnRedis
    started: list[Worker] = field(default_factory=list)

    def start(
        self,
        *,
        visibility_timeout: int | None = None,
        pool: str = "solo",
        env: dict[str, str] | None = None,
        queue: str | None = None,
    ) -> Worker:
        """A worker consuming ``queue`` (this test's by default), with ``env`` over the defaults."""
        environment = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": self.broker.url,
            "MRV_TASK_QUEUE": self.queue,
            "MRV_IMPORT_QUEUE": self.queue,
            "MRV_LOG_LEVEL": "INFO",
            **(env or {}),
        }
        if visibility_timeout is not None:
            environment["MRV_BROKER_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        log = self.folder / f"worker-{len(self.started) + 1}.log"
        worker = Worker(queue=queue or self.queue, log=log, env=environment, pool=pool).start()
        self.started.append(worker)
        return worker

    def output(self) -> str:
        return "\n".join(f"--- {w.log.name}\n{w.output()}" for w in self.started)

    def wait_until(self, condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
        """Poll ``condition`` (a database query, usually) until it is truthy; fail at the deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        pytest.fail(f"not within {timeout:.0f} s: {what}\n{self.output()}")


def lock_holder() -> psycopg.Connection[Any]:
    """A session of its own on the test database (not Django's), to hold locks from outside."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
    )


def blocked_by(holder: psycopg.Connection[Any]) -> int:
    """How many other sessions wait for a lock ``holder`` holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [holder.info.backend_pid],
        )
        return int(cursor.fetchone()[0])
