"""A ``redis-server`` of a test's own: a free port, nothing kept on disk, stopped when the test ends.

A test that stops, restarts or fills a Redis does it to one of these, never to the Redis the rest of
the suite (or anybody else on the machine) shares.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

#: Seconds a starting server may take to answer PING.
START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OwnRedis:
    """One ``redis-server`` process in a session of its own, on 127.0.0.1 only."""

    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def up(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> OwnRedis:
        """Start on ``port`` (a free one the first time; the same one again after :meth:`crash`)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        keep_port = bool(self.port)
        for _ in range(1 if keep_port else 5):  # another process may take a free port first
            if not keep_port:
                self.port = free_port()
            if self._launch():
                return self
        pytest.fail(f"redis-server did not start on port {self.port}:\n{self.log()}")

    def _launch(self) -> bool:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self.up():
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def crash(self) -> None:
        """SIGKILL: the server goes away at once with everything it held (it keeps nothing on disk)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.crash()

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(encoding="utf-8", errors="replace")[-2000:] if path.exists() else ""
