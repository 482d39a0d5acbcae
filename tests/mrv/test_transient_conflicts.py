"""Transient database conflicts (issue 17), provoked for real on PostgreSQL: a deadlock (two sessions
locking two rows in opposite orders) and a lock held past ``lock_timeout``. The write views run the
whole transaction again (mrv/api/retry.py); when the conflict outlasts the retries the answer is a 503
problem document with Retry-After, nothing is written, and the client's retry with the same
Idempotency-Key writes once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from mrv.models import AuditEvent, IdempotencyRecord, Report, ReportRevision, VerificationJob
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

ROOT = Path(__file__).resolve().parents[2]
RETRY_LOGGER = "mrv.api.retry"


@contextmanager
def other_session() -> Iterator[Any]:
    """A second session on the test database (plain psycopg, outside Django's transactions)."""
    other = connection.copy()
    other.ensure_connection()
    try:
        yield other.connection
    finally:
        other.close()


def wait_until_blocked_by(pid: int) -> None:
    """Until another session waits on a lock that session ``pid`` holds."""
    with other_session() as monitor:
        for _ in range(1000):
            blocked = monitor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid]
            ).fetchone()[0]
            if blocked:
                return
            time.sleep(0.01)
    pytest.fail(f"no session waited on a lock of session {pid}")


class InThread:
    """``call`` running in a thread of its own (with its own database connection)."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = call()
            except BaseException as error:  # handed to join()
                self.error = error
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> Any:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the request did not finish"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def short_lock_timeout() -> Iterator[None]:
    """This test's session gives up a lock wait after 200 ms (the setting's default is seconds)."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def retry_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == RETRY_LOGGER]


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_on_submit_is_retried_and_the_report_is_submitted_once(
    tx_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    client = tx_world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(tx_world.facility_a), format="json").json()
    url = f"/api/v1/reports/{report['id']}/submit/"
    with other_session() as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM mrv_reportrevision WHERE report_id = %s FOR UPDATE", [report["id"]])
        submit = InThread(
            lambda: client.post(url, {"certify": True}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
        )
        # The submit holds the report row and waits for the revision: lock the report row now, the
        # opposite order. PostgreSQL breaks the circle by failing the submit (it waited first).
        wait_until_blocked_by(other.info.backend_pid)
        other.execute("SELECT 1 FROM mrv_report WHERE id = %s FOR UPDATE", [report["id"]])
        other.execute("ROLLBACK")
        response = submit.join()

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "submitted"
    messages = retry_messages(caplog)
    assert len(messages) == 1 and "deadlock detected" in messages[0] and "run 1 of" in messages[0]
    assert ReportRevision.objects.get(report_id=report["id"]).status == "submitted"
    assert AuditEvent.objects.filter(action="revision.submit", object_id=str(report["id"])).count() == 1
    assert VerificationJob.objects.filter(revision__report_id=report["id"]).count() == 1
    assert IdempotencyRecord.objects.filter(key="submit-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_lock_past_lock_timeout_answers_503_and_the_same_key_then_creates_once(
    tx_world: World, short_lock_timeout: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    client = tx_world.client("operator_a")
    body = report_body(tx_world.facility_a)
    with other_session() as other:
        # The facility row locked FOR UPDATE: the create's foreign-key check on it (FOR KEY SHARE, at
        # COMMIT) waits past lock_timeout on every run.
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM mrv_facility WHERE id = %s FOR UPDATE", [tx_world.facility_a.pk])
        busy = client.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="deadline-1")
        other.execute("ROLLBACK")

    assert busy.status_code == 503, busy.content
    assert busy["Content-Type"] == "application/problem+json"
    assert busy["Retry-After"] == "1"
    problem = busy.json()
    assert problem["status"] == 503 and problem["code"] == "database_busy"
    assert "lock not available" in problem["detail"]
    attempts = settings.MRV_DB_RETRY_ATTEMPTS
    messages = retry_messages(caplog)
    assert len(messages) == attempts
    assert all("lock not available" in m for m in messages)
    assert f"run {attempts} of {attempts}, answering 503" in messages[-1]
    # every run was rolled back: no report, no key, no audit event
    assert not Report.objects.exists()
    assert not IdempotencyRecord.objects.filter(key="deadline-1").exists()
    assert not AuditEvent.objects.filter(action="report.create").exists()

    first = client.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="deadline-1")
    again = client.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="deadline-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Report.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.create").count() == 1


@pytest.mark.django_db(transaction=True)
def test_inside_an_open_transaction_a_conflict_is_not_retried(
    tx_world: World, short_lock_timeout: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    client = tx_world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(tx_world.facility_a), format="json").json()
    with other_session() as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM mrv_report WHERE id = %s FOR UPDATE", [report["id"]])
        with transaction.atomic():  # a caller's transaction: only the caller may run it again
            response = client.post(
                f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json"
            )
        other.execute("ROLLBACK")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    messages = retry_messages(caplog)
    assert len(messages) == 1 and "run 1 of" in messages[0] and "answering 503" in messages[0]
    assert ReportRevision.objects.get(report_id=report["id"]).status == "draft"


def test_every_write_view_retries_transient_conflicts() -> None:
    from mrv.api.urls import urlpatterns

    without_database_writes = {
        "calculate",
        "calculate-compare",
        "cbam-embedded-emissions",
    }  # the engine alone
    unwrapped = [
        f"{method.upper()} {pattern.pattern}"
        for pattern in urlpatterns
        if pattern.name not in without_database_writes
        for method in ("post", "put", "patch", "delete")
        if (handler := getattr(pattern.callback.cls, method, None)) is not None
        and not getattr(handler, "retries_transient_conflicts", False)
    ]
    assert unwrapped == []


def test_the_lock_timeout_comes_from_the_environment() -> None:
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute(\"SELECT setting FROM pg_settings WHERE name = 'lock_timeout'\")\n"
        "    print(c.fetchone()[0])\n"
    )
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"{server}/postgres",  # any database of the server shows its session's setting
        "MRV_DB_LOCK_TIMEOUT_MS": "1234",
    }
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == "1234"
