"""``GET /metrics``: Prometheus metrics, kept private.

Served from two registries in one answer:

* django-prometheus (requests by view, method and status, latencies, response sizes, exceptions;
  database connections, queries, query latency and errors through its database backend), per process;
  with several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by them,
  and the answer adds up all workers.
* the service's own gauges, read at each scrape: ``mrv_verification_jobs{status}``,
  ``mrv_import_jobs{status}``, ``mrv_celery_queue_messages{queue}`` and ``mrv_celery_broker_up``.

Who may read it: a request with ``Authorization: Bearer <MRV_METRICS_TOKEN>`` when that variable is
set (401 otherwise). Without a token the endpoint answers only loopback clients, and never in
production (404): a production service exposes metrics to its scraper by token only.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from mrv.api.problems import ProblemResponse, problem_document
from mrv.selectors.operations import jobs_by_status, queue_depths, task_queues

LOOPBACK = frozenset({"127.0.0.1", "::1"})


class ServiceCollector(Collector):
    """Jobs by status and queue depths, computed when scraped (correct whatever process answers)."""

    def collect(self) -> Iterator[Metric]:
        counts = jobs_by_status()
        for name, label in (("verification", "verification"), ("import", "import")):
            gauge = GaugeMetricFamily(
                f"mrv_{name}_jobs", f"{label.capitalize()} jobs by status", labels=["status"]
            )
            for status, count in counts[name].items():
                gauge.add_metric([status], count)
            yield gauge
        depths = queue_depths(task_queues())
        up = GaugeMetricFamily("mrv_celery_broker_up", "1 when the Celery broker answered this scrape")
        up.add_metric([], 0 if depths is None else 1)
        yield up
        if depths is not None:
            queued = GaugeMetricFamily(
                "mrv_celery_queue_messages", "Messages waiting in each Celery queue", labels=["queue"]
            )
            for queue, depth in depths.items():
                queued.add_metric([queue], depth)
            yield queued


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return prometheus_client.REGISTRY


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """None when ``request`` may read the metrics, else the problem document refusing it."""
    token = settings.MRV_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return ProblemResponse(
            problem_document(
                status=401,
                code="not_authenticated",
                detail="The metrics need Authorization: Bearer <MRV_METRICS_TOKEN>.",
            ),
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if settings.MRV_ENV != "production" and request.META.get("REMOTE_ADDR") in LOOPBACK:
        return None
    return ProblemResponse(
        problem_document(status=404, code="not_found", detail=f"No resource at {request.path}.")
    )


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    own = CollectorRegistry(auto_describe=False)
    own.register(ServiceCollector())
    body = prometheus_client.generate_latest(_process_registry()) + prometheus_client.generate_latest(own)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
