"""Celery tasks: thin adapters that take ids, load, and call one service.

Each is registered under the name a service enqueues it by (mrv/services/background.py): this module
imports the services, and no service imports it.

``run_verification_checks`` is idempotent (the job row is the unique key), so it is acknowledged late
(a worker that dies mid-run leaves the message to be redelivered) and retried on transient errors only.

Every job task has a soft and a hard time limit (``MRV_TASK_*`` for the checks, ``MRV_IMPORT_*`` for
imports) and ends its job ``failed`` with the reason when the run is stopped from outside: past the
soft limit (raised inside the run), at the hard limit (the worker's main process, which killed the run,
calls :meth:`JobTask.on_failure`), or on an error that retries did not cure. A run killed with its
whole worker is delivered again by the broker and counted against ``MRV_JOB_MAX_ATTEMPTS``; what
nobody will deliver again is ended by the sweeper.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from mrv.services import background
from mrv.services.allocation import batch_run, run_fail, run_start
from mrv.services.audit import audit_checkpoint as audit_checkpoint_make
from mrv.services.imports import describe, import_job_fail, import_job_run, import_jobs_sweep
from mrv.services.notifications import (
    NotificationEmailFailed,
    deadline_reminders_send,
    notification_email_send,
    notification_emails_resend,
)
from mrv.services.verification import checks_run, job_fail, jobs_requeue_stuck
from mrv.services.webhooks import deliveries_sweep, delivery_try

logger = logging.getLogger(__name__)

#: Errors worth retrying: the database or the network went away for a moment.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class JobTask(Task):
    """A task that runs one job, ``(job_id,)``: however the run is stopped, its job ends ``failed``."""

    abstract = True

    #: How a job of this kind is ended ``failed`` from outside its run, ``(job_id, code, reason)`` →
    #: whether this call ended it; each job kind's task class names its service.
    fail_job: Any

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if isinstance(exc, TimeLimitExceeded):  # in the worker's main process: the run was killed
            code = "timed_out"
            reason = f"timed out: stopped at its hard time limit of {self.time_limit} s"
        elif isinstance(exc, SoftTimeLimitExceeded):
            code = "timed_out"
            reason = f"timed out: ran past its time limit of {self.soft_time_limit} s"
        else:
            code = "task_error"
            reason = f"the run stopped on an error: {describe(exc)}"
        try:
            background.drop_interrupted_connection()
            # nowait: the main process never waits on a row the killed run may still hold locked.
            if self.fail_job(int(args[0]), code, reason):
                logger.warning("job %s of %s failed: %s", args[0], self.name, reason)
        except Exception:  # the database is away too: the sweeper ends the job later
            logger.exception("could not mark job %s of %s failed (%s)", args[0], self.name, reason)


class VerificationTask(JobTask):
    abstract = True

    @staticmethod
    def fail_job(job_id: int, code: str, reason: str) -> bool:
        return job_fail(job_id=job_id, reason=reason, nowait=True)


class ImportTask(JobTask):
    abstract = True

    @staticmethod
    def fail_job(job_id: int, code: str, reason: str) -> bool:
        return import_job_fail(job_id=job_id, code=code, detail=reason, nowait=True)


@shared_task(name="mrv.ping")
def ping() -> str:
    """A no-op that proves a worker consumes from the broker (``celery -A config call mrv.ping``)."""
    return "pong"


@shared_task(
    bind=True,
    base=VerificationTask,
    name=background.RUN_VERIFICATION_CHECKS,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
    soft_time_limit=settings.MRV_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MRV_TASK_TIME_LIMIT,
)
def run_verification_checks(self: VerificationTask, job_id: int) -> str:
    """Run the automated checks of verification job ``job_id``."""
    return checks_run(job_id=job_id, retries=self.request.retries or 0)


@shared_task(name=background.SWEEP_STUCK_JOBS)
def sweep_stuck_jobs() -> int:
    """Periodic (Celery beat): publish again jobs queued past MRV_JOB_STUCK_SECONDS, end ``failed``
    those running past their hard time limit (verification and import jobs); how many moved."""
    queued_for = timedelta(seconds=settings.MRV_JOB_STUCK_SECONDS)
    moved = jobs_requeue_stuck(older_than=queued_for)
    imports = import_jobs_sweep(
        queued_for=queued_for, running_for=background.running_cutoff(settings.MRV_IMPORT_TIME_LIMIT)
    )
    return moved + imports["requeued"] + imports["failed"]


@shared_task(name=background.AUDIT_CHECKPOINT)
def audit_checkpoint() -> int:
    """Periodic (Celery beat, MRV_AUDIT_CHECKPOINT_INTERVAL_SECONDS): sign every audit chain's head, store
    the checkpoint and write it to MRV_AUDIT_CHECKPOINT_DIR; its number."""
    return audit_checkpoint_make()[0].number


@shared_task(
    bind=True,
    base=ImportTask,
    name=background.IMPORT_LINES,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=10,
    soft_time_limit=settings.MRV_IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.MRV_IMPORT_TIME_LIMIT,
)
def import_lines(self: ImportTask, job_id: int) -> str:
    """Import the line file of import job ``job_id`` (``POST .../lines/import/?background=true``), on
    the import queue (``MRV_IMPORT_QUEUE``)."""
    return import_job_run(job_id=job_id, retries=self.request.retries or 0)


@shared_task(
    name=background.DELIVER_WEBHOOK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
    soft_time_limit=settings.MRV_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MRV_TASK_TIME_LIMIT,
)
def deliver_webhook(delivery_id: int, number: int) -> str:
    """Try ``number`` of webhook delivery ``delivery_id`` (idempotent: mrv/services/webhooks.py); the next
    try, after a failure, is published by the service (a countdown) or by the sweeper."""
    return delivery_try(delivery_id=delivery_id, number=number)


@shared_task(name=background.SWEEP_WEBHOOKS)
def sweep_webhooks() -> int:
    """Periodic (Celery beat): publish the webhook deliveries that are due with no message on its way."""
    return deliveries_sweep()


@shared_task(
    name=background.SEND_NOTIFICATION_EMAIL,
    acks_late=True,
    autoretry_for=(*TRANSIENT, NotificationEmailFailed),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_notification_email(notification_id: int) -> str:
    """E-mail notification ``notification_id`` (idempotent: a sent one is not sent again); an SMTP
    failure is retried with exponential back-off (30 s, 1 min, 2 min... up to an hour)."""
    return notification_email_send(notification_id=notification_id)


@shared_task(name=background.SEND_DEADLINE_REMINDERS, autoretry_for=TRANSIENT, max_retries=3)
def send_deadline_reminders() -> int:
    """Periodic (Celery beat, MRV_REMINDER_INTERVAL_SECONDS): remind of deadlines 7 days and 1 day ahead,
    to facilities that have not met them; safe to run twice, or twice at once. How many were sent."""
    return deadline_reminders_send()


@shared_task(name=background.RESEND_NOTIFICATION_EMAILS, autoretry_for=TRANSIENT, max_retries=3)
def resend_notification_emails() -> int:
    """Periodic (Celery beat, with the reminders): publish again the notification e-mails not sent after an
    hour (an SMTP outage longer than the e-mail task's retries, a message lost with the broker)."""
    return notification_emails_resend()


class AllocationTask(JobTask):
    abstract = True

    @staticmethod
    def fail_job(job_id: int, code: str, reason: str) -> bool:
        return run_fail(run_id=job_id, reason=reason)


@shared_task(
    bind=True,
    base=AllocationTask,
    name=background.RUN_ALLOCATION,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=10,
)
def allocation_run(self: AllocationTask, run_id: int) -> str:
    """Start pre-allocation or finalisation run ``run_id``: publish one task per batch of facilities."""
    return run_start(run_id=run_id)


@shared_task(
    bind=True,
    base=AllocationTask,
    name=background.ALLOCATE_BATCH,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=10,
    soft_time_limit=settings.MRV_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MRV_TASK_TIME_LIMIT,
)
def allocation_batch(self: AllocationTask, run_id: int, index: int) -> str:
    """Allocate one batch of facilities of run ``run_id`` (idempotent: counted once)."""
    return batch_run(run_id=run_id, index=index)
