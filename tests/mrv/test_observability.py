"""Operations: request ids (echoed, logged, carried into Celery tasks), JSON logs without tokens or
e-mail addresses, and the private Prometheus endpoint with the service's own gauges."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from kombu import Connection
from rest_framework.test import APIClient

from config.celery import app
from mrv.models import ImportJob, VerificationJob
from mrv.services.reports import report_create, report_submit
from mrv.tasks import ping
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body
from tests.mrv.verification_helpers import plausible_cement

METRICS_TOKEN = "metrics-test-token-" + "0" * 8


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler (JSON formatter, context filter) writes, meanwhile."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def own_queue(monkeypatch: pytest.MonkeyPatch, queue: str) -> None:
    """Tasks sent by this test (and the queues the metrics watch) go to ``queue`` until it ends."""
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    monkeypatch.setattr(settings, "MRV_IMPORT_QUEUE", queue)  # imports are routed to their own queue


# -- request ids -------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_request_id_is_taken_when_sane_made_otherwise_and_echoed(client: Any) -> None:
    made = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz")["X-Request-ID"] != made
    assert client.get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a:42")["X-Request-ID"] == "edge-7f3a:42"
    for insane in ("has space", "x" * 200, "li.wei@example.cn", "<script>"):
        echoed = client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID=insane)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), insane


@pytest.mark.django_db
def test_log_lines_are_json_and_carry_the_request_id(
    operator_client: APIClient, log_output: io.StringIO
) -> None:
    response = operator_client.get("/api/v1/reports/", HTTP_X_REQUEST_ID="trace-0001")
    assert response.status_code == 200
    lines = json_lines(log_output.getvalue())
    (access,) = [line for line in lines if line["logger"] == "mrv.requests"]
    assert access["request_id"] == "trace-0001"
    assert access["level"] == "INFO" and access["status"] == 200 and access["path"] == "/api/v1/reports/"
    assert access["method"] == "GET" and access["duration_ms"] >= 0 and access["time"]


@pytest.mark.django_db
def test_logs_carry_no_token_and_no_email_address(world: World, log_output: io.StringIO) -> None:
    email = "li.wei@example.cn"
    world.operator_a.user.email = email
    world.operator_a.user.save()
    token = world.operator_a.token
    client = world.client("operator_a")
    # A token in the query string and an address in the path: Django logs the 4xx with the request.
    assert client.get(f"/api/v1/reports/999999/?token={token}&email={email}").status_code == 404
    assert client.get(f"/api/v1/no-such/{email}/?token={token}").status_code == 404
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Token {token}x")
    assert stranger.get(f"/api/v1/reports/?access_token={token}x").status_code == 401
    operator = APIClient()
    operator.force_authenticate(world.operator_a.user)
    assert operator.get("/api/v1/reports/", {"email": email}).status_code == 200
    logging.getLogger("mrv.test").warning("operator %s sent Authorization: Token %s", email, token)

    text = log_output.getvalue()
    lines = json_lines(text)
    assert {line["status"] for line in lines if line["logger"] == "mrv.requests"} == {404, 401, 200}
    assert any(line["logger"] == "django.request" for line in lines)  # Django's own 4xx records are there
    assert token not in text and token[:16] not in text
    assert email not in text and not re.search(r"[\w.]+@[\w-]+\.[a-z]{2,}", text)
    assert "operator [email] sent Authorization: Token [redacted]" in text


# -- metrics -------------------------------------------------------------------------------------------------
def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of sample ``name{labels}`` in a Prometheus text exposition, or None."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


@pytest.mark.django_db
def test_metrics_need_the_bearer_token(client: Any, settings: Any) -> None:
    settings.MRV_METRICS_TOKEN = METRICS_TOKEN
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token")
    assert refused.status_code == 401 and refused["Content-Type"] == "application/problem+json"
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {METRICS_TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 200


@pytest.mark.django_db
def test_without_a_token_metrics_are_for_loopback_in_development_only(client: Any, settings: Any) -> None:
    settings.MRV_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    settings.MRV_ENV = "production"
    hidden = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert hidden.status_code == 404 and hidden["Content-Type"] == "application/problem+json"


@pytest.mark.redis
@pytest.mark.django_db
def test_metrics_show_requests_database_jobs_and_queue_depth(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MRV_METRICS_TOKEN = METRICS_TOKEN
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    report_submit(by=world.operator_a.user, report=report)  # a queued verification job
    queue = f"test-metrics-{uuid.uuid4().hex[:12]}"
    own_queue(monkeypatch, queue)
    for _ in range(3):
        ping.apply_async(queue=queue)
    try:
        world.client("regulator").get("/api/v1/reports/")
        text = (
            APIClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").content.decode("utf-8")
        )
    finally:
        with Connection(settings.CELERY_BROKER_URL) as broker:
            broker.default_channel.queue_delete(queue)

    queued = VerificationJob.objects.filter(status="queued").count()
    assert queued == 1
    assert metric(text, "mrv_verification_jobs", status="queued") == queued
    assert metric(text, "mrv_verification_jobs", status="failed") == 0
    assert metric(text, "mrv_import_jobs", status="queued") == ImportJob.objects.count() == 0
    assert metric(text, "mrv_celery_broker_up") == 1
    assert metric(text, "mrv_celery_queue_messages", queue=queue) == 3
    # django-prometheus: requests by view and status, latencies, database queries
    assert metric(text, "django_http_responses_total_by_status_total", status="200") >= 1
    assert metric(text, "django_http_requests_latency_seconds_by_view_method_count", method="GET") >= 1
    assert metric(text, "django_db_execute_total", alias="default", vendor=connection.vendor) >= 1


# -- Celery: the request id travels into the task's log lines ----------------------------------------------
def worker_database_url() -> str:
    """``DATABASE_URL`` of the database this test runs on (pytest-django's ``test_...`` copy)."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        credentials += ":" + quote(s["PASSWORD"], safe="")
    host = quote(s["HOST"] or "localhost", safe="")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(s['NAME'], safe='')}"


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_the_request_id_travels_into_the_worker_log_lines(
    tx_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = f"test-rid-{uuid.uuid4().hex[:12]}"
    own_queue(monkeypatch, queue)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "MRV_TASK_QUEUE": queue,
        "MRV_IMPORT_QUEUE": queue,
        "MRV_LOG_FORMAT": "json",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, f"--logfile={log}",
    ]  # fmt: skip
    worker = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL)
    try:
        client = tx_world.client("operator_a")
        body = report_body(tx_world.facility_a)
        draft = client.post("/api/v1/reports/", body, format="json").json()["id"]
        template = client.get("/api/v1/reports/lines/template/?sector=cement&format=csv").content
        request_id = f"import-{uuid.uuid4().hex[:8]}"
        accepted = client.post(
            f"/api/v1/reports/{draft}/lines/import/?background=true",
            {"file": SimpleUploadedFile("lines.csv", template)},
            format="multipart",
            HTTP_X_REQUEST_ID=request_id,
        )
        assert accepted.status_code == 202 and accepted["X-Request-ID"] == request_id
        deadline = time.monotonic() + 60
        mine: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            mine = [line for line in json_lines(text) if line.get("request_id") == request_id]
            if any(line["message"] == "task ended: SUCCESS" for line in mine):
                break
            assert worker.poll() is None, f"worker exited:\n{text}"
            time.sleep(0.2)
        else:
            pytest.fail(f"no task line with request id {request_id} within 60 s:\n{text}")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert {line["task_name"] for line in mine} == {"mrv.import_lines"}
    assert mine[0]["message"] == "task started"
    assert all(line["task_id"] for line in mine)
    assert ImportJob.objects.get().status == "completed"
