"""Nothing stuck: every job ends in a named state with its reason, or moves on.

Time limits, the redelivery cap, the sweeper of verification and import jobs, the regulator's re-run,
the catch-all of a background import, a broker down at submit, and imports on a queue of their own.
The tests with real workers (tests/mrv/workers.py: separate ``celery worker`` processes on a Redis of
the test's own) make a run slow from outside: a lock held in another database session, never a
change to our code.
"""

from __future__ import annotations

import io
import logging
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from config.celery import app
from mrv.models import ActivityLine, AuditEvent, Finding, ImportJob, VerificationJob
from mrv.services.imports import import_jobs_sweep
from mrv.services.verification import checks_run, jobs_requeue_stuck
from mrv.tasks import import_lines, run_verification_checks, sweep_stuck_jobs
from tests.mrv.factories import World
from tests.mrv.queues import own_queue, taken
from tests.mrv.reporting_helpers import lines, report_body
from tests.mrv.verification_helpers import plausible_cement
from tests.mrv.workers import Workers, blocked_by, forget_broker_connections, lock_holder


# -- helpers -------------------------------------------------------------------------------------------------
def submit(
    world: World,
    job_lines: list[dict[str, Any]] | None = None,
    *,
    operator: str = "operator_a",
    year: int = 2024,
) -> Any:
    """A report of ``operator``'s facility submitted through the API (202); its verification job."""
    client = world.client(operator)
    facility = world.facility_a if operator == "operator_a" else world.facility_b
    body = report_body(facility, year=year)
    if job_lines is not None:
        body["lines"] = job_lines
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    submitted = client.post(
        f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
    )
    assert submitted.status_code == 202, submitted.content
    return VerificationJob.objects.get(revision__report_id=report.json()["id"], kind="verification")


def draft(world: World) -> int:
    """A draft of operator A's (another year than the submitted reports') with one line."""
    body = report_body(world.facility_a, year=2023)
    body["lines"] = body["lines"][:1]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def import_in_background(world: World, report: int, name: str, content: bytes) -> int:
    response = world.client("operator_a").post(
        f"/api/v1/reports/{report}/lines/import/?background=true",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    return int(response.json()["id"])


def template(world: World) -> bytes:
    response = world.client("operator_a").get("/api/v1/reports/lines/template/?sector=cement&format=xlsx")
    assert response.status_code == 200
    return bytes(response.content)


def truncated_sheet() -> bytes:
    """A workbook whose sheet XML stops half-way: the archive and workbook open, the rows do not parse
    (the XML parser raises while the rows are read)."""
    workbook = Workbook()
    workbook.active.append(["ref", "source", "quantity", "quantity_unit"])
    workbook.active.append(["coal", "fuel_combustion", "10", "t"])
    whole = io.BytesIO()
    workbook.save(whole)
    source = zipfile.ZipFile(io.BytesIO(whole.getvalue()))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            archive.writestr(member, data)
    return broken.getvalue()


def verification(job: VerificationJob) -> tuple[str, str, int]:
    job.refresh_from_db()
    return job.status, job.failure_reason, job.attempts


def import_job(job_id: int) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


# -- the catch-all of a background import ---------------------------------------------------------------------
@pytest.mark.django_db
def test_an_import_of_a_damaged_workbook_ends_failed_with_the_reason(world: World) -> None:
    report = draft(world)
    job_id = import_in_background(world, report, "lines.xlsx", truncated_sheet())
    result = import_lines.apply(args=[job_id])  # what a worker runs
    assert result.successful() and result.get() == "failed"
    body = world.client("operator_a").get(f"/api/v1/import-jobs/{job_id}/").json()
    assert body["status"] == "failed" and body["progress"] == 100 and body["finished_at"]
    # the damaged sheet is named as such (it used to escape the reader as the XML parser's ParseError)
    assert body["outcome"]["code"] == "invalid_request", body["outcome"]
    assert "damaged" in body["outcome"]["detail"], body["outcome"]
    assert ActivityLine.objects.filter(revision__report_id=report).count() == 1, "nothing stored"
    assert import_job(job_id).attempts == 1
    assert import_lines.apply(args=[job_id]).get() == "skipped: import is failed"


# -- the redelivery cap -------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_job_delivered_again_after_its_attempts_is_failed_instead_of_run(
    world: World, settings: Any
) -> None:
    settings.MRV_JOB_MAX_ATTEMPTS = 2
    job = submit(world, plausible_cement())
    # Two runs started and never finished (each worker killed mid-run): the job is left running.
    VerificationJob.objects.filter(pk=job.pk).update(status="running", attempts=2, started_at=timezone.now())
    assert run_verification_checks.apply(args=[job.pk]).get() == "failed: gave up"
    status, reason, attempts = verification(job)
    assert (status, attempts) == ("failed", 2)
    assert reason.startswith("gave up: 2 run(s) started and none finished"), reason
    assert not Finding.objects.filter(job=job).exists()
    assert checks_run(job_id=job.pk) == "skipped: job is failed"

    report = draft(world)
    job_id = import_in_background(world, report, "lines.xlsx", template(world))
    ImportJob.objects.filter(pk=job_id).update(status="running", attempts=2)
    assert import_lines.apply(args=[job_id]).get() == "failed"
    imported = import_job(job_id)
    assert (imported.status, imported.attempts, imported.outcome["code"]) == ("failed", 2, "gave_up")
    assert ActivityLine.objects.filter(revision__report_id=report).count() == 1, "the file was not imported"


@pytest.mark.django_db
def test_below_the_cap_a_job_delivered_again_runs(world: World, settings: Any) -> None:
    settings.MRV_JOB_MAX_ATTEMPTS = 2
    job = submit(world, plausible_cement())
    VerificationJob.objects.filter(pk=job.pk).update(status="running", attempts=1, started_at=timezone.now())
    assert run_verification_checks.apply(args=[job.pk]).get().startswith("done")
    assert verification(job)[0::2] == ("awaiting_review", 2)


# -- the sweeper -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_sweeper_fails_jobs_running_past_their_time_limit_and_publishes_waiting_ones(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    stale = submit(world, plausible_cement())
    VerificationJob.objects.filter(pk=stale.pk).update(status="running", attempts=1, started_at=long_ago)
    fresh = submit(world, report_body(world.facility_b)["lines"], operator="operator_b")
    VerificationJob.objects.filter(pk=fresh.pk).update(
        status="running", attempts=1, started_at=timezone.now()
    )
    report = draft(world)
    running_import = import_in_background(world, report, "lines.xlsx", template(world))
    ImportJob.objects.filter(pk=running_import).update(status="running", attempts=1, started_at=long_ago)
    waiting = import_in_background(world, report, "lines.xlsx", template(world))
    ImportJob.objects.filter(pk=waiting).update(enqueued_at=long_ago)

    with own_queue() as queue:
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                jobs_requeue_stuck(older_than=timedelta(minutes=5), running_older_than=timedelta(hours=1))
                == 1
            )
            swept = import_jobs_sweep(queued_for=timedelta(minutes=5), running_for=timedelta(hours=1))
        assert swept == {"requeued": 1, "failed": 1}
        assert taken(queue) == [("mrv.import_lines", [waiting])], "only the waiting import is published again"

    status, reason, _ = verification(stale)
    assert status == "failed"
    assert reason.startswith("timed out: no outcome 3600 s after its run started"), reason
    assert verification(fresh)[0] == "running", "a run younger than the cutoff is left alone"
    failed = import_job(running_import)
    assert failed.status == "failed" and failed.outcome["code"] == "timed_out" and failed.finished_at
    assert import_job(waiting).status == "queued" and import_job(waiting).enqueued_at > long_ago


# -- the regulator's re-run -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_regulator_reruns_a_failed_job_audited(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    job = submit(world, plausible_cement())
    VerificationJob.objects.filter(pk=job.pk).update(
        status="failed", attempts=3, started_at=timezone.now(), failure_reason="timed out: test"
    )
    url = f"/api/v1/verification-jobs/{job.pk}/rerun/"
    for name in ("verifier_a", "operator_a"):  # who may see the job, but not run it again
        refused = world.client(name).post(url)
        assert refused.status_code == 403 and refused["Content-Type"].startswith("application/problem+json")
    assert world.client("verifier_b").post(url).status_code == 404  # another body's job

    with own_queue() as queue:
        with django_capture_on_commit_callbacks(execute=True):
            response = world.client("regulator").post(url)
        assert response.status_code == 202, response.content
        assert taken(queue) == [("mrv.run_verification_checks", [job.pk])]
    body = response.json()
    assert (body["status"], body["attempts"], body["failure_reason"]) == ("queued", 0, None)
    event = AuditEvent.objects.get(action="job.rerun", object_id=str(job.pk))
    assert event.actor_id == world.regulator.user.pk
    assert event.data == {"kind": "verification", "failure_reason": "timed out: test", "attempts": 3}

    again = world.client("regulator").post(url)
    assert again.status_code == 409 and "only a failed job" in again.json()["detail"]
    assert run_verification_checks.apply(args=[job.pk]).get().startswith("done")
    assert verification(job)[0::2] == ("awaiting_review", 1)


# -- queues ------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_imports_are_published_on_the_import_queue(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with own_queue() as checks:
        imports = settings.MRV_IMPORT_QUEUE = f"{checks}-imports"
        with django_capture_on_commit_callbacks(execute=True):
            job = submit(world, plausible_cement())
            report = draft(world)
            job_id = import_in_background(world, report, "lines.xlsx", template(world))
        assert taken(checks) == [("mrv.run_verification_checks", [job.pk])]
        assert taken(imports) == [("mrv.import_lines", [job_id])]


# -- real workers: time limits ---------------------------------------------------------------------------------
#: The workers of these tests wait on a held lock as long as it is held (no lock_timeout): only the
#: time limit under test ends the wait.
WAIT_ON_LOCKS = {"MRV_DB_LOCK_TIMEOUT_MS": "0"}


def _hold(holder: Any, statement: str, *params: Any) -> None:
    holder.execute(statement, params or None)


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_a_job_past_its_hard_time_limit_ends_failed(tx_world: World, workers: Workers) -> None:
    job = submit(tx_world, plausible_cement())
    holder = lock_holder()
    try:
        # The checks read the revision's lines; nothing can while the table is locked: the run waits.
        _hold(holder, "LOCK TABLE mrv_activityline IN ACCESS EXCLUSIVE MODE")
        workers.start(
            pool="prefork", env={**WAIT_ON_LOCKS, "MRV_TASK_SOFT_TIME_LIMIT": "0", "MRV_TASK_TIME_LIMIT": "2"}
        )
        workers.wait_until(lambda: blocked_by(holder), "the run waiting on the held lock")
        workers.wait_until(lambda: verification(job)[0] == "failed", "the job to fail at its hard limit")
    finally:
        holder.rollback()
        holder.close()
    _, reason, attempts = verification(job)
    assert reason == "timed out: stopped at its hard time limit of 2 s", reason
    assert attempts == 1
    assert "Hard time limit (2" in workers.output()


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_a_job_past_its_soft_time_limit_ends_failed_and_runs_again_when_the_regulator_says(
    tx_world: World, workers: Workers
) -> None:
    job = submit(tx_world, plausible_cement())
    holder = lock_holder()
    try:
        _hold(holder, "LOCK TABLE mrv_activityline IN ACCESS EXCLUSIVE MODE")
        slow = workers.start(
            pool="prefork",
            env={**WAIT_ON_LOCKS, "MRV_TASK_SOFT_TIME_LIMIT": "2", "MRV_TASK_TIME_LIMIT": "600"},
        )
        workers.wait_until(lambda: blocked_by(holder), "the run waiting on the held lock")
        workers.wait_until(lambda: verification(job)[0] == "failed", "the job to fail at its soft limit")
    finally:
        holder.rollback()
        holder.close()
    assert verification(job)[1] == "timed out: ran past its time limit of 2 s", verification(job)
    slow.stop()

    workers.start(pool="prefork")
    response = tx_world.client("regulator").post(f"/api/v1/verification-jobs/{job.pk}/rerun/")
    assert response.status_code == 202, response.content
    workers.wait_until(lambda: verification(job)[0] == "awaiting_review", "the re-run to complete")
    assert verification(job)[2] == 1
    assert AuditEvent.objects.filter(action="job.rerun", object_id=str(job.pk)).count() == 1


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_an_import_past_its_soft_time_limit_ends_failed(tx_world: World, workers: Workers) -> None:
    report = draft(tx_world)
    job_id = import_in_background(tx_world, report, "lines.xlsx", template(tx_world))
    holder = lock_holder()
    try:
        _hold(holder, "SELECT id FROM mrv_report WHERE id = %s FOR UPDATE", report)  # the draft, locked
        workers.start(
            pool="prefork",
            env={**WAIT_ON_LOCKS, "MRV_IMPORT_SOFT_TIME_LIMIT": "2", "MRV_IMPORT_TIME_LIMIT": "600"},
        )
        workers.wait_until(lambda: blocked_by(holder), "the import waiting on the held lock")
        workers.wait_until(lambda: import_job(job_id).status == "failed", "the import to fail at its limit")
    finally:
        holder.rollback()
        holder.close()
    outcome = import_job(job_id).outcome
    assert outcome["code"] == "timed_out", outcome
    assert outcome["detail"].startswith("timed out: the import ran past its time limit of 2 s"), outcome
    assert ActivityLine.objects.filter(revision__report_id=report).count() == 1, "nothing stored"


# -- real workers: the broker down at submit ---------------------------------------------------------------------
@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_a_submit_while_the_broker_is_down_is_processed_once_it_is_back(
    tx_world: World, workers: Workers, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    report = draft(tx_world)
    workers.broker.crash()  # nothing listens on the broker's port any more
    forget_broker_connections()
    assert not workers.broker.up()
    with caplog.at_level(logging.WARNING, logger="mrv.services.background"):
        job = submit(tx_world, plausible_cement())  # 202 (asserted inside)
        job_id = import_in_background(tx_world, report, "lines.xlsx", template(tx_world))  # 202
    failed_publishes = [r.getMessage() for r in caplog.records if "could not publish" in r.getMessage()]
    assert len(failed_publishes) == 2, failed_publishes
    assert verification(job)[0] == "queued" and import_job(job_id).status == "queued"

    workers.broker.start()  # back, on the same port, empty
    forget_broker_connections()
    workers.start()
    settings.MRV_JOB_STUCK_SECONDS = 0
    assert sweep_stuck_jobs() == 2  # what Celery beat runs every MRV_SWEEP_INTERVAL_SECONDS
    workers.wait_until(lambda: verification(job)[0] == "awaiting_review", "the submitted report checked")
    workers.wait_until(lambda: import_job(job_id).status == "completed", "the import done")
    assert verification(job)[2] == 1 and import_job(job_id).attempts == 1
    assert ActivityLine.objects.filter(revision__report_id=report).count() == len(lines("cement"))


# -- real workers: a blocked import does not hold another tenant's verification ----------------------------------
@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_an_import_that_never_ends_does_not_delay_another_tenants_verification(
    tx_world: World, workers: Workers, settings: Any
) -> None:
    imports = settings.MRV_IMPORT_QUEUE = f"{workers.queue}-imports-{uuid.uuid4().hex[:6]}"
    report = draft(tx_world)
    holder = lock_holder()
    try:
        job_id = import_in_background(tx_world, report, "lines.xlsx", template(tx_world))
        _hold(holder, "SELECT id FROM mrv_report WHERE id = %s FOR UPDATE", report)
        workers.start(queue=imports, env={**WAIT_ON_LOCKS, "MRV_IMPORT_QUEUE": imports})
        workers.start()
        workers.wait_until(lambda: blocked_by(holder), "the import worker busy with the import")
        other = submit(tx_world, report_body(tx_world.facility_b)["lines"], operator="operator_b")
        workers.wait_until(lambda: verification(other)[0] == "awaiting_review", "the other tenant's checks")
        assert import_job(job_id).status == "running", "the import is still going on"
    finally:
        holder.rollback()
        holder.close()
    workers.wait_until(lambda: import_job(job_id).status == "completed", "the import to finish once free")
    assert app.conf.task_default_queue == workers.queue
