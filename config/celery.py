"""The Celery application "mrv": settings prefixed ``CELERY_`` in config/settings.py, tasks from each app."""

from __future__ import annotations

import os

from celery import Celery

import mrv.observability.propagation  # noqa: F401  (signals: request ids in task headers, JSON worker logs)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mrv")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
