"""Celery signals: the request id travels with a task and the worker logs like the web processes.

* ``before_task_publish`` (web process, or a task sending another): the running request id goes into
  the message headers as ``mrv_request_id``.
* ``task_prerun`` / ``task_postrun`` (worker): the header's request id and the task's id and name are
  set in the logging context while the task runs, with a line when it starts and when it ends.
* ``after_setup_logger`` / ``after_setup_task_logger`` (worker): Celery's handlers (standard error or
  ``--logfile``) get the JSON formatter and the context filter.

Imported by config/celery.py, so both the web processes and the worker connect them.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from mrv.observability import context
from mrv.observability.logs import RequestContextFilter, formatter

HEADER = "mrv_request_id"

task_log = logging.getLogger("mrv.tasks")


@signals.before_task_publish.connect(weak=False)
def attach_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = context.request_id.get()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


@signals.task_prerun.connect(weak=False)
def enter_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    request_id = getattr(getattr(task, "request", None), HEADER, None)
    context.request_id.set(context.sane_request_id(request_id) if request_id else None)
    context.task_id.set(task_id)
    context.task_name.set(getattr(task, "name", None))
    task_log.info("task started")


@signals.task_postrun.connect(weak=False)
def leave_task(state: str | None = None, **_: Any) -> None:
    task_log.info("task ended: %s", state)
    context.request_id.set(None)
    context.task_id.set(None)
    context.task_name.set(None)


@signals.after_setup_logger.connect(weak=False)
@signals.after_setup_task_logger.connect(weak=False)
def format_worker_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    from django.conf import settings

    if logger is None:
        return
    for handler in logger.handlers:
        handler.setFormatter(formatter(getattr(settings, "MRV_LOG_FORMAT", "json")))
        if not any(isinstance(f, RequestContextFilter) for f in handler.filters):
            handler.addFilter(RequestContextFilter())
