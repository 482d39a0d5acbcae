"""The backup and restore drill of issue 17 (``make drill-restore``, ``python -m bench.restore``).

1. A loaded database of its own, ``mrv_drill_restore`` (``RESTORE_DATABASE_URL``; dropped, created,
   migrated): ``RESTORE_OPERATORS`` (6) operators with facilities of three sectors, each submitting
   ``RESTORE_MONTHS`` (6) monthly reports through the API; the automated checks run; the verifier
   verifies three in four and returns the rest, operators revise and submit those again; a signed
   audit checkpoint is taken (stored in the database and written to the checkpoint folder).
2. ``pg_dump --format=custom`` of it, ``pg_restore --no-owner`` into a new database
   (``<name>_copy``).
3. On the original and on the copy, each in a process of its own pointed at that database:
   ``verify_audit_chain`` (with the same MRV_AUDIT_KEY and checkpoint folder), the aggregates by
   sector and year, sector and province (verified totals, exact figures), rows per table and every
   chain's head. The drill passes when the copy verifies and every figure is equal.
4. What does not travel in the dump: the copy checked under another MRV_AUDIT_KEY, and with an empty
   checkpoint folder, must both fail ``verify_audit_chain`` (the key and the checkpoint files are part
   of the backup: README, "Backup and restore").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESTORE_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_drill_restore"
DRILL_KEY = "restore-drill-audit-key-not-a-secret"
TABLES = (
    "mrv_report",
    "mrv_reportrevision",
    "mrv_activityline",
    "mrv_verificationjob",
    "mrv_auditevent",
    "mrv_auditchainhead",
    "mrv_auditcheckpoint",
)


def load(operators: int, months: int) -> dict[str, int]:
    """Reports created, submitted, checked, verified or returned, revised and verified (in this process)."""
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from bench.deadline import EXAMPLES
    from bench.loadtest import seed
    from mrv.models import VerificationJob
    from mrv.services.verification import checks_run

    seats, _, verifier_token = seed(operators)

    def client(token: str) -> APIClient:
        api = APIClient(SERVER_NAME="localhost")
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api

    def run_checks() -> None:
        for job in VerificationJob.objects.filter(status="queued").values_list("pk", flat=True):
            checks_run(job_id=job)

    verifier = client(verifier_token)
    counts = {"submitted": 0, "verified": 0, "returned": 0}
    for token, facilities, sector in seats:
        operator = client(token)
        for month in range(1, months + 1):
            body = {"facility": facilities[0], "year": 2024, "month": month, "lines": EXAMPLES[sector]}
            report = operator.post("/api/v1/reports/", body, format="json")
            assert report.status_code == 201, report.content[:300]
            submitted = operator.post(
                f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
            )
            assert submitted.status_code == 202, submitted.content[:300]
            counts["submitted"] += 1
    for round_ in range(2):
        run_checks()
        for job in VerificationJob.objects.filter(status="awaiting_review").order_by("pk"):
            assert verifier.post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
            opinion = "verified" if round_ or job.pk % 4 else "not_verified"
            if opinion == "verified":  # every automated finding answered first
                detail = verifier.get(f"/api/v1/verification-jobs/{job.pk}/").json()
                for finding in detail["findings"]:
                    verifier.post(
                        f"/api/v1/verification-jobs/{job.pk}/findings/{finding['id']}/acknowledge/",
                        {"note": "Restore drill: checked."},
                        format="json",
                    )
            answer = verifier.post(
                f"/api/v1/verification-jobs/{job.pk}/opinion/",
                {"opinion": opinion, "statement": "Restore drill."},
                format="json",
            )
            assert answer.status_code == 200, answer.content[:300]
            counts["verified" if opinion == "verified" else "returned"] += 1
            if opinion == "not_verified":
                report = job.revision.report_id
                token = next(t for t, facilities, _ in seats if job.revision.report.facility_id in facilities)
                assert client(token).post(f"/api/v1/reports/{report}/revise/").status_code == 201
                assert (
                    client(token)
                    .post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json")
                    .status_code
                    == 202
                )
                counts["submitted"] += 1
    call_command("audit_checkpoint", verbosity=0)
    return counts


def measure() -> dict[str, Any]:
    """What must be equal after a restore (run in a process pointed at one database)."""
    from django.core.management import CommandError, call_command
    from django.db import connection

    from mrv.models import AuditChainHead
    from mrv.selectors.aggregates import aggregate_totals

    try:
        with open(os.devnull, "w") as quiet:
            call_command("verify_audit_chain", stdout=quiet, stderr=quiet)
        verified = "intact"
    except CommandError as error:
        verified = str(error)
    with connection.cursor() as cursor:
        rows = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows[table] = cursor.fetchone()[0]
    return {
        "verify_audit_chain": verified,
        "rows": rows,
        "heads": sorted(AuditChainHead.objects.values_list("chain", "sequence", "hash")),
        "aggregates": [
            aggregate_totals(group_by=group_by, filters={"period": "monthly"})
            for group_by in (["sector", "year", "month"], ["sector", "province"])
        ],
    }


def measured(database: str, checkpoints: Path, key: str = DRILL_KEY) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "MRV_AUDIT_KEY": key,
        "MRV_AUDIT_CHECKPOINT_DIR": str(checkpoints),
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.restore", "measure"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def dump_and_restore(source: str, target: str, dump: Path) -> tuple[float, float]:
    """pg_dump the source (custom format) and pg_restore it into a new database; seconds of each."""
    from bench.deadline import fresh_database

    start = time.perf_counter()
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source], check=True)
    dumped = time.perf_counter() - start
    fresh_database(target)
    start = time.perf_counter()
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], check=True
    )
    return dumped, time.perf_counter() - start


def main() -> int:
    if sys.argv[1:] == ["measure"]:
        import django

        django.setup()
        print(json.dumps(measure(), default=str))
        return 0
    from bench.deadline import fresh_database

    source = os.environ.get("RESTORE_DATABASE_URL", RESTORE_DATABASE)
    target = source + "_copy"
    operators = int(os.environ.get("RESTORE_OPERATORS", "6"))
    months = int(os.environ.get("RESTORE_MONTHS", "6"))
    folder = ROOT / "var" / "drill" / f"restore-{time.strftime('%Y%m%d-%H%M%S')}"
    checkpoints = folder / "checkpoints"
    checkpoints.mkdir(parents=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": source,
            "CELERY_BROKER_URL": "memory://",
            "MRV_REDIS_URL": "",
            "MRV_LOG_LEVEL": "WARNING",
            "MRV_AUDIT_KEY": DRILL_KEY,
            "MRV_AUDIT_CHECKPOINT_DIR": str(checkpoints),
        }
    )
    fresh_database(source)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    counts = load(operators, months)
    from django.db import connections

    connections.close_all()
    print(
        f"restore drill: {operators} operators, {counts['submitted']} submissions, {counts['verified']} "
        f"verified, {counts['returned']} returned and submitted again, in {source.rsplit('/', 1)[1]}"
    )
    before = measured(source, checkpoints)
    dumped, restored = dump_and_restore(source, target, folder / "mrv.dump")
    size = (folder / "mrv.dump").stat().st_size
    print(
        f"  pg_dump {dumped:.1f} s ({size / 1024:.0f} KiB), pg_restore into {target.rsplit('/', 1)[1]} {restored:.1f} s"
    )
    after = measured(target, checkpoints)
    problems = []
    if before["verify_audit_chain"] != "intact":
        problems.append(f"the original does not verify: {before['verify_audit_chain']}")
    if after["verify_audit_chain"] != "intact":
        problems.append(f"the copy does not verify: {after['verify_audit_chain']}")
    for part in ("rows", "heads", "aggregates"):
        if before[part] != after[part]:
            problems.append(f"{part} differ after the restore")
    groups = sum(len(answer["results"]) for answer in after["aggregates"])
    print(f"  verify_audit_chain on the copy: {after['verify_audit_chain']}")
    print(f"  rows: {after['rows']}")
    print(
        f"  chain heads: {len(after['heads'])} equal: {before['heads'] == after['heads']}; aggregates "
        f"(monthly, by sector x year x month and sector x province; {groups} groups) equal: "
        f"{before['aggregates'] == after['aggregates']}"
    )
    wrong_key = measured(target, checkpoints, key="another-key-than-the-one-that-signed")
    empty = folder / "no-checkpoints"
    empty.mkdir()
    no_files = measured(target, empty)
    print(f"  the copy under another MRV_AUDIT_KEY: {wrong_key['verify_audit_chain']}")
    print(f"  the copy without the checkpoint files: {no_files['verify_audit_chain']}")
    if wrong_key["verify_audit_chain"] == "intact":
        problems.append("the copy verified under another key")
    for problem in problems:
        print(f"  FAULT: {problem}")
    print(
        f"\n{'PASS' if not problems else 'FAIL'}: {len(problems)} fault(s); files in {folder.relative_to(ROOT)}"
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
