"""Broker and worker drills, longer than the default suite wants: ``make drill-broker``.

Not collected by a plain ``pytest`` run (the file name does not start with ``test_``); the make
target names it. Real workers and a Redis of the drill's own, as in tests/mrv/test_worker_faults.py.

* A run killed again and again (the 8-million-row import that took its worker down with it, then was
  redelivered in a loop): after ``MRV_JOB_MAX_ATTEMPTS`` runs that never finished, the next delivery
  ends the job ``failed`` with its reason instead of running it.
* A broker that accepts connections and never answers: the submit still answers 202 within about
  ``2 x MRV_BROKER_TIMEOUT`` (printed, not asserted: the machine's speed is not the point) and the
  job waits ``queued`` for the sweeper.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mrv.models import VerificationJob
from tests.mrv.factories import World
from tests.mrv.own_redis import free_port
from tests.mrv.verification_helpers import FAULTS, plausible_cement
from tests.mrv.workers import Workers, blocked_by, forget_broker_connections, lock_holder

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]

#: Redis visibility timeout of the drill's workers: an unacknowledged message comes back after it.
VISIBILITY = 3


def submit(world: World, lines: list[dict[str, Any]]) -> tuple[VerificationJob, float]:
    """Submit a report through the API (202); its job and the seconds the submit request took."""
    client = world.client("operator_a")
    body = {"facility": world.facility_a.pk, "year": 2024, "lines": lines}
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    started = time.monotonic()
    response = client.post(f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json")
    took = time.monotonic() - started
    assert response.status_code == 202, response.content
    return VerificationJob.objects.get(revision__report_id=report.json()["id"], kind="verification"), took


def state(job: VerificationJob) -> tuple[str, int, str]:
    job.refresh_from_db()
    return job.status, job.attempts, job.failure_reason


def test_a_run_killed_again_and_again_ends_failed_at_the_cap(tx_world: World, workers: Workers) -> None:
    cap = 2
    env = {"MRV_JOB_MAX_ATTEMPTS": str(cap), "MRV_DB_LOCK_TIMEOUT_MS": "0"}
    job, _ = submit(tx_world, FAULTS[0][2])
    delivered = 0.0
    for run in range(1, cap + 1):
        # Findings cannot be written while the table is share-locked: the run commits "running"
        # (one more attempt), calculates, then waits; the whole worker is killed there.
        holder = lock_holder()
        try:
            holder.execute("LOCK TABLE mrv_finding IN SHARE MODE")
            time.sleep(max(0.0, delivered + VISIBILITY + 0.5 - time.time()))  # the message is back
            worker = workers.start(visibility_timeout=VISIBILITY, env=env)
            workers.wait_until(lambda h=holder: blocked_by(h), f"run {run} waiting on the held lock")
            assert state(job)[:2] == ("running", run)
            delivered = time.time()
            worker.kill()
        finally:
            holder.rollback()
            holder.close()
    time.sleep(max(0.0, delivered + VISIBILITY + 0.5 - time.time()))
    workers.start(visibility_timeout=VISIBILITY, env=env)
    workers.wait_until(lambda: state(job)[0] == "failed", "the delivery past the cap to fail the job")
    _, attempts, reason = state(job)
    assert attempts == cap
    assert reason.startswith(f"gave up: {cap} run(s) started and none finished"), reason
    assert "succeeded" in workers.started[-1].output() and "failed: gave up" in workers.started[-1].output()


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers: a hung broker."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", free_port()))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_a_submit_while_the_broker_hangs_answers_202(
    tx_world: World,
    silent_broker: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", silent_broker)
    settings.CELERY_BROKER_URL = silent_broker
    forget_broker_connections()
    try:
        with caplog.at_level(logging.WARNING, logger="mrv.services.background"):
            job, took = submit(tx_world, plausible_cement())
    finally:
        monkeypatch.undo()
        forget_broker_connections()
    print(f"\nsubmit with a broker that never answers: 202 after {took:.2f} s")
    assert any("could not publish mrv.run_verification_checks" in r.getMessage() for r in caplog.records)
    assert state(job)[:2] == ("queued", 0), "left for the sweeper"
