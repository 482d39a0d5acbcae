"""The load test and the fault drills of issue 17: a realistic mix of requests from many clients at once.

``make loadtest`` (``python -m bench.loadtest``) on this machine, everything of its own, as the
deadline drill (bench/deadline.py, whose pieces it reuses):

* PostgreSQL database ``mrv_drill_load`` (dropped, created and migrated; ``LOADTEST_DATABASE_URL``);
* a ``redis-server`` on a free port (broker, cache and rate limits), stopped at the end;
* gunicorn with ``LOADTEST_WORKERS`` (4) sync workers, a Celery worker (``LOADTEST_CELERY`` processes,
  2) consuming the checks' and the imports' queues;
* ``LOADTEST_CLIENTS`` (8) clients for ``LOADTEST_SECONDS`` (120), each an operator with a facility of
  its own (and the regulator's token for what only a regulator reads), each picking its next
  operation at random with the weights of :data:`MIX`: calculate, create+submit, import a line file
  into an empty draft and submit it, list reports, aggregates (JSON), downloads (the copy of record
  PDF of a submitted revision, the aggregates as CSV); and one verifier returning every fourth job.

The service's per-user rate limits (MRV_THROTTLE_*) would answer 429 to a load test long before the
machine is busy: the drill's server runs with limits out of the way (set in the environment below).

A client retries a dropped connection or a 5xx with the same ``Idempotency-Key`` (creates and
submits carry one; a calculation, a GET and a replacing import are safe to send again) after the
answer's ``Retry-After``; every answer is counted, retried or not.

``make drill-faults`` (``LOADTEST_FAULTS=1``) runs the same load and, during it, kills a gunicorn
worker with SIGKILL (at 20 % of the run; gunicorn starts another), kills the Celery worker's whole
process group with SIGKILL (at 40 %; started again at once, as a supervisor would) and restarts the
Redis the drill started (at 70 %: SIGKILL, then a new empty ``redis-server`` on the same port: every
queued message is gone). The drill plays Celery beat's sweeper (mrv.sweep_stuck_jobs) while it drains.
Clients must see only retryable answers (no answer, 503) besides their successes.

At the end, both print requests/s and p50/p95/p99 per operation, the statuses and the 5xx count,
then wait (at most ``LOADTEST_DRAIN_SECONDS``, 120) until no verification job is queued or running and
check that every accepted submission reached the verifier's queue exactly once (one verification job
per submitted revision, past its automated checks), every accepted create and revise is stored and
``verify_audit_chain`` passes. Exit status 1 otherwise. Logs under ``var/drill/``.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.deadline import (
    EXAMPLES,
    ROOT,
    SECTORS,
    Processes,
    Tally,
    check,
    free_port,
    fresh_database,
    report_latencies,
    verifier_loop,
    wait_until,
)
from bench.deadline import Client as DrillClient

LOAD_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_drill_load"
CALCULATIONS = [
    json.loads(path.read_text(encoding="utf-8"))["request"]
    for path in sorted((ROOT / "fixtures" / "examples").glob("*.json"))
]
#: Relative weights of the operations a client picks (a deadline day: mostly reading and calculating,
#: a third of the requests writing).
MIX = {
    "calculate": 25,
    "create+submit": 20,
    "import+submit": 8,
    "list": 20,
    "aggregates": 12,
    "download": 15,
}
#: A client tries one request at most this many times, waiting at most MAX_WAIT_S between tries.
MAX_TRIES, MAX_WAIT_S = 8, 2.0
RETRYABLE = {0, 503}
#: Reports are made for months from this year on (the methodology's defaults apply), on each of a
#: client's FACILITIES facilities in turn once the months up to 2100 are used up.
FIRST_YEAR, FACILITIES = 2022, 4


class Client(DrillClient):
    """One keep-alive connection; the operator's token and the regulator's."""

    def __init__(self, port: int, token: str, regulator: str, tally: Tally) -> None:
        super().__init__(port, token, tally)
        self.regulator = regulator
        self.retryable = Counter[int]()
        self.unexpected: list[str] = []

    def send(
        self,
        operation: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        safe: bool = False,
        as_regulator: bool = False,
        files: tuple[str, bytes] | None = None,
    ) -> tuple[int, Any]:
        """The request until it is answered below 500 (``safe``: may be sent again without a key)."""
        headers = {"Authorization": f"Token {self.regulator if as_regulator else self.token}"}
        data = None
        if files is not None:
            boundary = uuid.uuid4().hex
            name, content = files
            data = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                    f"Content-Type: text/csv\r\n\r\n"
                ).encode()
                + content
                + f"\r\n--{boundary}--\r\n".encode()
            )
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        status, raw, kind = 0, b"", ""
        for _ in range(MAX_TRIES):
            start = time.perf_counter()
            retry_after = "0.2"
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                status = response.status
                kind = response.getheader("Content-Type") or ""
                retry_after = response.getheader("Retry-After") or retry_after
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                status, raw = 0, repr(error).encode()
            self.tally.record(operation, status, time.perf_counter() - start, raw)
            if status in RETRYABLE:
                self.retryable[status] += 1
            elif status >= 400:
                self.unexpected.append(f"{operation} {method} {path} {status}: {raw[:200]!r}")
            if status and status < 500:
                return status, json.loads(raw) if raw and kind.startswith("application/json") else raw
            if status == 0 and key is None and method != "GET" and not safe:
                break
            time.sleep(min(float(retry_after), MAX_WAIT_S))
        return status, None


def client_loop(
    client: Client,
    facilities: list[int],
    sector: str,
    template: bytes,
    stop: threading.Event,
    seed: int,
) -> None:
    tally, rng = client.tally, random.Random(seed)
    operations, weights = list(MIX), list(MIX.values())
    periods = (2100 - FIRST_YEAR + 1) * 12  # years the API accepts, per facility
    mine: list[tuple[int, int]] = []  # this client's submitted (report, revision)
    period = 0

    def create(lines: list[Any] | None) -> int | None:
        nonlocal period
        body = {
            "facility": facilities[period // periods % len(facilities)],
            "year": FIRST_YEAR + period % periods // 12,
            "month": period % 12 + 1,
        }
        if lines is not None:
            body["lines"] = lines
        period += 1
        status, report = client.send("create", "POST", "/api/v1/reports/", body, key=uuid.uuid4().hex)
        if status != 201:
            return None
        with tally.lock:
            tally.created.append(report["id"])
        return int(report["id"])

    def submit(report: int) -> None:
        status, summary = client.send(
            "submit", "POST", f"/api/v1/reports/{report}/submit/", {"certify": True}, key=uuid.uuid4().hex
        )
        if status == 202:
            with tally.lock:
                tally.submitted.append((summary["id"], summary["revision"]))
            mine.append((summary["id"], summary["revision"]))

    while not stop.is_set():
        operation = rng.choices(operations, weights)[0]
        if operation == "calculate":
            client.send("calculate", "POST", "/api/v1/calculate/", rng.choice(CALCULATIONS), safe=True)
        elif operation == "create+submit":
            report = create(EXAMPLES[sector])
            if report is not None:
                submit(report)
        elif operation == "import+submit":
            report = create(None)
            if report is not None:
                status, _ = client.send(
                    "import",
                    "POST",
                    f"/api/v1/reports/{report}/lines/import/?mode=replace",
                    files=("lines.csv", template),
                    safe=True,  # replacing a draft's lines with the same file twice leaves the same lines
                )
                if status == 200:
                    submit(report)
        elif operation == "list":
            client.send("list", "GET", "/api/v1/reports/?page_size=20")
        elif operation == "aggregates":
            client.send("aggregates", "GET", "/api/v1/aggregates/?group_by=sector,year", as_regulator=True)
        elif mine and rng.random() < 0.6:
            report, number = rng.choice(mine)
            client.send("pdf", "GET", f"/api/v1/reports/{report}/revisions/{number}/copy-of-record.pdf")
        else:
            client.send(
                "csv", "GET", "/api/v1/aggregates/?group_by=sector,province&format=csv", as_regulator=True
            )


def seed(clients: int) -> tuple[list[tuple[str, list[int], str]], str, str]:
    """``clients`` operators with FACILITIES facilities each, a regulator and a verifier (tokens)."""
    from mrv.models import Membership
    from mrv.services.facilities import facility_create
    from mrv.services.users import user_create_with_token

    regulator, regulator_token = user_create_with_token(
        username="load-regulator", role="regulator", organisation_name="Load Authority"
    )
    verifier, verifier_token = user_create_with_token(
        username="load-verifier", role="verifier", organisation_name="Load Verification Body"
    )
    body = Membership.objects.get(user=verifier).organisation
    seats = []
    for index in range(clients):
        user, token = user_create_with_token(
            username=f"load-operator-{index}", role="operator", organisation_name=f"Load Operator {index}"
        )
        sector = SECTORS[index % len(SECTORS)]
        facilities = [
            facility_create(
                by=regulator,
                name=f"Load plant {index}-{number}",
                operator=Membership.objects.get(user=user).organisation,
                sector=sector,
                province=("CN-JS", "CN-SD", "CN-GD")[(index + number) % 3],
                verification_body=body,
            ).pk
            for number in range(FACILITIES)
        ]
        seats.append((token.key, facilities, sector))
    return seats, regulator_token.key, verifier_token.key


class Stack:
    """Redis, gunicorn and the Celery worker of the run, with the faults the drill inflicts on them."""

    def __init__(self, processes: Processes, env: dict[str, str], redis_port: int, web_port: int) -> None:
        self.processes, self.env = processes, env
        self.redis_port, self.web_port = redis_port, web_port
        self.bin = Path(sys.executable).parent
        self.redis: subprocess.Popen[bytes] | None = None
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.celery: subprocess.Popen[bytes] | None = None
        self.restarts = Counter[str]()

    def start_redis(self) -> None:
        import redis

        self.redis = self.processes.start(
            f"redis-{self.restarts['redis']}",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            self.env,
        )  # fmt: skip
        wait_until(lambda: redis.Redis(port=self.redis_port).ping(), "redis-server")

    def start_web(self, workers: int) -> None:
        self.gunicorn = self.processes.start(
            "gunicorn",
            [str(self.bin / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
             "--worker-class", "sync", "--workers", str(workers), "--timeout", "60", "--backlog", "2048"],
            self.env,
        )  # fmt: skip

        def healthy() -> bool:
            connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=2)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200

        wait_until(healthy, "gunicorn")

    def start_celery(self, concurrency: int) -> None:
        self.celery = self.processes.start(
            f"celery-{self.restarts['celery']}",
            [str(self.bin / "celery"), "-A", "config", "worker", f"--concurrency={concurrency}",
             "--loglevel=WARNING", "-Q", "mrv,mrv-imports", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            self.env,
        )  # fmt: skip

    def kill_web_worker(self) -> int:
        """SIGKILL one of gunicorn's workers (the master starts another); its pid."""
        assert self.gunicorn is not None
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children").read_text().split()
        victim = int(children[0])
        os.kill(victim, signal.SIGKILL)
        self.restarts["web worker"] += 1
        return victim

    def kill_celery(self, concurrency: int) -> None:
        """SIGKILL the worker's main process and its pool at once, then a new worker."""
        assert self.celery is not None
        os.killpg(self.celery.pid, signal.SIGKILL)
        self.celery.wait(timeout=10)
        self.restarts["celery"] += 1
        self.start_celery(concurrency)

    def restart_redis(self) -> None:
        """SIGKILL the drill's Redis (it keeps nothing on disk) and start an empty one on the same port."""
        assert self.redis is not None
        os.killpg(self.redis.pid, signal.SIGKILL)
        self.redis.wait(timeout=10)
        self.restarts["redis"] += 1
        self.start_redis()


def drain(seconds: float, sweep: bool) -> Counter[str]:
    """Wait until no verification job is queued or running (publishing again, as Celery beat's
    sweeper does, those whose message a restarted Redis lost); the jobs by status."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from mrv.models import VerificationJob
    from mrv.services.verification import job_rerun
    from mrv.tasks import sweep_stuck_jobs

    deadline, reruns = time.monotonic() + seconds, 0
    while True:
        statuses = Counter(VerificationJob.objects.values_list("status", flat=True))
        if not (statuses["queued"] or statuses["running"]) or time.monotonic() > deadline:
            return statuses + Counter({"re-run by the regulator": reruns})
        if sweep:
            sweep_stuck_jobs()
            # a job whose run died with its message (the worker killed, then Redis restarted) ends
            # failed at the sweeper's running cutoff; a regulator re-runs it, as the README says
            for job in VerificationJob.objects.filter(status="failed"):
                job_rerun(job=job, by=get_user_model().objects.get(username="load-regulator"))
                reruns += 1
        connection.close()
        time.sleep(2.0)


def reached_verifier(tally: Tally) -> list[str]:
    """Every accepted submission has one verification job, past its automated checks."""
    from mrv.models import VerificationJob

    jobs = Counter[tuple[int, int]]()
    waiting = set()
    for report, number, status in VerificationJob.objects.filter(kind="verification").values_list(
        "revision__report_id", "revision__number", "status"
    ):
        jobs[(report, number)] += 1
        if status in ("queued", "running", "failed"):
            waiting.add((report, number))
    problems = []
    accepted = set(tally.submitted)
    if len(accepted) != len(tally.submitted):
        problems.append(f"{len(tally.submitted) - len(accepted)} submission(s) accepted twice")
    twice = [pair for pair in accepted if jobs[pair] > 1]
    never = [pair for pair in accepted if jobs[pair] == 0]
    stuck = [pair for pair in accepted if pair in waiting]
    if twice:
        problems.append(f"{len(twice)} submission(s) with more than one verification job: {twice[:10]}")
    if never:
        problems.append(f"{len(never)} submission(s) without a verification job: {never[:10]}")
    if stuck:
        problems.append(f"{len(stuck)} submission(s) not past their automated checks: {stuck[:10]}")
    return problems


def main() -> int:
    seconds = float(os.environ.get("LOADTEST_SECONDS", "120"))
    clients = int(os.environ.get("LOADTEST_CLIENTS", "8"))
    workers = int(os.environ.get("LOADTEST_WORKERS", "4"))
    concurrency = int(os.environ.get("LOADTEST_CELERY", "2"))
    faults = os.environ.get("LOADTEST_FAULTS", "") not in ("", "0")
    database = os.environ.get("LOADTEST_DATABASE_URL", LOAD_DATABASE)
    folder = ROOT / "var" / "drill" / f"load-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True)
    processes = Processes(folder)
    try:
        return run(seconds, clients, workers, concurrency, faults, database, folder, processes)
    finally:
        processes.stop()
        print(f"\nlogs: {folder.relative_to(ROOT)}")


def run(
    seconds: float,
    clients: int,
    workers: int,
    concurrency: int,
    faults: bool,
    database: str,
    folder: Path,
    processes: Processes,
) -> int:
    redis_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MRV_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
        "MRV_LOG_LEVEL": "WARNING",
        # a load test is not an abuse: the per-user and per-address rate limits are out of the way
        "MRV_THROTTLE_USER_BURST": "1000000/min",
        "MRV_THROTTLE_USER_SUSTAINED": "100000000/day",
        "MRV_THROTTLE_ADDRESS": "1000000/min",
        "MRV_THROTTLE_USER_LINES": "100000000/min",
        # a message taken by the killed worker comes back soon; a job whose message the restarted
        # Redis lost is published again by the sweeper soon (the drill sweeps while it drains)
        "MRV_BROKER_VISIBILITY_TIMEOUT": "10",
        "MRV_JOB_STUCK_SECONDS": "5",
        "MRV_TASK_SOFT_TIME_LIMIT": "20",
        "MRV_TASK_TIME_LIMIT": "30",
        "MRV_AUDIT_CHECKPOINT_DIR": str(folder / "checkpoints"),
    }
    os.environ.update(env)
    fresh_database(database)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    stack = Stack(processes, env, redis_port, web_port)
    stack.start_redis()
    seats, regulator_token, verifier_token = seed(clients)
    stack.start_web(workers)
    stack.start_celery(concurrency)
    templates = {}
    for sector in SECTORS:
        connection = http.client.HTTPConnection("127.0.0.1", web_port, timeout=30)
        connection.request(
            "GET",
            f"/api/v1/reports/lines/template/?sector={sector}&format=csv",
            headers={"Authorization": f"Token {seats[0][0]}"},
        )
        templates[sector] = connection.getresponse().read()

    tally, stop = Tally(), threading.Event()
    loads = [Client(web_port, token, regulator_token, tally) for token, _, _ in seats]
    threads = [
        threading.Thread(target=client_loop, args=(client, facility, sector, templates[sector], stop, index))
        for index, (client, (_, facility, sector)) in enumerate(zip(loads, seats, strict=True))
    ]
    threads.append(
        threading.Thread(target=verifier_loop, args=(DrillClient(web_port, verifier_token, tally), stop))
    )
    print(
        f"load test: {clients} client(s) + 1 verifier for {seconds:g} s against gunicorn ({workers} sync "
        f"workers), Celery ({concurrency} processes), PostgreSQL ({database.rsplit('/', 1)[1]}) and Redis "
        f":{redis_port}{'; faults: web worker, Celery worker, Redis' if faults else ''}"
    )
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    events = []
    if faults:
        plan = [
            (0.2, "SIGKILL a gunicorn worker", lambda: f"pid {stack.kill_web_worker()}"),
            (0.4, "SIGKILL the Celery worker (and its pool), started again", lambda: stack.kill_celery(concurrency)),
            (0.7, "SIGKILL the drill's Redis, an empty one started on the same port", stack.restart_redis),
        ]  # fmt: skip
        for share, what, act in plan:
            time.sleep(max(0.0, start + share * seconds - time.perf_counter()))
            detail = act()
            events.append(
                f"  t={time.perf_counter() - start:5.1f} s  {what}{f' ({detail})' if detail else ''}"
            )
            print(events[-1], flush=True)
    time.sleep(max(0.0, start + seconds - time.perf_counter()))
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start

    by_status, server_errors = report_latencies(tally, elapsed)
    total = sum(by_status.values())
    retryable = sum(client.retryable.total() for client in loads)
    unexpected = [line for client in loads for line in client.unexpected]
    print(f"\n  statuses: {dict(sorted(by_status.items()))}")
    print(f"  5xx or no answer: {server_errors} (of which retryable, no answer or 503: {retryable})")
    print(f"  answers neither success nor retryable: {len(unexpected)}")
    for line in unexpected[:5]:
        print(f"    e.g. {line}")
    logged = "".join(path.read_text(errors="replace") for path in folder.glob("gunicorn*.log"))
    print(
        f"  server-side retries of transient conflicts logged: {logged.count('transient database conflict')}; "
        f"'deadlock detected' in the web log: {logged.count('deadlock detected')}"
    )
    print(
        f"\n  accepted: {len(tally.created)} creates (201), {len(tally.submitted)} submits (202), "
        f"{len(tally.revised)} revises (201)"
    )
    jobs = drain(float(os.environ.get("LOADTEST_DRAIN_SECONDS", "150")), sweep=faults)
    print(f"  verification jobs after draining: {dict(sorted(jobs.items()))}")
    problems = check(tally) + reached_verifier(tally)
    for problem in problems:
        print(f"  LOST: {problem}")
    if not problems:
        print(
            f"  every accepted submission ({len(set(tally.submitted))}) reached the verifier's queue exactly "
            "once;\n  every accepted create and revise is stored; verify_audit_chain passes"
        )
    if faults:
        ok = not unexpected and not problems and server_errors == retryable
        print(f"\n  faults: {', '.join(f'{k} x{v}' for k, v in stack.restarts.items())}")
        print(
            f"\n{'PASS' if ok else 'FAIL'}: {retryable} retryable answers (no answer or 503), "
            f"{len(unexpected)} other failures, {len(problems)} loss check(s) failed"
        )
    else:
        ok = server_errors == 0 and not unexpected and not problems
        print(
            f"\n{'PASS' if ok else 'FAIL'}: {total / elapsed:.1f} requests/s, {server_errors} 5xx, "
            f"{len(unexpected)} other failures, {len(problems)} loss check(s) failed"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
