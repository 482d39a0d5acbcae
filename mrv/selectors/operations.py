"""What an operator watches: jobs by status and the depth of the Celery queues (read at each scrape)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Count
from kombu import Connection
from kombu.exceptions import ChannelError

from mrv.models import ImportJob, VerificationJob

logger = logging.getLogger(__name__)

#: Seconds to wait for the broker at a scrape; an unreachable broker reports itself down, not a hang.
BROKER_TIMEOUT = 2.0


def jobs_by_status() -> dict[str, dict[str, int]]:
    """``{"verification": {status: count}, "import": {status: count}}``, every status present (0 too)."""
    counts: dict[str, dict[str, int]] = {}
    for name, model in (("verification", VerificationJob), ("import", ImportJob)):
        found = dict(model.objects.order_by().values_list("status").annotate(n=Count("id")))
        counts[name] = {status: found.get(status, 0) for status in model.Status.values}
    return counts


def task_queues() -> list[str]:
    """The queues the service's tasks go to: the default queue and any named in the task routes."""
    from config.celery import app

    names = [app.conf.task_default_queue]
    routes = app.conf.task_routes if isinstance(app.conf.task_routes, dict) else {}
    for route in routes.values():
        queue = route.get("queue") if isinstance(route, dict) else None
        if queue and queue not in names:
            names.append(queue)
    return names


def queue_depths(queues: list[str]) -> dict[str, int] | None:
    """Messages waiting in each queue (kombu's passive declare: Redis sums the priority lists), or None
    when the broker cannot be reached. A queue the broker does not know holds nothing."""
    depths: dict[str, int] = {}
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if settings.CELERY_BROKER_URL.startswith(("redis:", "rediss:")):
        options.update(socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT)
    try:
        with Connection(
            settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=BROKER_TIMEOUT
        ) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
            channel = broker.default_channel
            for queue in queues:
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except ChannelError:
                    depths[queue] = 0
    except Exception:  # kombu raises transport-specific errors; any failure means "unreachable"
        logger.warning("metrics: the broker could not be reached for the queue depths")
        return None
    return depths
