"""Line files imported in the background: the same all-or-nothing import as the synchronous request,
run by a Celery task on the import queue (``MRV_IMPORT_QUEUE``), with its progress and outcome kept on
an ImportJob.

Nothing stays stuck: every run ends ``completed`` or ``failed`` with its reason in ``outcome``
(``{code, detail, errors}``), whatever the parser raises; a job started ``MRV_JOB_MAX_ATTEMPTS``
times without an outcome (its worker killed, out of memory, redelivered) is ``failed`` instead of
run again; the sweeper (:func:`import_jobs_sweep`) publishes a job again that waited queued too long
and ends one still running past its time limit.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from accounting.errors import AccountingError
from mrv.domain.canonical import jsonable
from mrv.errors import Conflict, ServiceError
from mrv.models import ImportJob, Report, ReportRevision
from mrv.services.background import (
    IMPORT_LINES,
    TimeLimitReached,
    drop_interrupted_connection,
    enqueue_on_commit,
)
from mrv.services.reports import lines_import

logger = logging.getLogger(__name__)
Status = ImportJob.Status


@transaction.atomic
def import_job_create(
    *, by: AbstractBaseUser, report: Report, content: bytes, file_format: str, dry_run: bool, append: bool
) -> ImportJob:
    """Accept a file for a draft and queue its import when the transaction commits."""
    latest = report.revisions.order_by("-number").first()
    if latest is None or latest.status != ReportRevision.Status.DRAFT:
        raise Conflict("lines are imported into a draft revision only; revise the report first")
    job = ImportJob.objects.create(
        report=report,
        created_by=by,
        file_format=file_format,
        content=content,
        dry_run=dry_run,
        append=append,
        enqueued_at=timezone.now(),
    )
    enqueue_on_commit(IMPORT_LINES, job.pk)
    return job


def problem(code: str, detail: str) -> dict[str, Any]:
    """The outcome of a job that failed for a reason of its own (no cell errors)."""
    return {"code": code, "detail": detail, "errors": []}


def import_job_run(*, job_id: int, retries: int = 0) -> str:
    """Run a queued import once; a finished job is left alone (safe to deliver twice). Every run that
    starts ends the job ``completed`` or ``failed`` with its reason. ``retries``: as for
    :func:`mrv.services.verification.checks_run` (runs beyond the task's retries are capped)."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("report__facility")
            .get(pk=job_id)
        )
        if job.status not in (Status.QUEUED, Status.RUNNING):
            return f"skipped: import is {job.status}"
        if job.attempts - retries >= settings.MRV_JOB_MAX_ATTEMPTS:
            _finish(job_id, Status.FAILED, gave_up(job.attempts), from_status=job.status)
            return "failed"
        job.status, job.progress, job.started_at = Status.RUNNING, 10, timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "progress", "attempts", "started_at"])
    try:
        summary = lines_import(
            by=job.created_by,
            report=job.report,
            content=bytes(job.content),
            file_format=job.file_format,
            dry_run=job.dry_run,
            append=job.append,
        )
        status, outcome = Status.COMPLETED, summary
    except (ServiceError, AccountingError) as error:
        status = Status.FAILED
        errors = [e.as_dict() if hasattr(e, "as_dict") else e for e in error.errors]
        outcome = {"code": error.code, "detail": error.detail, "errors": errors}
    except (OperationalError, InterfaceError):  # the database away for a moment: the task retries
        raise
    except TimeLimitReached:
        drop_interrupted_connection()
        status = Status.FAILED
        outcome = problem("timed_out", timed_out(settings.MRV_IMPORT_SOFT_TIME_LIMIT))
    except Exception as error:  # catch-all: whatever the parser or a library raised, the job ends
        logger.exception("import job %s stopped by an unexpected error", job_id)
        drop_interrupted_connection()
        status = Status.FAILED
        outcome = problem("import_error", f"the import stopped on an unexpected error: {describe(error)}")
    _finish(job_id, status, outcome)
    return str(status)


def timed_out(limit: float) -> str:
    return f"timed out: the import ran past its time limit of {limit:g} s; split the file or ask the operator"


def gave_up(attempts: int) -> dict[str, Any]:
    return problem(
        "gave_up",
        f"stopped after {attempts} attempt(s) that never finished (the worker was killed or lost, "
        "for example out of memory); not run again",
    )


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:500]}" if text else type(error).__name__


def _finish(job_id: int, status: str, outcome: Any, *, from_status: str = Status.RUNNING) -> bool:
    return bool(
        ImportJob.objects.filter(pk=job_id, status=from_status).update(
            status=status, progress=100, outcome=jsonable(outcome), finished_at=timezone.now()
        )
    )


def import_job_fail(*, job_id: int, code: str, detail: str, nowait: bool = False) -> bool:
    """End a queued or running import ``failed`` with ``{code, detail}`` (a task stopped from outside:
    its hard time limit, its worker lost). ``nowait``: give up at once if the row is locked (left to
    the sweeper) rather than wait; True if this call ended it."""
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update(nowait=nowait).filter(pk=job_id).first()
            if job is None or job.status not in (Status.QUEUED, Status.RUNNING):
                return False
            return _finish(job_id, Status.FAILED, problem(code, detail), from_status=job.status)
    except DatabaseError:
        if not nowait:
            raise
        logger.warning("import job %s is locked; the sweeper ends it", job_id)
        return False


def import_jobs_sweep(*, queued_for: timedelta, running_for: timedelta) -> dict[str, int]:
    """Publish again imports queued for longer than ``queued_for`` (a lost message, a broker down at
    submit); end ``failed`` those running for longer than ``running_for`` (past the hard time limit:
    nothing will finish them). Returns how many of each."""
    now = timezone.now()
    requeued = failed = 0
    waiting = ImportJob.objects.filter(status=Status.QUEUED, enqueued_at__lt=now - queued_for)
    for job_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            if ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued_at=now):
                enqueue_on_commit(IMPORT_LINES, job_id)
                requeued += 1
    stale = ImportJob.objects.filter(status=Status.RUNNING, started_at__lt=now - running_for)
    for job_id in stale.values_list("pk", flat=True):
        seconds = int(running_for.total_seconds())
        detail = (
            f"timed out: still running {seconds} s after it started, past its time limit; "
            "its worker was stopped or lost"
        )
        failed += import_job_fail(job_id=job_id, code="timed_out", detail=detail)
    return {"requeued": requeued, "failed": failed}
