"""Verification throughput on PostgreSQL and Redis: 1,000 submitted 50-line annual reports (cement, steel
and aluminium facilities) created through the services, then checked by real Celery worker processes.

Figures: creating and submitting the reports (with the time spent publishing their 1,000 messages to
Redis), then the wall time from starting the workers until every job is awaiting review (goal < 120 s).
The benchmark uses a database of its own (``mrv_bench_verification``, recreated every run) and a Redis
queue of its own, so it never touches the service's data or queues.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import report
from bench.reports import fresh_database
from bench.workload import sector_report

REPORTS = 1_000
LINES = 50
SECTORS = ("cement", "steel", "aluminium")
#: Two worker processes: one prefork worker with two children (``prefork``) or two solo workers (``solo``).
POOL = os.environ.get("BENCH_WORKER_POOL", "prefork")
BENCH_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_bench_verification"
BENCH_BROKER = "redis://127.0.0.1:6379/0"
GOAL_S = 120.0
DEADLINE_S = 600.0
ROOT = Path(__file__).resolve().parent.parent


def _environment(queue: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": os.environ.get("BENCH_VERIFICATION_DATABASE_URL", BENCH_DATABASE),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", BENCH_BROKER),
        "MRV_TASK_QUEUE": queue,
        "MRV_LOG_LEVEL": "WARNING",
    }


def run() -> dict[str, float]:
    from django.apps import apps

    if apps.ready:
        # Another benchmark of this process configured Django on its own database: run in a fresh one.
        with tempfile.TemporaryDirectory() as folder:
            figures = Path(folder) / "figures.json"
            code = f"import json, bench.verification as b; open({str(figures)!r}, 'w').write(json.dumps(b.run()))"
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
            return dict(json.loads(figures.read_text()))
    return _run()


def _run() -> dict[str, float]:
    queue = f"bench-verification-{uuid.uuid4().hex[:12]}"
    environment = _environment(queue)
    assert environment["CELERY_BROKER_URL"].startswith("redis://"), "the benchmark needs the Redis broker"
    os.environ.update(environment)
    fresh_database(environment["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    import redis
    from celery.signals import after_task_publish, before_task_publish
    from django.db import connection
    from django.db.models import Count

    from mrv.models import Membership, VerificationJob
    from mrv.services.facilities import facility_create
    from mrv.services.reports import report_create, report_submit
    from mrv.services.users import user_create_with_token

    broker = redis.Redis.from_url(environment["CELERY_BROKER_URL"])
    operator, _ = user_create_with_token(
        username="bench-operator", role="operator", organisation_name="Bench Operator"
    )
    regulator, _ = user_create_with_token(
        username="bench-regulator", role="regulator", organisation_name="Bench Authority"
    )
    organisation = Membership.objects.get(user=operator).organisation
    setup_start = time.perf_counter()
    facilities = [
        facility_create(
            by=regulator,
            name=f"{SECTORS[i % len(SECTORS)]} plant {i}",
            operator=organisation,
            sector=SECTORS[i % len(SECTORS)],
            province="CN-JS",
        )
        for i in range(REPORTS)
    ]
    setup_s = time.perf_counter() - setup_start
    variants = {
        (sector, seed): sector_report(sector, LINES, seed=seed) for sector in SECTORS for seed in range(10)
    }

    # -- create and submit: one annual report per facility; each submit publishes one message ---------------
    publishing: dict[str, float] = {}
    published: list[float] = []

    def before(headers: Any = None, **_: Any) -> None:
        publishing[headers["id"]] = time.perf_counter()

    def after(headers: Any = None, **_: Any) -> None:
        published.append(time.perf_counter() - publishing.pop(headers["id"]))

    before_task_publish.connect(before, weak=False)
    after_task_publish.connect(after, weak=False)
    create_s = submit_s = 0.0
    try:
        for i, facility in enumerate(facilities):
            lines = variants[(facility.sector, i % 10)]
            start = time.perf_counter()
            draft = report_create(
                by=operator, facility=facility, year=2024, month=None, methodology=None, lines=lines
            )
            middle = time.perf_counter()
            report_submit(by=operator, report=draft.report)
            create_s += middle - start
            submit_s += time.perf_counter() - middle
    finally:
        before_task_publish.disconnect(before)
        after_task_publish.disconnect(after)
    publish_s = sum(published)
    assert len(published) == REPORTS, f"{len(published)} messages published for {REPORTS} submits"
    assert broker.llen(queue) == REPORTS, "every job's message should wait in the queue"
    assert VerificationJob.objects.filter(status="queued").count() == REPORTS

    # -- two worker processes on the queue, against the benchmark database -------------------------------------
    folder = Path(tempfile.mkdtemp(prefix="bench-verification-"))
    base = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue,
    ]  # fmt: skip
    if POOL == "solo":
        commands = [
            [*base, "--pool=solo", "-n", f"bench{n}@%h", f"--logfile={folder}/worker-{n}.log"] for n in (1, 2)
        ]
    else:
        commands = [
            [*base, "--pool=prefork", "--concurrency=2", "-n", "bench@%h", f"--logfile={folder}/worker.log"]
        ]
    env = {**os.environ, **environment}
    workers: list[subprocess.Popen[bytes]] = []
    start = time.perf_counter()
    first_s = None
    try:
        for n, command in enumerate(commands, 1):
            with (folder / f"worker-{n}.stderr").open("wb") as stderr:
                workers.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                        start_new_session=True,
                    )
                )
        done = 0
        while True:
            counts = dict(VerificationJob.objects.values_list("status").order_by().annotate(n=Count("id")))
            done = counts.get("awaiting_review", 0)
            if first_s is None and counts.get("queued", 0) < REPORTS:
                first_s = time.perf_counter() - start
            if done == REPORTS:
                break
            failed = counts.get("failed", 0)
            assert not failed, f"{failed} job(s) failed: logs in {folder}"
            assert all(w.poll() is None for w in workers), f"a worker exited: logs in {folder}"
            assert time.perf_counter() - start < DEADLINE_S, f"{done}/{REPORTS} done after {DEADLINE_S:.0f} s"
            time.sleep(0.1)
        total_s = time.perf_counter() - start
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        broker.delete(queue)
    shutil.rmtree(folder)  # the workers' logs, kept above only when something failed
    rerun = VerificationJob.objects.filter(attempts__gt=1).count()
    processing_s = total_s - (first_s or 0.0)
    workers_label = "2 solo workers" if POOL == "solo" else "1 prefork worker, concurrency 2"
    report(
        f"verification on {connection.vendor} + Redis: {REPORTS:,} submitted {LINES}-line annual reports "
        f"({', '.join(SECTORS)}), {workers_label}",
        [
            ("facilities (setup, not timed below)", f"{setup_s:6.2f} s"),
            (
                f"report_create x {REPORTS:,}",
                f"{create_s:6.2f} s  ({REPORTS / create_s:5.0f} reports/s)",
            ),
            (
                f"report_submit x {REPORTS:,} (with publish)",
                f"{submit_s:6.2f} s  ({REPORTS / submit_s:5.0f} reports/s)",
            ),
            (
                f"  of which publishing {REPORTS:,} messages",
                f"{publish_s:6.2f} s  ({publish_s / REPORTS * 1000:5.2f} ms each)",
            ),
            ("workers: start to first job taken", f"{first_s or 0.0:6.2f} s"),
            (
                f"workers: start to all {REPORTS:,} awaiting review",
                f"{total_s:6.2f} s  ({REPORTS / total_s:5.1f} reports/s; goal < {GOAL_S:.0f} s)",
            ),
            (
                "  from the first job taken",
                f"{processing_s:6.2f} s  ({REPORTS / processing_s:5.1f} reports/s)",
            ),
            ("jobs run more than once", f"{rerun:6d}"),
        ],
    )
    return {
        "create_s": create_s,
        "submit_s": submit_s,
        "publish_s": publish_s,
        "checks_total_s": total_s,
        "checks_reports_per_s": REPORTS / total_s,
    }
