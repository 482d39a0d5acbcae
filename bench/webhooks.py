"""Webhook delivery throughput: 10,000 queued deliveries to a local receiver, drained by 2 Celery worker
processes (one prefork worker with two children).

Everything of its own: a PostgreSQL database ``mrv_bench_webhooks`` (recreated every run;
``BENCH_WEBHOOKS_DATABASE_URL``), a ``redis-server`` on a free port as broker (stopped at the end), and a
receiver (``http.server``, threaded, HTTP/1.1 keeping connections open as most servers do) on 127.0.0.1
answering 200 to every POST.

1. 10,000 events are published in one transaction (the outbox rows, then 10,000 task messages on commit)
   with no worker running: the time to queue them.
2. The workers start and drain the queue: each delivery is locked, its URL checked again, signed,
   POSTed (over the worker process's kept-alive connection to the checked address), its try logged and
   the row marked delivered. The rate is deliveries per second from the first request the receiver got to the
   last; the wall time from the workers' start is shown too.
3. Baseline, measured in the same run: the same 10,000 POSTs (same body and headers) sent straight to
   the receiver by 2 plain processes (``http.client``, one kept-alive connection each), without database,
   broker or signing.

Then it checks that every delivery was received exactly once and is recorded ``delivered``.
``BENCH_WEBHOOK_DELIVERIES`` changes the count.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import fresh_postgres_database, report

ROOT = Path(__file__).resolve().parent.parent
DELIVERIES = int(os.environ.get("BENCH_WEBHOOK_DELIVERIES", "10000"))
BENCH_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_bench_webhooks"
DEADLINE_S = 900.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Receiver:
    """Answers 200 to every POST and keeps the arrival time and event id of each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[float] = []
        self.event_ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.arrivals.append(time.perf_counter())
                    receiver.event_ids.append(self.headers.get("MRV-Event-Id", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.request_queue_size = 1024
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def reset(self) -> None:
        with self.lock:
            self.arrivals.clear()
            self.event_ids.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _post_many(port: int, count: int, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "MRV-Event-Id": "baseline", "MRV-Signature": "t=0,v1=0"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        connection.request("POST", "/hooks", body=body, headers=headers)
        connection.getresponse().read()
    connection.close()


def _wait(check: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise SystemExit(f"not within {timeout:g} s: {what}")


def run() -> dict[str, float]:
    from django.apps import apps

    if apps.ready:
        # Another benchmark of this process configured Django on its own database: run in a fresh one.
        code = "import bench.webhooks as b; b.run()"
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        return {}
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    redis_port = _free_port()
    redis_server = subprocess.Popen(
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
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    processes: list[subprocess.Popen[bytes]] = [redis_server]
    try:
        return _run(folder, redis_port, processes)
    finally:
        for process in reversed(processes):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, redis_port: int, processes: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    environment = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": os.environ.get("BENCH_WEBHOOKS_DATABASE_URL", BENCH_DATABASE),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MRV_REDIS_URL": "",
        "MRV_TASK_QUEUE": "bench-webhooks",
        "MRV_LOG_LEVEL": "WARNING",
        "MRV_ENV": "development",
    }
    os.environ.update(environment)
    fresh_postgres_database(environment["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    import redis
    from django.db import transaction

    from mrv.models import Membership, WebhookDelivery
    from mrv.services import events
    from mrv.services.users import user_create_with_token
    from mrv.services.webhooks import subscription_create

    _wait(lambda: _pings(redis, redis_port), "redis-server", 30)
    receiver = _Receiver()
    try:
        user, _ = user_create_with_token(
            username="bench-operator", role="operator", organisation_name="Bench Operator"
        )
        organisation = Membership.objects.get(user=user).organisation_id
        subscription_create(
            by=user, url=f"http://127.0.0.1:{receiver.port}/hooks", events=["report.status_changed"]
        )
        data = {"report": 1, "facility": 1, "year": 2024, "month": None, "revision": 1, "status": "submitted"}

        start = time.perf_counter()
        with transaction.atomic():
            for _ in range(DELIVERIES):
                events.publish("report.status_changed", organisation_ids=[organisation], data=data)
        queued_s = time.perf_counter() - start
        queued = redis.Redis(port=redis_port).llen("bench-webhooks")
        assert queued == DELIVERIES, f"{queued} messages queued, not {DELIVERIES}"

        worker_start = time.perf_counter()
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
            "--loglevel=WARNING", "-Q", "bench-webhooks", "--without-gossip", "--without-mingle",
            "--without-heartbeat", f"--logfile={folder / 'worker.log'}",
        ]  # fmt: skip
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        processes.append(worker)
        _wait(lambda: len(receiver.arrivals) >= DELIVERIES, f"{DELIVERIES} deliveries received", DEADLINE_S)
        drained_s = time.perf_counter() - worker_start
        first, last = receiver.arrivals[0], receiver.arrivals[-1]
        rate = (DELIVERIES - 1) / (last - first)
        _wait(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() == DELIVERIES,
            "every delivery recorded delivered",
            60,
        )
        time.sleep(1.0)  # anything sent twice would arrive now
        received, distinct = len(receiver.event_ids), len(set(receiver.event_ids))
        assert received == distinct == DELIVERIES, f"{received} received, {distinct} distinct"

        body = WebhookDelivery.objects.values_list("body", flat=True).first().encode()
        receiver.reset()
        halves = [DELIVERIES // 2, DELIVERIES - DELIVERIES // 2]
        baseline_start = time.perf_counter()
        senders = [multiprocessing.Process(target=_post_many, args=(receiver.port, n, body)) for n in halves]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        baseline_s = time.perf_counter() - baseline_start
        baseline_rate = DELIVERIES / baseline_s
    finally:
        receiver.stop()
    report(
        f"webhooks: {DELIVERIES:,} queued deliveries to a local receiver, 2 Celery worker processes",
        [
            (
                "queued (outbox rows + messages, 1 tx)",
                f"{queued_s:.2f} s ({DELIVERIES / queued_s:,.0f} events/s)",
            ),
            ("drained, from the workers' start", f"{drained_s:.2f} s"),
            ("delivery rate (first to last receipt)", f"{rate:,.0f} deliveries/s"),
            ("baseline: plain POSTs from 2 processes", f"{baseline_rate:,.0f} POSTs/s"),
            ("delivery rate / baseline", f"{rate / baseline_rate:.2f}"),
            ("received once each, all delivered", f"{received:,} = {distinct:,} distinct"),
        ],
    )
    return {"rate": rate, "baseline_rate": baseline_rate, "queued_s": queued_s, "drained_s": drained_s}


def _pings(redis: Any, port: int) -> bool:
    try:
        return bool(redis.Redis(port=port).ping())
    except Exception:  # not up yet
        return False


if __name__ == "__main__":
    run()
