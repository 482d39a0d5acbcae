"""Line files imported in the background: the same all-or-nothing import as the synchronous request,
run by a Celery task, with its progress and outcome kept on an ImportJob."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounting.errors import AccountingError
from mrv.domain.canonical import jsonable
from mrv.errors import Conflict, ServiceError
from mrv.models import ImportJob, Report, ReportRevision
from mrv.services.background import IMPORT_LINES, enqueue_on_commit
from mrv.services.reports import lines_import

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
        report=report, created_by=by, file_format=file_format, content=content, dry_run=dry_run, append=append
    )
    enqueue_on_commit(IMPORT_LINES, job.pk)
    return job


def import_job_run(*, job_id: int) -> str:
    """Run a queued import once; a finished job is left alone (safe to deliver twice)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("report__facility").get(pk=job_id)
        if job.status not in (Status.QUEUED, Status.RUNNING):
            return f"skipped: import is {job.status}"
        job.status, job.progress = Status.RUNNING, 10
        job.save(update_fields=["status", "progress"])
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
    ImportJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
        status=status, progress=100, outcome=jsonable(outcome), finished_at=timezone.now()
    )
    return str(status)
