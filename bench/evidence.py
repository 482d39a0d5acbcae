"""Evidence uploads stream: a 50 MiB file goes through a real server at >= 100 MB/s, and the server's memory
does not grow with the file size (issue 11).

A real HTTP server (``manage.py runserver --noreload --nothreading``: one process, so its peak RSS is the
request's) on an embedded SQLite database and filesystem storage of its own, in a temporary folder. The
client streams the multipart body from a file on disk in 1 MiB chunks (``http.client``), so nothing on
the client side holds the file either. For each size (5 MiB, then 50 MiB) a fresh server takes a 1 MiB
warm-up upload, then the file: the figures are the upload's MB/s (median of three), the download's (the
server re-hashes the stored file before sending it), the server's peak RSS (``VmHWM``) after the warm-up
and after the uploads, and the SHA-256 alone in this process on the same file (the baseline: how fast the
hashing path could go at best).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import common

MIB = 1024 * 1024
SIZES_MIB = (5, 50)
GOAL_MB_S = 100.0
CHUNK = MIB
ROOT = Path(__file__).resolve().parents[1]

SETUP = """
from mrv.services.facilities import facility_create
from mrv.services.reports import report_create
from mrv.services.users import user_create_with_token
user, token = user_create_with_token(username="bench-ev", role="operator", organisation_name="Bench Evidence Co")
regulator, _ = user_create_with_token(username="bench-reg", role="regulator", organisation_name="Bench Authority")
facility = facility_create(by=regulator, name="Bench kiln", operator=user.memberships.get().organisation,
                           sector="cement", province="CN-JS")
lines = [{"ref": "coal", "source": "fuel_combustion", "fuel": "bituminous_coal",
          "quantity": {"value": "1000", "unit": "t"}}]
report = report_create(by=user, facility=facility, year=2024, month=None, methodology=None, lines=lines).report
print("RESULT", token.key, report.pk)
"""


def _environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "MRV_REDIS_URL": "",
        "MRV_VAR_DIR": str(folder / "var"),
        "MRV_EVIDENCE_S3_BUCKET": "",
        "MRV_MAX_EVIDENCE_BYTES": str(max(SIZES_MIB) * MIB),
        "MRV_THROTTLE_USER_BURST": "100000/min",
        "MRV_LOG_LEVEL": "WARNING",
    }


def _manage(folder: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_environment(folder),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                "--nothreading",
                f"127.0.0.1:{self.port}",
            ],
            cwd=ROOT,
            env=_environment(folder),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def upload(self, token: str, report: int, path: Path) -> tuple[float, dict[str, object]]:
        """Stream ``path`` as a multipart upload; seconds and the answer."""
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlab_report\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = path.stat().st_size
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        start = time.perf_counter()
        connection.putrequest("POST", f"/api/v1/reports/{report}/evidence/")
        connection.putheader("Authorization", f"Token {token}")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + size + len(tail)))
        connection.endheaders()
        connection.send(head)
        with path.open("rb") as file:
            while chunk := file.read(CHUNK):
                connection.send(chunk)
        connection.send(tail)
        response = connection.getresponse()
        body = json.loads(response.read())
        elapsed = time.perf_counter() - start
        assert response.status == 201, body
        return elapsed, body

    def download(self, token: str, evidence: int) -> tuple[float, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        start = time.perf_counter()
        connection.request(
            "GET", f"/api/v1/evidence/{evidence}/download/", headers={"Authorization": f"Token {token}"}
        )
        response = connection.getresponse()
        assert response.status == 200, response.read()[:500]
        hasher = hashlib.sha256()
        while chunk := response.read(CHUNK):
            hasher.update(chunk)
        return time.perf_counter() - start, hasher.hexdigest()


def _file(folder: Path, mib: int) -> Path:
    path = folder / f"evidence-{mib}mib.pdf"
    with path.open("wb") as file:
        file.write(b"%PDF-1.7\n")
        block = os.urandom(MIB)
        for index in range(mib):
            file.write(block[: MIB - 9] if index == 0 else block)
    return path


def _mb_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def run() -> dict[str, float]:
    rows: list[tuple[str, str]] = []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _manage(folder, "migrate", "--no-input", "--verbosity", "0")
        token, report_id = (
            _manage(folder, "shell", "--verbosity", "0", "-c", SETUP).split("RESULT", 1)[1].split()
        )
        warmup = _file(folder, 1)
        peaks = {}
        for mib in SIZES_MIB:
            path = _file(folder, mib)
            size = path.stat().st_size
            timings = [_hashed(path) for _ in range(3)]
            hash_s, expected = statistics.median(seconds for seconds, _ in timings), timings[0][1]
            server = Server(folder)
            try:
                server.upload(token, int(report_id), warmup)
                warm_rss = _peak_rss_mib(server.process.pid)
                uploads = [server.upload(token, int(report_id), path) for _ in range(3)]
                upload_s = statistics.median(seconds for seconds, _ in uploads)
                assert all(body["sha256"] == expected for _, body in uploads)
                download_s, downloaded = min(
                    (server.download(token, int(uploads[0][1]["id"])) for _ in range(3)),
                    key=lambda found: found[0],
                )
                assert downloaded == expected
                peak_rss = _peak_rss_mib(server.process.pid)
            finally:
                server.stop()
            peaks[mib] = peak_rss
            figures[f"upload_{mib}mib_mb_s"] = _mb_s(size, upload_s)
            rows += [
                (
                    f"{mib} MiB: upload (stream, hash, type, store)",
                    f"{_mb_s(size, upload_s):7.0f} MB/s  ({upload_s * 1000:.0f} ms)",
                ),
                (
                    f"{mib} MiB: download (re-hash, then send)",
                    f"{_mb_s(size, download_s):7.0f} MB/s  ({download_s * 1000:.0f} ms)",
                ),
                (f"{mib} MiB: SHA-256 alone (baseline)", f"{_mb_s(size, hash_s):7.0f} MB/s"),
                (f"{mib} MiB: server peak RSS after warm-up", f"{warm_rss:7.1f} MiB"),
                (f"{mib} MiB: server peak RSS after 3 uploads, 3 downloads", f"{peak_rss:7.1f} MiB"),
            ]
        growth = peaks[SIZES_MIB[-1]] - peaks[SIZES_MIB[0]]
        figures["peak_rss_growth_mib"] = growth
        rows += [
            (
                f"peak RSS, {SIZES_MIB[-1]} MiB file - {SIZES_MIB[0]} MiB file",
                f"{growth:+7.1f} MiB  (the file grew by {SIZES_MIB[-1] - SIZES_MIB[0]} MiB)",
            ),
            (
                "goal",
                f">= {GOAL_MB_S:.0f} MB/s for {SIZES_MIB[-1]} MiB: "
                f"{'met' if figures[f'upload_{SIZES_MIB[-1]}mib_mb_s'] >= GOAL_MB_S else 'NOT met'}",
            ),
        ]
    common.report(
        "Evidence: streaming upload and download through a real server (runserver, SQLite, filesystem)", rows
    )
    return figures


def _hashed(path: Path) -> tuple[float, str]:
    """Seconds to hash the file in chunks, and its SHA-256."""
    start = time.perf_counter()
    hasher = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            hasher.update(chunk)
    return time.perf_counter() - start, hasher.hexdigest()
