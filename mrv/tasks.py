"""Celery tasks: thin adapters that take ids, load, and call one service.

Each is registered under the name a service enqueues it by (mrv/services/background.py): this module
imports the services, and no service imports it.

``run_verification_checks`` is idempotent (the job row is the unique key), so it is acknowledged late
(a worker that dies mid-run leaves the message to be redelivered) and retried on transient errors only.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from mrv.services import background
from mrv.services.imports import import_job_run
from mrv.services.verification import checks_run, jobs_requeue_stuck

#: Errors worth retrying: the database or the network went away for a moment.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(name="mrv.ping")
def ping() -> str:
    """A no-op that proves a worker consumes from the broker (``celery -A config call mrv.ping``)."""
    return "pong"


@shared_task(
    name=background.RUN_VERIFICATION_CHECKS,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def run_verification_checks(job_id: int) -> str:
    """Run the automated checks of verification job ``job_id``."""
    return checks_run(job_id=job_id)


@shared_task(name=background.SWEEP_STUCK_JOBS)
def sweep_stuck_jobs() -> int:
    """Periodic (Celery beat): re-enqueue jobs stuck in queued/running past MRV_JOB_STUCK_SECONDS."""
    return jobs_requeue_stuck(older_than=timedelta(seconds=settings.MRV_JOB_STUCK_SECONDS))


@shared_task(
    name=background.IMPORT_LINES,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=10,
)
def import_lines(job_id: int) -> str:
    """Import the line file of import job ``job_id`` (``POST .../lines/import/?background=true``)."""
    return import_job_run(job_id=job_id)
