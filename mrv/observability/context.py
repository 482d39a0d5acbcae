"""The request id and the task that the running code serves, as context variables.

Set by the request middleware (web) and by the Celery signals (worker); read by the log filter and by
the publish signal, which copies the request id into the headers of every task sent meanwhile.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("mrv_request_id", default=None)
task_id: ContextVar[str | None] = ContextVar("mrv_task_id", default=None)
task_name: ContextVar[str | None] = ContextVar("mrv_task_name", default=None)

#: A request id taken from a client or a proxy: letters, digits and ``._:-``, at most 128 characters
#: (a UUID, a W3C trace id, a load balancer's id). Anything else is replaced by a new id.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(candidate: str | None) -> str:
    """``candidate`` when it is a sane request id, otherwise a new one."""
    if candidate and _SANE.fullmatch(candidate):
        return candidate
    return new_request_id()
