"""The embedded mode (SQLite, no servers): migrations, demo data, and the same database guards.

Runs ``manage.py`` in a separate process against a fresh SQLite file, as ``make run`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SCRIPT = """
from django.db import connection, transaction
from mrv.services.demo import demo_seed
demo_seed()
refused = 0
for statement in (
    "UPDATE mrv_reportrevision SET digest = 'x' WHERE status = 'verified'",
    "UPDATE mrv_reportrevision SET status = 'draft' WHERE status = 'verified'",
    "DELETE FROM mrv_reportrevision WHERE status = 'verified'",
    "UPDATE mrv_activityline SET co2e = 0 WHERE revision_id IN "
    "(SELECT id FROM mrv_reportrevision WHERE status = 'verified')",
    "UPDATE mrv_auditevent SET actor_name = 'mallory'",
    "DELETE FROM mrv_auditevent",
):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except Exception as error:  # the trigger's own message, not any failure
        refused += any(word in str(error) for word in ("frozen", "cannot be", "append-only"))
print("refused", refused)
"""


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "MRV_VAR_DIR": str(tmp_path / "var"),
        "MRV_REDIS_URL": "",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_sqlite_embedded_mode_migrates_seeds_and_guards_submitted_data(tmp_path: Path) -> None:
    assert manage(tmp_path, "migrate", "--no-input").returncode == 0
    seeded = manage(tmp_path, "shell", "-c", SCRIPT)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    assert "refused 6" in seeded.stdout, seeded.stdout + seeded.stderr[-2000:]
    chain = manage(tmp_path, "verify_audit_chain")
    assert chain.returncode == 0 and "audit chain intact" in chain.stdout, chain.stderr
    rollup = manage(tmp_path, "rebuild_rollup", "--check")
    assert rollup.returncode == 0, rollup.stderr


DEPOSIT_SCRIPT = """
from django.db import connection, transaction
from django.contrib.auth.models import User
from mrv.models import DepositReview, Facility
from mrv.services.deposits import deposit_review
from mrv.services.demo import demo_seed
from mrv.services.reports import report_create, report_submit
from mrv.services.verification import checks_run
from tests.mrv.verification_helpers import plausible_cement
demo_seed()
facility = Facility.objects.filter(sector="cement").order_by("id").first()
operator = User.objects.filter(memberships__organisation=facility.operator).first()
regulator = User.objects.filter(memberships__role="regulator").first()
def deposited(month):
    report = report_create(by=operator, facility=facility, year=2031, month=month, methodology=None,
                           lines=plausible_cement()).report
    revision = report_submit(by=operator, report=report)
    checks_run(job_id=revision.verification_jobs.get().pk)
    return report
review = deposit_review(by=regulator, report=deposited(1), accept=True)
annual = report_create(by=operator, facility=facility, year=2031, month=None, methodology=None,
                       lines=plausible_cement()).report
report_submit(by=operator, report=annual)
pending = deposited(2).revisions.get()
refused = 0
for statement, params in (
    ("UPDATE mrv_depositreview SET decision = 'returned', comment = 'x'", []),
    ("DELETE FROM mrv_depositreview", []),
    ("INSERT INTO mrv_depositreview (revision_id, decision, comment, reviewed_by_id, reviewed_at) "
     "VALUES (%s, 'accepted', '', %s, '2031-02-01')", [annual.revisions.get().pk, regulator.pk]),
    ("INSERT INTO mrv_depositreview (revision_id, decision, comment, reviewed_by_id, reviewed_at) "
     "VALUES (%s, 'accepted', '', %s, '2031-02-01')", [pending.pk, regulator.pk]),
):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except Exception as error:
        refused += any(word in str(error) for word in ("written once", "matching status"))
print("reviews", DepositReview.objects.count(), "refused", refused)
"""


def test_sqlite_keeps_a_deposit_review_as_written(tmp_path: Path) -> None:
    assert manage(tmp_path, "migrate", "--no-input").returncode == 0
    ran = manage(tmp_path, "shell", "-c", DEPOSIT_SCRIPT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "reviews 1 refused 4" in ran.stdout, ran.stdout + ran.stderr[-2000:]
