"""Gunicorn settings for production, read from the environment (``gunicorn -c config/gunicorn.py config.wsgi``).

Used by the Dockerfile's command and the ``web`` service of docker-compose.yml. Loaded by path, in
gunicorn's master process, before any worker imports the application (no ``preload_app``).

* ``MRV_WEB_WORKERS`` (2): sync worker processes; about 2 × cores + 1 on a machine of its own. A sync
  worker answers one request at a time, so this is the number of requests served at once.
* ``MRV_WEB_TIMEOUT`` (60 s): a worker silent for longer is killed and replaced (a request stuck that
  long answers 502 at the proxy). The body cap (``MRV_MAX_BODY_BYTES``) and the import row caps keep
  a legitimate request well under it; background imports run in the Celery import worker.
* ``MRV_WEB_GRACEFUL_TIMEOUT`` (30 s): on a restart or SIGTERM, how long workers may finish the
  requests they are serving before they are killed.
* ``MRV_WEB_KEEPALIVE`` (5 s): how long an idle keep-alive connection from the proxy is kept; set it
  above the proxy's own idle timeout toward the upstream.
* ``MRV_WEB_MAX_REQUESTS`` (1000) and ``MRV_WEB_MAX_REQUESTS_JITTER`` (100): a worker is replaced
  after that many requests plus a random 0..jitter, so that memory fragmentation does not grow and
  the workers do not all restart at once. 0 turns it off.
* ``MRV_WEB_BIND`` (``0.0.0.0:8000``).

No access log: the application logs every request as a JSON line (``mrv.requests``: method, path
without its query string, status, duration, request id); gunicorn's access log would repeat it with
the query string. Gunicorn's own messages (worker starts, timeouts) go to standard error.

Prometheus with several workers: ``PROMETHEUS_MULTIPROC_DIR``, set before gunicorn starts (compose
sets it on a tmpfs), makes every worker write its metrics there and ``/metrics`` add them up
(prometheus_client's multiprocess mode; mrv/observability/metrics.py reads the folder). The master
empties the folder when it starts (files of an earlier run would be added to the new counts) and
tells the library when a worker exits, so that its live gauges are dropped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


class _Environment:
    """The one environment reader of this file, ``env("NAME", default)`` and ``env.int(...)``, like
    settings' (tests/mrv/test_deployment.py lists the names it is called with)."""

    def __call__(self, name: str, default: str) -> str:
        return os.environ.get(name, default)

    def int(self, name: str, default: int) -> int:
        value = self(name, str(default))
        try:
            number = int(value)
        except ValueError:
            raise SystemExit(f"{name} must be a whole number, not {value!r}") from None
        if number < 0:
            raise SystemExit(f"{name} must not be negative")
        return number


env = _Environment()


bind = env("MRV_WEB_BIND", "0.0.0.0:8000")
worker_class = "sync"
workers = max(1, env.int("MRV_WEB_WORKERS", 2))
timeout = env.int("MRV_WEB_TIMEOUT", 60)
graceful_timeout = env.int("MRV_WEB_GRACEFUL_TIMEOUT", 30)
keepalive = env.int("MRV_WEB_KEEPALIVE", 5)
max_requests = env.int("MRV_WEB_MAX_REQUESTS", 1000)
max_requests_jitter = env.int("MRV_WEB_MAX_REQUESTS_JITTER", 100)
accesslog = None
errorlog = "-"
# Gunicorn 27's control socket (a Unix socket under the user's home, for gunicornc) is not used: the
# container is managed with signals (TERM, HUP, TTIN/TTOU), and the image's home is not writable.
control_socket_disable = True
# Each worker's heartbeat file in memory, not on a container's overlay filesystem (a slow disk write
# would look like a silent worker).
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None

PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server: Any) -> None:
    """Empty the metrics folder before the first worker starts (it is created when missing)."""
    if not PROMETHEUS_MULTIPROC_DIR:
        return
    folder = Path(PROMETHEUS_MULTIPROC_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited (recycled, timed out or killed): drop its live gauges."""
    if PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
