"""A real SMTP server of the test's own: an ``aiosmtpd`` process on a free port of 127.0.0.1, storing
every message it accepts in a Maildir that the test reads."""

from __future__ import annotations

import email.policy
import mailbox
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OwnSmtp:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def maildir(self) -> Path:
        return self.folder / "maildir"

    def start(self) -> OwnSmtp:
        log = (self.folder / "smtp.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-u",
                "-l",
                f"127.0.0.1:{self.port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.maildir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    if connection.recv(100).startswith(b"220"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"aiosmtpd did not listen on {self.port}: {(self.folder / 'smtp.log').read_text()}"
        )

    def messages(self) -> list[EmailMessage]:
        """Every message received so far (parsed, headers decoded)."""
        if not self.maildir.exists():
            return []
        found = []
        for key in sorted(mailbox.Maildir(self.maildir, create=False).keys()):
            raw = mailbox.Maildir(self.maildir, create=False).get_bytes(key)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
