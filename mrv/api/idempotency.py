"""``Idempotency-Key`` for unsafe requests: the same key and body answer the stored response, and the
operation runs once; the same key with another body is refused (422).

The record is inserted in the same transaction as the operation. On PostgreSQL a second request with
the same key waits on the unique index until the first commits, then replays its answer, so two
parallel requests never run the operation twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from mrv.api.renderers import JSONRenderer
from mrv.domain.canonical import digest
from mrv.errors import IdempotencyKeyReused, InvalidRequest
from mrv.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def idempotent(
    request: Request, *, scope: str, perform: Callable[[], tuple[int, dict[str, Any]]]
) -> Response:
    """Run ``perform`` (returning status and body) at most once per (user, scope, key)."""
    key = request.headers.get(HEADER)
    if key is None:
        status, body = perform()
        return Response(body, status=status)
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters",
            [{"pointer": "", "code": "invalid_idempotency_key", "detail": f"bad {HEADER} header"}],
        )
    fingerprint = digest({"scope": scope, "body": request.data if request.data else None})
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user, scope=scope, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(user=request.user, scope=scope, key=key)
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"this {HEADER} was used for a different request; use a new key"
                ) from None
            return Response(
                record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"}
            )
        status, body = perform()
        # Store the body as it is rendered, so that a replay is byte-for-byte the same answer.
        body = orjson.loads(JSONRenderer().render(body))
        record.status_code, record.response = status, body
        record.save(update_fields=["status_code", "response"])
    return Response(body, status=status)
