"""The deadline-day drill (issue 17): operators creating and submitting reports at the same time.

``make drill-deadline`` (``python -m bench.deadline``) on this machine, everything of its own:

* PostgreSQL database ``mrv_drill`` (dropped, created and migrated by the drill; ``DRILL_DATABASE_URL``);
* a ``redis-server`` on a free port (broker and shared cache), stopped at the end;
* gunicorn with ``DRILL_WORKERS`` (2) sync workers and a Celery worker running the automated checks;
* ``DRILL_OPERATORS`` (8) operators, each with a facility of their own, creating reports (with an
  ``Idempotency-Key``) and submitting them for ``DRILL_SECONDS`` (45); a verifier returns every fourth
  job it sees, and operators revise and submit again what came back.

A client retries an answer of 5xx (or a dropped connection) with the same ``Idempotency-Key`` after
its ``Retry-After``, as a well-behaved client would; every answer is counted, retried or not.

It prints requests/s, latency percentiles and status counts per operation, the deadlocks PostgreSQL
counted in the drill's database and the retries the service logged; then checks that nothing
accepted was lost: every 201/202 answered is in the database, every submitted revision has exactly
one verification job, and ``verify_audit_chain`` passes. Exit status 1 on any 5xx or any loss.
Logs are kept under ``var/drill/`` (gunicorn's, the worker's, Redis's).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DRILL_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_drill"
EXAMPLES = json.loads((ROOT / "fixtures" / "line_examples.json").read_text())
SECTORS = ("cement", "steel", "aluminium")
#: A client waits at most this long on a Retry-After, and tries one request at most this many times.
MAX_WAIT_S, MAX_TRIES = 2.0, 4


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_database(url: str) -> None:
    """Drop and create the drill's own database (never the service's)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    assert name.startswith("mrv_drill"), "the drill only ever recreates a database named mrv_drill*"
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def deadlocks(url: str) -> int:
    """Deadlocks PostgreSQL detected in the drill's database so far (``pg_stat_database``)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        row = connection.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0]) if row else 0


class Processes:
    """The servers the drill starts, each in a session of its own, stopped by their ids at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.terminate()  # the main process shuts its own workers down (warm shutdown)
        for process in reversed(self.started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def wait_until(check: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up within {timeout:g} s")


@dataclass
class Tally:
    """Every answer of the run: status counts and latencies per operation, what was accepted."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    submitted: list[tuple[int, int]] = field(default_factory=list)
    revised: list[tuple[int, int]] = field(default_factory=list)

    def record(self, operation: str, status: int, seconds: float, body: bytes) -> None:
        with self.lock:
            self.statuses[(operation, status)] += 1
            self.latencies[operation].append(seconds)
            if (status >= 400 or status == 0) and len(self.failures) < 5:
                self.failures.append(f"{operation} {status}: {body[:300].decode(errors='replace')}")


class Client:
    """One keep-alive connection with one API token."""

    def __init__(self, port: int, token: str, tally: Tally) -> None:
        self.port, self.token, self.tally = port, token, tally
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self, operation: str, method: str, path: str, body: Any = None, *, key: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        status, raw = 0, b""
        for _ in range(MAX_TRIES):
            start = time.perf_counter()
            retry_after = "0.2"
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                status = response.status
                retry_after = response.getheader("Retry-After") or retry_after
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                status, raw = 0, repr(error).encode()
            self.tally.record(operation, status, time.perf_counter() - start, raw)
            if status and status < 500:
                return status, json.loads(raw) if raw else None
            # a 5xx, or no answer: safe to try again with the same key (or when nothing was written)
            if status == 0 and key is None and method != "GET":
                break
            time.sleep(min(float(retry_after), MAX_WAIT_S))
        return status, None


def operator_loop(client: Client, facility: int, sector: str, stop: threading.Event, seed: int) -> None:
    tally, rng = client.tally, random.Random(seed)
    for period in range(10**6):
        if stop.is_set():
            return
        body = {"facility": facility, "year": 2022 + period // 12, "month": period % 12 + 1}
        body["lines"] = EXAMPLES[sector]
        status, report = client.call("create", "POST", "/api/v1/reports/", body, key=uuid.uuid4().hex)
        if status == 201:
            with tally.lock:
                tally.created.append(report["id"])
            status, summary = client.call(
                "submit",
                "POST",
                f"/api/v1/reports/{report['id']}/submit/",
                {"certify": True},
                key=uuid.uuid4().hex,
            )
            if status == 202:
                with tally.lock:
                    tally.submitted.append((summary["id"], summary["revision"]))
        if period % 4 == 3 or rng.random() < 0.1:
            status, page = client.call("list", "GET", "/api/v1/reports/?status=returned&page_size=3")
            for row in (page or {}).get("results", [])[:1]:
                status, summary = client.call("revise", "POST", f"/api/v1/reports/{row['id']}/revise/")
                if status != 201:
                    continue
                with tally.lock:
                    tally.revised.append((summary["id"], summary["revision"]))
                status, summary = client.call(
                    "submit",
                    "POST",
                    f"/api/v1/reports/{row['id']}/submit/",
                    {"certify": True},
                    key=uuid.uuid4().hex,
                )
                if status == 202:
                    with tally.lock:
                        tally.submitted.append((summary["id"], summary["revision"]))


def verifier_loop(client: Client, stop: threading.Event) -> None:
    """Claim every fourth job awaiting review and return it (not_verified): those come back as revises."""
    seen: set[int] = set()
    while not stop.is_set():
        status, page = client.call(
            "jobs", "GET", "/api/v1/verification-jobs/?status=awaiting_review&page_size=20"
        )
        for job in (page or {}).get("results", []):
            if job["id"] in seen or job["id"] % 4:
                continue
            seen.add(job["id"])
            status, _ = client.call("claim", "POST", f"/api/v1/verification-jobs/{job['id']}/claim/")
            if status == 200:
                client.call(
                    "opinion",
                    "POST",
                    f"/api/v1/verification-jobs/{job['id']}/opinion/",
                    {"opinion": "not_verified", "statement": "Deadline drill: returned for correction."},
                )
        stop.wait(0.5)


def report_latencies(tally: Tally, elapsed: float) -> tuple[Counter[int], int]:
    """Print throughput and per-operation rate, p50/p95/p99/max and statuses; return the answers by
    status and the count of 5xx or no answer (status 0)."""
    total = sum(tally.statuses.values())
    print(f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s")
    print(
        f"\n  {'operation':<10} {'count':>6} {'per s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7}  statuses"
    )
    for operation, samples in sorted(tally.latencies.items()):
        statuses = ", ".join(
            f"{status}: {count}" for (op, status), count in sorted(tally.statuses.items()) if op == operation
        )
        print(
            f"  {operation:<10} {len(samples):>6} {len(samples) / elapsed:>6.1f} "
            f"{statistics.median(samples) * 1000:>7.0f} {percentile(samples, 0.95) * 1000:>7.0f} "
            f"{percentile(samples, 0.99) * 1000:>7.0f} {max(samples) * 1000:>7.0f}  {statuses}"
        )
    by_status = Counter[int]()
    for (_, status), count in tally.statuses.items():
        by_status[status] += count
    return by_status, sum(count for status, count in by_status.items() if status >= 500 or status == 0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def seed(operators: int) -> tuple[list[tuple[str, int, str]], str]:
    """``operators`` operators with a facility each (one sector in turn), and one verifier of them all."""
    from mrv.models import Membership
    from mrv.services.facilities import facility_create
    from mrv.services.users import user_create_with_token

    regulator, _ = user_create_with_token(
        username="drill-regulator", role="regulator", organisation_name="Drill Authority"
    )
    verifier, verifier_token = user_create_with_token(
        username="drill-verifier", role="verifier", organisation_name="Drill Verification Body"
    )
    body = Membership.objects.get(user=verifier).organisation
    seats = []
    for index in range(operators):
        user, token = user_create_with_token(
            username=f"drill-operator-{index}", role="operator", organisation_name=f"Drill Operator {index}"
        )
        sector = SECTORS[index % len(SECTORS)]
        facility = facility_create(
            by=regulator,
            name=f"Drill plant {index}",
            operator=Membership.objects.get(user=user).organisation,
            sector=sector,
            province="CN-JS",
            verification_body=body,
        )
        seats.append((token.key, facility.pk, sector))
    return seats, verifier_token.key


def check(tally: Tally) -> list[str]:
    """What was accepted and is not in the database as answered; an audit chain that does not verify."""
    from django.core.management import CommandError, call_command
    from django.db.models import Count

    from mrv.models import Report, ReportRevision, VerificationJob

    problems = []
    missing = set(tally.created) - set(
        Report.objects.filter(pk__in=tally.created).values_list("pk", flat=True)
    )
    if missing:
        problems.append(f"{len(missing)} created report(s) missing: {sorted(missing)[:10]}")
    stored = {
        (report, number): status
        for report, number, status in ReportRevision.objects.values_list("report_id", "number", "status")
    }
    lost = [pair for pair in tally.submitted if stored.get(pair, "draft") == "draft"]
    if lost:
        problems.append(f"{len(lost)} submitted revision(s) not submitted in the database: {lost[:10]}")
    gone = [pair for pair in tally.revised if pair not in stored]
    if gone:
        problems.append(f"{len(gone)} revision(s) answered 201 missing: {gone[:10]}")
    jobs = dict(
        VerificationJob.objects.filter(kind="verification")
        .values_list("revision_id")
        .annotate(n=Count("id"))
        .values_list("revision_id", "n")
    )
    out_of_draft = ReportRevision.objects.exclude(status="draft").values_list("pk", flat=True)
    wrong = [pk for pk in out_of_draft if jobs.get(pk, 0) != 1]
    if wrong:
        problems.append(f"{len(wrong)} submitted revision(s) without exactly one verification job")
    try:
        call_command("verify_audit_chain")
    except CommandError as error:
        problems.append(f"verify_audit_chain: {error}")
    return problems


def main() -> int:
    seconds = float(os.environ.get("DRILL_SECONDS", "45"))
    operators = int(os.environ.get("DRILL_OPERATORS", "8"))
    workers = int(os.environ.get("DRILL_WORKERS", "2"))
    database = os.environ.get("DRILL_DATABASE_URL", DRILL_DATABASE)
    folder = ROOT / "var" / "drill" / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True)
    processes = Processes(folder)
    try:
        return run(seconds, operators, workers, database, folder, processes)
    finally:
        processes.stop()
        print(f"\nlogs: {folder.relative_to(ROOT)}")


def run(
    seconds: float, operators: int, workers: int, database: str, folder: Path, processes: Processes
) -> int:
    redis_port, web_port = free_port(), free_port()
    processes.start(
        "redis",
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MRV_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
        "MRV_LOG_LEVEL": "WARNING",
        # deadline day is not an abuse: the rate limits are out of the way
        "MRV_THROTTLE_USER_BURST": "1000000/min",
        "MRV_THROTTLE_USER_SUSTAINED": "100000000/day",
        "MRV_THROTTLE_ADDRESS": "1000000/min",
    }
    os.environ.update(env)
    fresh_database(database)
    import django
    import redis
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    wait_until(lambda: redis.Redis(port=redis_port).ping(), "redis-server")
    seats, verifier_token = seed(operators)
    bin_dir = Path(sys.executable).parent
    processes.start(
        "gunicorn",
        [
            str(bin_dir / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--worker-class",
            "sync",
            "--workers",
            str(workers),
        ],
        env,
    )
    processes.start(
        "celery",
        [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "-Q",
            "mrv,mrv-imports",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
    )

    def healthy() -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", web_port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200

    wait_until(healthy, "gunicorn")
    deadlocks_before = deadlocks(database)
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(
            target=operator_loop, args=(Client(web_port, token, tally), facility, sector, stop, index)
        )
        for index, (token, facility, sector) in enumerate(seats)
    ]
    threads.append(
        threading.Thread(target=verifier_loop, args=(Client(web_port, verifier_token, tally), stop))
    )
    print(
        f"deadline drill: {operators} operators + 1 verifier for {seconds:g} s against gunicorn "
        f"({workers} sync workers) on PostgreSQL ({database.rsplit('/', 1)[1]}) and Redis :{redis_port}"
    )
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    time.sleep(1.0)  # the statistics collector's lag
    detected = deadlocks(database) - deadlocks_before
    processes.stop()

    by_status, server_errors = report_latencies(tally, elapsed)
    print(f"\n  statuses: {dict(sorted(by_status.items()))}; 5xx or no answer: {server_errors}")
    logged = (folder / "gunicorn.log").read_text(errors="replace")
    print(
        f"  PostgreSQL deadlocks in {database.rsplit('/', 1)[1]}: {detected}; "
        f"server-side retries logged: {logged.count('transient database conflict')}; "
        f"'deadlock detected' in the web log: {logged.count('deadlock detected')}"
    )
    for failure in tally.failures:
        print(f"  e.g. {failure}")
    print(
        f"\n  accepted: {len(tally.created)} creates (201), {len(tally.submitted)} submits (202), "
        f"{len(tally.revised)} revises (201)"
    )
    problems = check(tally)
    for problem in problems:
        print(f"  LOST: {problem}")
    if not problems:
        print("  nothing lost: every accepted create, submit and revise is in the database, every submitted")
        print("  revision has exactly one verification job, verify_audit_chain passes")
    ok = server_errors == 0 and not problems
    print(f"\n{'PASS' if ok else 'FAIL'}: {server_errors} 5xx, {len(problems)} loss check(s) failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
