"""Log records as JSON lines carrying the request id, with tokens and e-mail addresses taken out.

Configured in ``LOGGING`` (config/settings.py) for the web processes, and on the worker's handlers by
:mod:`mrv.observability.propagation`. ``MRV_LOG_FORMAT=plain`` keeps one human-readable line per
record (the same fields, the same redaction). This module imports nothing from Django: the logging
configuration is applied before the apps are loaded.

A JSON line: ``{"time": ..., "level": "INFO", "logger": "mrv.requests", "message": ...,
"request_id": ..., "task_id": ..., "task_name": ..., ...}``; extra fields passed by the caller follow.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from mrv.observability import context

#: What a log line must never carry, and what replaces it. Applied to the message, the traceback and
#: every extra field, after formatting: no code path has to remember to leave secrets out.
_AUTHORIZATION = re.compile(r"\b(Token|Bearer|Basic)(\s+)[A-Za-z0-9_\-.~+/]{8,}=*", re.IGNORECASE)
_ASSIGNMENT = re.compile(
    r"\b(token|access_token|api_key|apikey|key|password|passwd|secret|authorization)=[^&\s\"'<>]+",
    re.IGNORECASE,
)
_PREFIXED_TOKEN = re.compile(r"\bmrv_[A-Za-z0-9]{8,}")
_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{40,}\b")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_AUTH_WORDS = ("token", "bearer", "basic")


#: Extra fields each record gets from the running context (None outside a request or a task).
CONTEXT_FIELDS = ("request_id", "task_id", "task_name")


def redact(text: str) -> str:
    """``text`` without Authorization values (``Token …``, ``Bearer …``), secrets in ``key=value`` pairs
    (``token=``, ``password=``, …), ``mrv_`` tokens, hexadecimal strings of 40 characters or more
    (tokens, digests) and e-mail addresses. Each pattern runs only when a cheap test says it may match:
    the access line of every request goes through here."""
    lowered = text.lower()
    if any(word in lowered for word in _AUTH_WORDS):
        text = _AUTHORIZATION.sub(r"\1\2[redacted]", text)
    if "=" in text:
        text = _ASSIGNMENT.sub(r"\1=[redacted]", text)
    if "mrv_" in text:
        text = _PREFIXED_TOKEN.sub("[redacted-token]", text)
    if len(text) >= 40:
        text = _LONG_HEX.sub("[redacted]", text)
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    return text


def _clean(value: Any) -> Any:
    """``value`` with every string redacted; anything that is not JSON already becomes its text."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item) for item in value]
    return redact(str(value))


class RequestContextFilter(logging.Filter):
    """Stamps each record with the request id and the task of the running context (on the handlers,
    so that records of every logger get them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in (
            ("request_id", context.request_id),
            ("task_id", context.task_id),
            ("task_name", context.task_name),
        ):
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        return True


def _request_summary(request: Any) -> str:
    """Django passes the request to its ``django.request`` records: keep the method and the path, never
    the query string, the headers or the body."""
    method = getattr(request, "method", None)
    path = getattr(request, "path", None)
    if method is None or path is None:
        return type(request).__name__
    return f"{method} {path}"


class JsonFormatter(_JsonFormatter):
    """One JSON object per record (python-json-logger), redacted (:data:`REDACTIONS`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args or ("%(levelname)s %(name)s %(message)s",), **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if "request" in log_data:
            log_data["request"] = _request_summary(log_data["request"])
        for name in CONTEXT_FIELDS:
            if log_data.get(name) is None:
                log_data.pop(name, None)
        time = log_data.pop("time", None)
        return {"time": time, **{key: _clean(value) for key, value in log_data.items()}}


class PlainFormatter(logging.Formatter):
    """``time level logger [request id] message``, redacted like the JSON lines (``MRV_LOG_FORMAT=plain``)."""

    def __init__(self, fmt: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            fmt or "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s", *args, **kwargs
        )

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id.get()
        return redact(super().format(record))


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``MRV_LOG_FORMAT``: ``json`` (the default) or ``plain``."""
    return PlainFormatter() if log_format == "plain" else JsonFormatter()
