"""Celery tasks: thin adapters that take ids, load, and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="mrv.ping")
def ping() -> str:
    """A no-op that proves a worker consumes from the broker (``celery -A config call mrv.ping``)."""
    return "pong"
