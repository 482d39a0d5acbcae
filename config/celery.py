"""The Celery application "mrv": settings prefixed ``CELERY_`` in config/settings.py, tasks from each app."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

import mrv.observability.propagation  # noqa: F401  (signals: request ids in task headers, JSON worker logs)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mrv")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect(weak=False)
@signals.task_postrun.connect(weak=False)
def _close_old_connections(sender: Any = None, **_: Any) -> None:
    """Around each task (not eager ones: a test's transaction stays open), Django's rule for database
    connections: closed when they failed or are older than CONN_MAX_AGE, kept otherwise (health-checked
    before their next use with CONN_HEALTH_CHECKS). Celery's own closing is off (CELERY_DB_REUSE_MAX)."""
    request = getattr(sender, "request", None)
    if getattr(request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
