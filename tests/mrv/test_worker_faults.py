"""Verification jobs under faults, with real Celery workers on Redis and the test database on PostgreSQL.

Every worker here is a separate ``celery worker`` process (solo pool) consuming a queue of this test's
own, connected to the test database that pytest-django created, with a ``redis-server`` of the test's
own as broker (started on a free port, stopped at teardown: no test touches a Redis it did not start;
tests/mrv/workers.py, fixtures ``own_redis`` and ``workers`` in tests/mrv/conftest.py).
The test process submits through the API and watches the database. Nothing of ours is mocked: the
faults come from outside (SIGKILL, a crashed Redis, a lock held in another database session, two
verifiers at once).
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import pytest

from mrv.models import AuditEvent, Finding, Membership, VerificationJob
from mrv.services.facilities import facility_create
from mrv.services.verification import checks_run
from mrv.tasks import ping, run_verification_checks, sweep_stuck_jobs
from tests.mrv import factories
from tests.mrv.concurrency import run_in_parallel
from tests.mrv.factories import World
from tests.mrv.verification_helpers import FAULTS, plausible_cement
from tests.mrv.workers import Workers, blocked_by, forget_broker_connections, lock_holder

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]

#: Redis visibility timeout given to the workers of the kill tests (the service's default is 600 s).
VISIBILITY = 5


# -- helpers -------------------------------------------------------------------------------------------------
def submit(world: World, lines: list[dict[str, Any]], *, facility: Any = None) -> VerificationJob:
    client = world.client("operator_a")
    body = {"facility": (facility or world.facility_a).pk, "year": 2024, "lines": lines}
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    assert (
        client.post(
            f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
        ).status_code
        == 202
    )
    return VerificationJob.objects.get(revision__report_id=report.json()["id"], kind="verification")


def facility_of(world: World, sector: str, name: str) -> Any:
    """A facility of operator_a's of its own (one annual report per facility and year)."""
    return facility_create(
        by=world.regulator.user,
        name=f"{sector} plant {name}",
        operator=Membership.objects.get(user=world.operator_a.user).organisation,
        sector=sector,
        province="CN-NM",
        verification_body=world.facility_a.verification_body,
    )


def status_of(job: VerificationJob) -> str:
    return VerificationJob.objects.filter(pk=job.pk).values_list("status", flat=True).get()


def assert_checked_once(job: VerificationJob) -> list[tuple[str, str, str]]:
    """The job reached review with one set of automated findings and one revision transition each way."""
    job.refresh_from_db()
    assert job.status == "awaiting_review" and job.progress == 100, (job.status, job.failure_reason)
    assert job.revision.status == "in_verification"
    findings = list(
        Finding.objects.filter(job=job, source="automated").values_list("code", "severity", "pointer")
    )
    assert len(findings) == len({(code, pointer) for code, _, pointer in findings}), findings
    report = job.revision.report_id
    for action in ("revision.checks_running", "revision.in_verification"):
        assert AuditEvent.objects.filter(action=action, object_id=str(report)).count() == 1, action
    return findings


def unacked_deliveries(workers: Workers) -> list[float]:
    """Times at which Redis handed this queue's still unacknowledged messages to a consumer."""
    client = workers.broker.client()
    times = []
    for tag, value in client.hgetall("unacked").items():
        _, _, routing_key = json.loads(value)
        if routing_key == workers.queue:
            score = client.zscore("unacked_index", tag)
            assert score is not None
            times.append(score)
    return times


# -- 1. the happy path and every planted fault, through a real worker -------------------------------------
def test_a_real_worker_checks_a_plausible_report_and_finds_every_planted_fault(
    tx_world: World, workers: Workers
) -> None:
    workers.start()
    plausible = submit(tx_world, plausible_cement())
    faulty = [
        (submit(tx_world, lines, facility=facility_of(tx_world, sector, name)), code, pointer)
        for name, sector, lines, code, pointer in FAULTS
    ]
    jobs = [plausible, *(job for job, _, _ in faulty)]
    workers.wait_until(
        lambda: (
            VerificationJob.objects.filter(pk__in=[j.pk for j in jobs], status="awaiting_review").count()
            == len(jobs)
        ),
        f"{len(jobs)} jobs awaiting review",
    )
    findings = assert_checked_once(plausible)
    assert not [f for f in findings if f[1] == "error"], findings
    assert plausible.attempts == 1 and plausible.recalculation["difference"] == "0"
    report = tx_world.client("operator_a").get(f"/api/v1/reports/{plausible.revision.report_id}/").json()
    assert report["status"] == "in_verification" and report["verification_job"] == plausible.pk
    for job, code, pointer in faulty:
        found = assert_checked_once(job)
        assert code in {c for c, _, p in found if p == pointer}, (code, pointer, found)
        assert job.attempts == 1


# -- 2. SIGKILL mid-job: the broker delivers the unacknowledged message again ---------------------------
@pytest.mark.parametrize(
    "moment",
    ["before-the-checks-start", "after-the-checks-ran-before-the-findings-are-written"],
)
def test_a_worker_killed_during_a_job_leaves_it_to_the_next_worker(
    tx_world: World, workers: Workers, moment: str
) -> None:
    lines = FAULTS[0][2]  # percent-as-fraction: the checks have something to find
    holder = lock_holder()
    try:
        if moment == "before-the-checks-start":
            # The job row is locked before any worker sees the message: checks_run waits on its
            # first SELECT ... FOR UPDATE, with nothing of the run written yet.
            job = submit(tx_world, lines)
            holder.execute("SELECT id FROM mrv_verificationjob WHERE id = %s FOR UPDATE", [job.pk])
            first = workers.start(visibility_timeout=VISIBILITY)
        else:
            # Findings cannot be written while the table is share-locked: the run commits "running"
            # (attempt 1), calculates every check, then waits in its second transaction.
            holder.execute("LOCK TABLE mrv_finding IN SHARE MODE")
            first = workers.start(visibility_timeout=VISIBILITY)
            job = submit(tx_world, lines)
        workers.wait_until(lambda: blocked_by(holder), "the worker waiting on the held lock")
        job.refresh_from_db()
        if moment == "before-the-checks-start":
            assert (job.status, job.attempts) == ("queued", 0)
        else:
            assert (job.status, job.attempts) == ("running", 1)
        first.kill()
        delivered = unacked_deliveries(workers)
        assert len(delivered) == 1, "the killed worker's message should be left unacknowledged in Redis"
    finally:
        holder.rollback()
        holder.close()
    assert status_of(job) == ("queued" if moment == "before-the-checks-start" else "running")
    # Redis hands an unacknowledged message out again once it is older than the visibility timeout;
    # a starting worker restores such messages at once (later only every ~100 s), so start after that.
    time.sleep(max(0.0, delivered[0] + VISIBILITY + 0.5 - time.time()))
    workers.start(visibility_timeout=VISIBILITY)
    workers.wait_until(lambda: status_of(job) == "awaiting_review", "the redelivered job to complete")
    findings = assert_checked_once(job)
    assert FAULTS[0][3] in {code for code, _, _ in findings}
    assert job.attempts == (1 if moment == "before-the-checks-start" else 2)
    assert unacked_deliveries(workers) == []
    assert "Task mrv.run_verification_checks" in workers.started[1].output()


# -- 3. Redis lost the message between submit and execution: only the sweeper's re-enqueue completes it ---
def waiting_tasks(workers: Workers) -> list[tuple[str, list[Any]]]:
    """The tasks (name, arguments) of the messages waiting in this test's queue, oldest first."""
    messages = [json.loads(m) for m in workers.broker.client().lrange(workers.queue, 0, -1)]
    tasks = []
    for message in reversed(messages):  # kombu pushes on the left and pops on the right
        args, _, _ = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    return tasks


def test_a_job_whose_message_redis_lost_is_completed_after_the_sweeper(
    tx_world: World, workers: Workers, settings: Any
) -> None:
    settings.MRV_JOB_STUCK_SECONDS = 0
    job = submit(tx_world, plausible_cement())  # no worker yet: the message waits in Redis
    assert waiting_tasks(workers) == [("mrv.run_verification_checks", [job.pk])]
    workers.broker.crash()
    workers.broker.start()  # same port, empty: it kept nothing on disk
    forget_broker_connections()
    assert waiting_tasks(workers) == [], "Redis keeps nothing on disk: the message should be gone"

    # Control: a live worker on the queue runs what it is given (a ping sent now), yet the job stays
    # queued: without the sweeper nothing would ever run it.
    idle = workers.start()
    sent = ping.apply_async(queue=workers.queue)
    pinged = re.compile(rf"Task mrv\.ping\[{sent.id}\] succeeded")
    workers.wait_until(lambda: pinged.search(idle.output()), "the worker to answer a ping")
    assert status_of(job) == "queued" and waiting_tasks(workers) == []
    idle.stop()

    assert sweep_stuck_jobs() == 1  # what Celery beat runs every MRV_SWEEP_INTERVAL_SECONDS
    assert waiting_tasks(workers) == [("mrv.run_verification_checks", [job.pk])], "published again"
    workers.start()
    workers.wait_until(lambda: status_of(job) == "awaiting_review", "the re-enqueued job to complete")
    assert_checked_once(job)
    assert job.attempts == 1


# -- 4. the task run twice by hand ------------------------------------------------------------------------
def test_running_the_task_twice_by_hand_leaves_one_set_of_findings(world: World) -> None:
    job = submit(world, FAULTS[0][2])
    assert run_verification_checks(job.pk).startswith("done")
    first = sorted(assert_checked_once(job))
    assert first
    assert run_verification_checks(job.pk) == "skipped: job is awaiting_review"
    result = run_verification_checks.apply(args=[job.pk])
    assert result.successful() and result.get() == "skipped: job is awaiting_review"
    assert sorted(assert_checked_once(job)) == first
    assert job.attempts == 1
    # A message delivered again after a run that died past its first transaction: the findings are
    # replaced as a whole, never added to.
    VerificationJob.objects.filter(pk=job.pk).update(status="running")
    assert run_verification_checks.apply(args=[job.pk]).get().startswith("done")
    job.refresh_from_db()
    assert job.status == "awaiting_review" and job.attempts == 2
    assert sorted(Finding.objects.filter(job=job).values_list("code", "severity", "pointer")) == first


# -- 5. two verifiers of one body claim the same job at once ------------------------------------------------


def test_two_verifiers_claiming_one_job_at_once_one_wins(tx_world: World) -> None:
    job = submit(tx_world, plausible_cement())
    checks_run(job_id=job.pk)
    body = Membership.objects.get(user=tx_world.verifier_a.user).organisation
    colleague = factories.api_user(role="verifier", organisation_name=body.name)
    clients = [tx_world.client("verifier_a"), factories.client_for(colleague)]
    url = f"/api/v1/verification-jobs/{job.pk}/claim/"
    responses = run_in_parallel(*(lambda c=c: c.post(url) for c in clients))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    loser = responses[1 - winner]
    assert loser["Content-Type"].startswith("application/problem+json")
    assert loser.json()["code"] == "conflict"
    job.refresh_from_db()
    users = [tx_world.verifier_a.user, colleague.user]
    assert job.status == "in_review" and job.claimed_by_id == users[winner].pk
    assert AuditEvent.objects.filter(action="job.claim").count() == 1
