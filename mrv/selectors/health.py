"""Readiness of what the service depends on: the database and the Celery broker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from kombu import Connection

logger = logging.getLogger(__name__)

#: Seconds to wait for the broker before declaring it unreachable.
BROKER_TIMEOUT = 2.0


def database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("readiness: database unreachable")
        return False
    return True


def broker_ready() -> bool:
    """One short connection attempt to the broker in ``CELERY_BROKER_URL``, no retries."""
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=BROKER_TIMEOUT,
        ) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
    except Exception:  # kombu raises transport-specific errors; any failure means "not ready"
        logger.exception("readiness: broker unreachable")
        return False
    return True


def readiness() -> dict[str, bool]:
    return {"database": database_ready(), "broker": broker_ready()}
