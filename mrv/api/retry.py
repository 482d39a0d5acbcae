"""Transient database conflicts retried at the service boundary: the whole transaction runs again.

A deadlock (SQLSTATE 40P01), a serialization failure (40001) or a lock wait past ``lock_timeout``
(55P03 lock_not_available, also NOWAIT's "could not obtain lock"; SQLite's "database is locked") says
nothing about the request: PostgreSQL rolled the transaction back and the same work will most likely
succeed a moment later. :func:`retrying` wraps the handler of every write view (POST, PATCH, PUT,
DELETE; tests/mrv/test_transient_conflicts.py checks that none is missed): it runs the handler again,
up to ``MRV_DB_RETRY_ATTEMPTS`` runs in all, after a short pause with jitter (so that the transactions
that collided do not collide again in step), and then raises :class:`mrv.errors.DatabaseBusy`, which
the exception handler answers as a 503 problem document with ``Retry-After``, never a 500.

Only a whole transaction is retried: the handler starts outside any transaction (the services and
``idempotent`` open and close theirs inside it), and after the error its transaction has been rolled
back, so the retry writes nothing twice. Called inside an open transaction (a caller's, or a test's),
it does not retry: that transaction is aborted and belongs to the caller; the conflict becomes a 503.
Authentication, permissions and throttles ran before the handler and do not run again; the parsed
body is kept by the request, and uploaded files are rewound.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection
from rest_framework.request import Request

from mrv.errors import DatabaseBusy

logger = logging.getLogger(__name__)

#: SQLSTATEs of the conflicts worth running the transaction again for.
TRANSIENT_SQLSTATES = {
    "40P01": "deadlock detected",
    "40001": "serialization failure",
    "55P03": "lock not available",
}
_TRANSIENT_MESSAGES = {"could not obtain lock": "55P03", "database is locked": "55P03"}
#: The pause before run n + 1 is between half and all of BASE_DELAY_S * 2 ** (n - 1), at most MAX_DELAY_S.
BASE_DELAY_S, MAX_DELAY_S = 0.05, 1.0

Handler = TypeVar("Handler", bound=Callable[..., Any])


def transient_sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a transient conflict, or None for any other error."""
    if not isinstance(error, DatabaseError):
        return None
    state = getattr(error.__cause__, "sqlstate", None)
    if state in TRANSIENT_SQLSTATES:
        return str(state)
    message = str(error)
    return next((code for text, code in _TRANSIENT_MESSAGES.items() if text in message), None)


def busy(state: str, attempts: int) -> DatabaseBusy:
    """The 503 for a conflict (``state``) met ``attempts`` times."""
    what = TRANSIENT_SQLSTATES[state]
    return DatabaseBusy(
        f"the database answered a transient conflict ({what}) {attempts} time(s); nothing was written: "
        f"send the same request again (with the same Idempotency-Key) after {DatabaseBusy.retry_after} s"
    )


def _rewind(request: Request) -> None:
    """Uploaded files read by the failed run are read again from their start."""
    if (request.content_type or "").startswith("multipart/"):
        for _, uploads in request.FILES.lists():
            for upload in uploads:
                upload.seek(0)


def retrying(handler: Handler) -> Handler:
    """Run the view handler again on a transient database conflict (see the module's docstring)."""

    @functools.wraps(handler)
    def run(view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        attempts, attempt = max(1, settings.MRV_DB_RETRY_ATTEMPTS), 0
        while True:
            attempt += 1
            inside = connection.in_atomic_block
            try:
                return handler(view, request, *args, **kwargs)
            except DatabaseError as error:
                state = transient_sqlstate(error)
                if state is None:
                    raise
                what = f"transient database conflict ({TRANSIENT_SQLSTATES[state]}) in {request.method} {request.path}"
                if inside or attempt == attempts:
                    logger.warning("%s: run %d of %d, answering 503", what, attempt, attempts)
                    raise busy(state, attempt) from error
                ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
                delay = random.uniform(ceiling / 2, ceiling)
                logger.warning("%s: run %d of %d, again in %.0f ms", what, attempt, attempts, delay * 1000)
                _rewind(request)
                time.sleep(delay)

    run.retries_transient_conflicts = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]
