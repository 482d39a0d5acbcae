"""What a test's own queue holds: messages taken off it with the broker's ordinary client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from config.celery import app


@contextmanager
def own_queue() -> Iterator[str]:
    """Tasks enqueued inside the block (imports too) go to a queue of their own (nobody consumes it;
    emptied after)."""
    name, previous = f"test-own-{uuid.uuid4().hex[:12]}", app.conf.task_default_queue
    previous_imports = settings.MRV_IMPORT_QUEUE
    app.conf.task_default_queue = settings.MRV_IMPORT_QUEUE = name
    try:
        yield name
    finally:
        app.conf.task_default_queue, settings.MRV_IMPORT_QUEUE = previous, previous_imports
        taken(name)


def taken(queue: str) -> list[tuple[str, list[Any]]]:
    """Take every message off ``queue``; each as (task name, positional arguments), oldest first."""
    found = []
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            args, _, _ = message.decode()
            found.append((message.headers["task"], args))
    return found
