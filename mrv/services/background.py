"""Background work enqueued by task name once the transaction commits.

Services say what should run (a task name and ids); ``mrv/tasks.py`` registers each task under its
name here and calls the services. So tasks import services and services never import tasks: the
import graph has no circle (tests/mrv/test_import_graph.py).

A publish that fails (the broker down or not answering) is logged and left: the job row is
committed ``queued`` and the sweeper (``mrv.sweep_stuck_jobs``, Celery beat) publishes it again once
it has waited ``MRV_JOB_STUCK_SECONDS``. The request that enqueued answers as if all went well.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

#: The automated checks of a verification (or recalculation) job: ``(job_id,)``.
RUN_VERIFICATION_CHECKS = "mrv.run_verification_checks"
#: A background line-file import: ``(import_job_id,)``; on the import queue (``MRV_IMPORT_QUEUE``).
IMPORT_LINES = "mrv.import_lines"
#: A pre-allocation or finalisation run of an allocation plan: ``(run_id,)``; it publishes its batches.
RUN_ALLOCATION = "mrv.allocation_run"
#: One batch of facilities of an allocation run: ``(run_id, batch index)``.
ALLOCATE_BATCH = "mrv.allocation_batch"
#: The periodic sweep of stuck jobs (Celery beat): no arguments.
SWEEP_STUCK_JOBS = "mrv.sweep_stuck_jobs"
#: The periodic signed checkpoint of every audit chain's head (Celery beat): no arguments.
AUDIT_CHECKPOINT = "mrv.audit_checkpoint"
#: One try of a webhook delivery: ``(delivery_id, try_number)`` (mrv/services/webhooks.py).
DELIVER_WEBHOOK = "mrv.deliver_webhook"
#: The periodic publish of webhook deliveries due and not queued (Celery beat): no arguments.
SWEEP_WEBHOOKS = "mrv.sweep_webhooks"
#: The e-mail of one notification: ``(notification_id,)``.
SEND_NOTIFICATION_EMAIL = "mrv.send_notification_email"
#: The periodic reminders of deadlines 7 days and 1 day ahead (Celery beat): no arguments.
SEND_DEADLINE_REMINDERS = "mrv.send_deadline_reminders"
#: The periodic re-publication of notification e-mails not sent (Celery beat): no arguments.
RESEND_NOTIFICATION_EMAILS = "mrv.resend_notification_emails"

#: Raised inside a running task by its worker once the task passes its soft time limit.
TimeLimitReached = SoftTimeLimitExceeded


def running_cutoff(time_limit: float) -> timedelta:
    """How long after its start a run of a task with hard time limit ``time_limit`` can no longer be
    going on, nor be delivered again by the broker: the limit, the broker's visibility timeout (a
    killed worker's message comes back after it) and ``MRV_JOB_STUCK_SECONDS`` more."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = options.get("visibility_timeout", 0)
    return timedelta(seconds=time_limit + visibility + settings.MRV_JOB_STUCK_SECONDS)


def drop_interrupted_connection() -> None:
    """Close this thread's database connection if an interruption (a soft time limit raised in the
    middle of a query) left it unusable; the next query opens a new one. Inside an open transaction
    (a test's) the connection is left to whoever opened it."""
    if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
        connection.close()


def route(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any
) -> dict[str, str] | None:
    """Celery router (``CELERY_TASK_ROUTES``): imports go to ``MRV_IMPORT_QUEUE``, read at each
    publish; everything else to the default queue."""
    if name == IMPORT_LINES:
        return {"queue": settings.MRV_IMPORT_QUEUE}
    return None


def publish(task: str, *args: int, countdown: float | None = None) -> bool:
    """Publish ``task(*args)`` now (to run ``countdown`` seconds later, if given); False (logged) when the
    broker cannot take it."""
    try:
        # No time limits in the message: the worker's own settings decide them (an import worker's
        # MRV_IMPORT_* limits), whatever the publishing process was configured with.
        current_app.send_task(
            task, args=list(args), time_limit=None, soft_time_limit=None, countdown=countdown
        )
    except Exception as error:  # kombu's OperationalError, a timeout, a refused connection: all alike
        logger.warning(
            "could not publish %s%s (%s: %s); the sweeper publishes it again",
            task,
            tuple(args),
            type(error).__name__,
            error,
        )
        return False
    return True


def enqueue_on_commit(task: str, *args: int) -> None:
    """Publish ``task(*args)`` when the current transaction commits (at once outside one); nothing
    is published if it rolls back, so a worker never sees an id the database does not have. A
    failed publish never fails the caller (see the module's docstring)."""
    transaction.on_commit(lambda: publish(task, *args))
