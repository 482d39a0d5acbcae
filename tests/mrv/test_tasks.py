"""Celery tasks: called as functions, and consumed by a real worker on the configured broker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app
from mrv.tasks import ping


def test_ping_is_registered_and_answers() -> None:
    app.loader.import_default_modules()
    assert "mrv.ping" in app.tasks
    assert ping() == "pong"


@pytest.mark.celery
def test_a_real_worker_consumes_a_ping(tmp_path: Path) -> None:
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, f"--logfile={log}",
    ]  # fmt: skip
    worker = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=os.environ.copy(), stdout=subprocess.DEVNULL
    )
    try:
        result = ping.apply_async(queue=queue)
        succeeded = re.compile(rf"Task mrv\.ping\[{result.id}\] succeeded .*'pong'")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log.exists() and succeeded.search(log.read_text(encoding="utf-8", errors="replace")):
                break
            assert worker.poll() is None, f"worker exited: {log.read_text() if log.exists() else ''}"
            time.sleep(0.2)
        else:
            pytest.fail(
                f"the worker did not run the task within 60 s:\n{log.read_text() if log.exists() else ''}"
            )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
