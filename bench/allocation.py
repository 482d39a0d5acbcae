"""Finalising allocations on PostgreSQL and Redis: 5,000 cement facilities, each with a verified 2025 report
of two production units, finalised under an intensity-benchmark plan by two real Celery worker processes.

Figures: the wall time from the ``finalise`` request until the run is completed (goal < 30 s with 2
workers), the idempotent re-run (which changes nothing), and, as the baseline measured in the same run,
the same finalisation done in this one process (:func:`mrv.services.allocation.run_inline`) after the
allocations are cleared. The verified reports are written in bulk (their stored figures from one engine
calculation: only the stored figures are read by allocation). The benchmark uses a database of its own
(``mrv_bench_allocation``, recreated every run) and a Redis queue of its own.
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
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import report
from bench.reports import fresh_database

FACILITIES = 5_000
BENCH_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_bench_allocation"
BENCH_BROKER = "redis://127.0.0.1:6379/0"
GOAL_S = 30.0
DEADLINE_S = 600.0
ROOT = Path(__file__).resolve().parent.parent


def _environment(queue: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": os.environ.get("BENCH_ALLOCATION_DATABASE_URL", BENCH_DATABASE),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", BENCH_BROKER),
        "MRV_TASK_QUEUE": queue,
        "MRV_LOG_LEVEL": "WARNING",
    }


def run() -> dict[str, float]:
    from django.apps import apps

    if apps.ready:  # another benchmark of this process configured Django: run in a fresh process
        with tempfile.TemporaryDirectory() as folder:
            figures = Path(folder) / "figures.json"
            code = (
                f"import json, bench.allocation as b; open({str(figures)!r}, 'w').write(json.dumps(b.run()))"
            )
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
            return dict(json.loads(figures.read_text()))
    return _run()


def _lines(unit: str, clinker: int) -> list[dict[str, Any]]:
    def q(value: int, unit_: str) -> dict[str, str]:
        return {"value": str(value), "unit": unit_}

    return [
        {
            "source": "clinker_default",
            "clinker": q(clinker, "t"),
            "emission_factor": q(1, "tCO2/t"),
            "unit": unit,
        },
        {
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": q(clinker, "GJ"),
            "emission_factor": {"value": "0.1", "unit": "tCO2/GJ"},
            "unit": unit,
        },
        {"source": "production", "product": "clinker", "quantity": q(clinker, "t"), "unit": unit},
    ]


def _seed(regulator: Any, operator: Any) -> None:
    """5,000 facilities, each with a verified 2025 annual report (bulk: the figures allocation reads)."""
    from django.utils import timezone

    import accounting
    from mrv.domain.canonical import jsonable
    from mrv.models import Facility, Membership, Report, ReportRevision, VerificationJob
    from mrv.services.organisations import organisation_create, placeholder_credit_code

    calculation = accounting.calculate(
        {"sector": "cement", "year": 2025, "lines": [*_lines("kiln-1", 600_000), *_lines("kiln-2", 400_000)]}
    )
    summary = calculation.as_summary()
    totals = jsonable(
        {"totals": summary["totals"], "intensity": summary["intensity"], "units": summary["units"]}
    )
    organisation = Membership.objects.get(user=operator).organisation
    body = organisation_create(
        name="Bench Verifier",
        kind="verification_body",
        credit_code=placeholder_credit_code(name="Bench Verifier"),
    )
    facilities = Facility.objects.bulk_create(
        Facility(
            name=f"cement plant {i}",
            operator=organisation,
            sector="cement",
            province=("CN-JS", "CN-HE", "CN-SD", "CN-NM")[i % 4],
            verification_body=body,
        )
        for i in range(FACILITIES)
    )
    reports = Report.objects.bulk_create(
        Report(
            facility=f,
            sector="cement",
            province=f.province,
            year=2025,
            created_by=operator,
            status="verified",
        )
        for f in facilities
    )
    revisions = ReportRevision.objects.bulk_create(
        ReportRevision(
            report=r,
            number=1,
            status="verified",
            methodology=calculation.methodology.code,
            methodology_version=calculation.methodology.version,
            totals=totals,
            line_count=6,
            created_by=operator,
        )
        for r in reports
    )
    now = timezone.now()
    VerificationJob.objects.bulk_create(
        VerificationJob(
            revision=r,
            verification_body=body,
            check_version="bench",
            key=f"bench-{r.pk}",
            status="completed",
            opinion="verified",
            enqueued_at=now,
            completed_at=now,
        )
        for r in revisions
    )


def _run() -> dict[str, float]:
    queue = f"bench-allocation-{uuid.uuid4().hex[:12]}"
    environment = _environment(queue)
    assert environment["CELERY_BROKER_URL"].startswith("redis://"), "the benchmark needs the Redis broker"
    os.environ.update(environment)
    fresh_database(environment["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    import redis
    from django.db import connection

    from mrv.models import Allocation, AllocationRun, ComplianceStatus
    from mrv.services import allocation as services
    from mrv.services.users import user_create_with_token

    broker = redis.Redis.from_url(environment["CELERY_BROKER_URL"])
    operator, _ = user_create_with_token(
        username="bench-operator", role="operator", organisation_name="Bench Operator"
    )
    regulator, _ = user_create_with_token(
        username="bench-regulator", role="regulator", organisation_name="Bench Authority"
    )
    setup_start = time.perf_counter()
    _seed(regulator, operator)
    plan = services.plan_create(
        by=regulator,
        code="BENCH-2025",
        year=2025,
        rules={
            "clinker": {
                "method": "intensity_benchmark",
                "benchmark": {"value": "0.8", "unit": "tCO2/t"},  # a benchmark figure for the benchmark only
                "factors": {"a": "0.95", "b": "1.02"},
            }
        },
        preallocation_share=Decimal("0.7"),
        offset_limit_share=Decimal("0.05"),
        surrender_due=date(2026, 12, 31),
    )
    plan = services.plan_publish(by=regulator, plan=plan)
    setup_s = time.perf_counter() - setup_start

    folder = Path(tempfile.mkdtemp(prefix="bench-allocation-"))
    base = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING", "--pool=solo",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue,
    ]  # fmt: skip
    env = {**os.environ, **environment}
    workers: list[subprocess.Popen[bytes]] = []

    def finalise() -> tuple[float, AllocationRun]:
        start = time.perf_counter()
        run = services.run_create(
            by=regulator, plan=plan, kind="finalise"
        )  # published at once (no transaction)
        while True:
            run.refresh_from_db()
            if run.status in ("completed", "failed"):
                break
            assert all(w.poll() is None for w in workers), f"a worker exited: logs in {folder}"
            assert time.perf_counter() - start < DEADLINE_S, (
                f"not done after {DEADLINE_S:.0f} s: logs in {folder}"
            )
            time.sleep(0.05)
        assert run.status == "completed", f"run failed: {run.failure_reason}"
        return time.perf_counter() - start, run

    try:
        for n in (1, 2):
            with (folder / f"worker-{n}.stderr").open("wb") as stderr:
                workers.append(
                    subprocess.Popen(
                        [*base, "-n", f"bench{n}@%h", f"--logfile={folder}/worker-{n}.log"],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                        start_new_session=True,
                    )
                )
        time.sleep(3)  # the workers connect (not timed)
        first_s, first = finalise()
        rows = Allocation.objects.count()
        assert rows == 2 * FACILITIES and first.changed == rows, (rows, first.changed)
        again_s, again = finalise()
        assert again.changed == 0
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
    shutil.rmtree(folder)

    Allocation.objects.all().delete()
    ComplianceStatus.objects.all().delete()
    start = time.perf_counter()
    inline = services.run_inline(
        run_id=services.run_create(by=regulator, plan=plan, kind="finalise", enqueue=False).pk
    )
    inline_s = time.perf_counter() - start
    assert inline.changed == 2 * FACILITIES
    report(
        f"allocation on {connection.vendor} + Redis: finalising {FACILITIES:,} facilities x 2 production units "
        f"({len(first.ranges)} batches of {services.BATCH}), 2 solo workers",
        [
            ("setup (bulk verified reports, plan; not timed below)", f"{setup_s:6.2f} s"),
            (
                "finalise: request to run completed",
                f"{first_s:6.2f} s  ({FACILITIES / first_s:6.0f} facilities/s; goal < {GOAL_S:.0f} s)",
            ),
            ("re-run (idempotent: 0 rows changed)", f"{again_s:6.2f} s"),
            ("baseline: the same finalisation in one process", f"{inline_s:6.2f} s"),
            ("speed-up of the 2 workers over one process", f"{inline_s / first_s:6.2f} x"),
        ],
    )
    return {"finalise_s": first_s, "rerun_s": again_s, "inline_s": inline_s}
