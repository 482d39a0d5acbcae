"""A real webhook receiver for tests: an HTTP server (``http.server``) on 127.0.0.1, on a free port, in a
thread of the test process. It answers each POST with the next status of its script (200 once the
script is spent) and keeps every request it got: headers, the raw body, when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    #: the client's address and port: requests over one kept-alive connection share it
    peer: tuple[str, int] = ("", 0)


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mrv"

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def wait_for(self, count: int, timeout: float = 45.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.received)} request(s), not {count}")


@contextmanager
def receiver(*statuses: int, delay: float = 0.0, keep_alive: bool = False) -> Iterator[Receiver]:
    """A receiver answering ``statuses`` in turn (then 200), each ``delay`` seconds after the request
    came in; stopped on exit. HTTP/1.0 (a connection per request), or HTTP/1.1 keeping connections open
    with ``keep_alive``."""
    state = Receiver(statuses=list(statuses), delay=delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.answer()
            time.sleep(state.delay)
            with state.lock:
                state.received.append(
                    Received(self.path, dict(self.headers.items()), body, time.time(), self.client_address)
                )
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=state.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()
        thread.join(timeout=5)
