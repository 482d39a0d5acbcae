"""Background work enqueued by task name once the transaction commits.

Services say what should run (a task name and ids); ``mrv/tasks.py`` registers each task under its
name here and calls the services. So tasks import services and services never import tasks: the
import graph has no circle (tests/mrv/test_import_graph.py).
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction

#: The automated checks of a verification (or recalculation) job: ``(job_id,)``.
RUN_VERIFICATION_CHECKS = "mrv.run_verification_checks"
#: A background line-file import: ``(import_job_id,)``.
IMPORT_LINES = "mrv.import_lines"
#: The periodic sweep of stuck jobs (Celery beat): no arguments.
SWEEP_STUCK_JOBS = "mrv.sweep_stuck_jobs"


def enqueue_on_commit(task: str, *args: int) -> None:
    """Publish ``task(*args)`` when the current transaction commits (at once outside one); nothing
    is published if it rolls back, so a worker never sees an id the database does not have."""
    transaction.on_commit(lambda: current_app.send_task(task, args=list(args)))
