"""The request id: taken from ``X-Request-ID`` when sane, made otherwise, echoed in the response, set
in the logging context for the request's duration, and one access line per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mrv.observability import context

access_log = logging.getLogger("mrv.requests")

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: every response carries ``X-Request-ID``, every log line of the request
    (and of the tasks it enqueues) its ``request_id``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = context.sane_request_id(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # The path only: a query string may carry what must not be logged.
            access_log.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            context.request_id.reset(token)
