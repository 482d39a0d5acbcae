"""The deadline-day deadlock of issue 17, reproduced on PostgreSQL.

What deadlocked: the Celery worker's job lock (``checks_run``) was taken with
``select_for_update().select_related("revision__report__facility")``, which locked the facility row
FOR UPDATE for the whole first transaction of the run, up to its audit append; a web submit on the
same facility holds its audit-chain head and, at COMMIT, checks its foreign keys on ``mrv_facility``
(FOR KEY SHARE), which waits on the worker's facility lock, while the worker waits on the submit's
audit-chain head: ``deadlock detected``.

Here that order is forced: a second session holds the audit-chain heads of both facilities; a submit
on each facility, then a checks run of an earlier report of each facility, queue behind it (the
submits first); then it lets go. Each submit gets its chain head first and commits; each run then
appends. With the old job lock, each run holds its facility row when its submit checks its foreign
keys at COMMIT: the circle closes and PostgreSQL aborts one of them (the run, which waited first).
While the runs wait, pg_locks (seen from another session) shows their lock on mrv_verificationjob and
none on mrv_facility (the old pattern showed RowShareLock there: FOR UPDATE of the joined facility).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mrv.models import ReportRevision, VerificationJob
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body
from tests.mrv.test_transient_conflicts import RETRY_LOGGER, InThread, other_session


def submitted_report(client: Any, facility: Any, year: int) -> int:
    report = client.post("/api/v1/reports/", report_body(facility, year=year), format="json").json()
    assert (
        client.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    return int(report["id"])


def draft_report(client: Any, facility: Any, year: int) -> int:
    response = client.post("/api/v1/reports/", report_body(facility, year=year), format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def job_of(report_id: int) -> VerificationJob:
    job: VerificationJob = VerificationJob.objects.get(revision__report_id=report_id)
    return job


def in_thread_with_pid(call: Callable[[], Any]) -> tuple[InThread, list[int]]:
    """``call`` in a thread of its own; the list receives the backend pid of the thread's session."""
    pid: list[int] = []

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid.append(cursor.fetchone()[0])
        return call()

    return InThread(run), pid


def wait_until_sessions_wait_for_locks(count: int) -> None:
    """Until ``count`` sessions of the test database wait for a lock (behind the holder, or behind one
    that waits for it: a second waiter for a row waits on the first)."""
    with other_session() as monitor:
        for _ in range(1000):
            waiting = monitor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting >= count:
                return
            time.sleep(0.01)
    pytest.fail(f"fewer than {count} sessions waited for a lock")


def submit(client: Any, report_id: int, key: str) -> Callable[[], Any]:
    return lambda: client.post(
        f"/api/v1/reports/{report_id}/submit/", {"certify": True}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


@pytest.mark.django_db(transaction=True)
def test_submits_on_two_facilities_and_the_checks_runs_of_both_do_not_deadlock(
    tx_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    client_a, client_b = tx_world.client("operator_a"), tx_world.client("operator_b")
    # each facility: a report submitted earlier (its job about to be checked), and one submitted now
    earlier = [
        submitted_report(client_a, tx_world.facility_a, 2023),
        submitted_report(client_b, tx_world.facility_b, 2023),
    ]
    now_a = draft_report(client_a, tx_world.facility_a, 2024)
    now_b = draft_report(client_b, tx_world.facility_b, 2024)
    jobs = [job_of(report).pk for report in earlier]
    chains = [f"facility:{tx_world.facility_a.pk}", f"facility:{tx_world.facility_b.pk}"]

    with other_session() as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM mrv_auditchainhead WHERE chain = ANY(%s) FOR UPDATE", [chains])
        submits = [
            InThread(submit(client_a, now_a, "deadline-a")),
            InThread(submit(client_b, now_b, "deadline-b")),
        ]
        wait_until_sessions_wait_for_locks(2)
        runs = [in_thread_with_pid(functools.partial(checks_run, job_id=job)) for job in jobs]
        wait_until_sessions_wait_for_locks(4)
        # the runs hold their job locks, wait for their audit appends, and hold no lock on a facility
        worker_pids = [pid[0] for _, pid in runs]
        with other_session() as monitor:
            job_locks = monitor.execute(
                "SELECT DISTINCT pid FROM pg_locks WHERE relation = 'mrv_verificationjob'::regclass "
                "AND mode = 'RowShareLock' AND pid = ANY(%s)",
                [worker_pids],
            ).fetchall()
            facility_locks = monitor.execute(
                "SELECT pid, mode FROM pg_locks WHERE relation = 'mrv_facility'::regclass "
                "AND mode <> 'AccessShareLock' AND pid = ANY(%s)",
                [worker_pids],
            ).fetchall()
        holder.execute("ROLLBACK")
        answers = [thread.join() for thread in submits]
        outcomes = [run.join() for run, _ in runs]  # a deadlock victim raises here

    assert sorted(pid for (pid,) in job_locks) == sorted(worker_pids)
    assert facility_locks == []
    assert [answer.status_code for answer in answers] == [202, 202], [a.content for a in answers]
    assert [answer.json()["status"] for answer in answers] == ["submitted", "submitted"]
    assert job_of(now_a).revision.status == "submitted"
    assert job_of(now_b).revision.status == "submitted"
    assert [record.getMessage() for record in caplog.records if record.name == RETRY_LOGGER] == []
    assert all(outcome.startswith("done:") for outcome in outcomes), outcomes
    assert {job.status for job in VerificationJob.objects.filter(pk__in=jobs)} == {"awaiting_review"}
    statuses = ReportRevision.objects.filter(report_id__in=earlier).values_list("status", flat=True)
    assert set(statuses) == {"in_verification"}


@pytest.mark.django_db(transaction=True)
def test_the_job_lock_of_a_checks_run_names_the_job_row_only(tx_world: World) -> None:
    client = tx_world.client("operator_a")
    job = job_of(submitted_report(client, tx_world.facility_a, 2024))
    with CaptureQueriesContext(connection) as queries:
        assert checks_run(job_id=job.pk).startswith("done:")
    locking = [
        q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"] or "FOR NO KEY" in q["sql"]
    ]
    job_locks = [sql for sql in locking if 'FROM "mrv_verificationjob"' in sql]
    assert len(job_locks) == 2  # the run's two transactions
    assert all('FOR UPDATE OF "mrv_verificationjob"' in sql for sql in job_locks), job_locks
    assert not any('OF "mrv_facility"' in sql or sql.rstrip().endswith("FOR UPDATE") for sql in job_locks)
