"""Errors of the Django layer's services, answered as RFC 9457 problem documents.

Like the engine's errors they know nothing of HTTP beyond the status they suggest; the exception
handler renders them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ServiceError(Exception):
    status = 400
    code = "invalid_request"
    title = "Invalid request"

    def __init__(self, detail: str, errors: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class InvalidRequest(ServiceError):
    """The request is well-formed but asks for something invalid (pointer in ``errors``)."""


class Conflict(ServiceError):
    """The object's state does not allow the operation (a submitted revision is immutable)."""

    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class IdempotencyKeyReused(ServiceError):
    """The same Idempotency-Key was sent before with a different body."""

    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different request"


class DatabaseBusy(ServiceError):
    """A transient conflict in the database (deadlock, serialization failure, lock timeout) outlasted
    the retries: nothing was written; the same request (with the same Idempotency-Key) may be sent
    again after ``retry_after`` seconds."""

    status = 503
    code = "database_busy"
    title = "Busy: try again shortly"
    retry_after = 1


class EvidenceTooLarge(ServiceError):
    """An evidence file over MRV_MAX_EVIDENCE_BYTES: refused before anything is stored."""

    status = 413
    code = "evidence_too_large"
    title = "Evidence file too large"


class EvidenceTypeNotAllowed(ServiceError):
    """An evidence file whose bytes are none of the accepted types (whatever its name says)."""

    status = 415
    code = "evidence_type_not_allowed"
    title = "Evidence file type not accepted"


class EvidenceFrozen(Conflict):
    """Evidence added to, or removed from, a revision that has been submitted (or a report with no draft)."""

    code = "evidence_frozen"
    title = "Evidence of a submitted revision is frozen"


class EvidenceIntegrityFailed(Conflict):
    """The stored file's bytes no longer match the SHA-256 (and size) recorded when it was uploaded."""

    code = "evidence_integrity_failed"
    title = "Evidence file failed its integrity check"
