"""Hostile-file drills of issue 18, longer than the default suite wants: ``make drill-xlsx``,
``make drill-big-import``. Not collected by a plain ``pytest`` run (the name does not start with
``test_``). Figures are printed (run with ``-s``); only outcomes are asserted, never timings.

* drill-xlsx: a one-million-row XLSX (shared strings, maximum compression: about 150 KB) posted twice
  at once to the import endpoint of a running gunicorn (2 sync workers, the test database) while a
  thread polls ``/healthz``: both uploads are refused (400) and ``/healthz`` keeps answering.
* drill-big-import: an 8-million-row background import, on an import worker of its own queue (prefork,
  soft/hard time limits 20/25 s for the drill) while a checks worker serves another queue. An 8 MiB
  body cannot hold 8 million rows of data: the largest 8-million-row files the limits let through are
  8 million blank lines (a CSV at the body limit) and an XLSX of 8 million empty rows padded with
  incompressible bytes to pass the inflation and ratio checks. Each job ends ``failed`` with its
  reason within the time limit, and another tenant's verification reaches review meanwhile.
"""

from __future__ import annotations

import http.client
import io
import os
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from mrv.models import ImportJob, VerificationJob
from tests.mrv.factories import World
from tests.mrv.own_redis import free_port
from tests.mrv.reporting_helpers import report_body
from tests.mrv.workers import Workers, worker_database_url

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRINGS = [
    "ref",
    "source",
    "fuel",
    "quantity",
    "quantity_unit",
    "coal",
    "fuel_combustion",
    "bituminous_coal",
    "1000",
    "t",
]


def workbook(rows: str, count: int, *, pad: int = 0) -> bytes:
    """A minimal XLSX: a header row, then ``rows`` (sheet XML, ``count`` rows), shared strings, maximum
    compression; ``pad`` bytes of random data stored uncompressed in another part."""
    ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ml}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ml}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
        '<sheet name="lines" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">'
        + "".join(f"<si><t>{s}</t></si>" for s in STRINGS)
        + "</sst>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><dimension ref="A1:E{count + 1}"/><sheetData>'
        + "<row>"
        + "".join(f'<c t="s"><v>{i}</v></c>' for i in range(5))
        + "</row>"
        + rows
        + "</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        if pad:
            archive.writestr("docProps/padding.bin", os.urandom(pad), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def million_row_workbook() -> bytes:
    row = "<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in range(5, 10)) + "</row>"
    return workbook(row * 1_000_000, 1_000_000)


def draft(world: World, year: int = 2023) -> int:
    body = report_body(world.facility_a, year=year)
    body["lines"] = body["lines"][:1]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "drill-boundary-7f3a"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# -- drill-xlsx -------------------------------------------------------------------------------------------
def test_drill_xlsx_a_million_rows_refused_while_healthz_answers(tx_world: World, tmp_path: Path) -> None:
    content = million_row_workbook()
    report = draft(tx_world)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "MRV_LOG_LEVEL": "WARNING"}
    log = (tmp_path / "gunicorn.log").open("wb")
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        health: list[tuple[int, float]] = []
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    connection.request("GET", "/healthz")
                    status = connection.getresponse().status
                except OSError:
                    status = 0
                health.append((status, time.perf_counter() - start))
                time.sleep(0.05)

        uploads: list[tuple[int, float, bytes]] = []

        def upload() -> None:
            body, content_type = multipart("million.xlsx", content)
            start = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request(
                "POST",
                f"/api/v1/reports/{report}/lines/import/",
                body=body,
                headers={"Authorization": f"Token {tx_world.operator_a.token}", "Content-Type": content_type},
            )
            response = connection.getresponse()
            uploads.append((response.status, time.perf_counter() - start, response.read()))

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)
        senders = [threading.Thread(target=upload) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        time.sleep(0.3)
        stop.set()
        poller.join()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)
    latencies = [seconds * 1000 for _, seconds in health]
    print(
        f"\ndrill-xlsx: a 1,000,000-row XLSX of {len(content):,} bytes posted twice at once to gunicorn (2 workers)"
    )
    for status, seconds, body in uploads:
        print(f"  upload: {status} in {seconds:.2f} s: {body[:160].decode(errors='replace')}")
    print(
        f"  /healthz meanwhile: {len(health)} polls, statuses {sorted({s for s, _ in health})}, "
        f"p50 {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms"
    )
    assert [status for status, _, _ in uploads] == [400, 400]
    assert health and all(status == 200 for status, _ in health)


# -- drill-big-import ---------------------------------------------------------------------------------------
def test_drill_big_import_ends_failed_and_another_tenant_is_verified(
    tx_world: World, workers: Workers, settings: Any
) -> None:
    imports = settings.MRV_IMPORT_QUEUE = f"{workers.queue}-imports"
    limits = {"MRV_IMPORT_SOFT_TIME_LIMIT": "20", "MRV_IMPORT_TIME_LIMIT": "25", "MRV_IMPORT_QUEUE": imports}
    rows = 8_000_000
    # the lines quota counts a file's rows before reading it: out of the way, the worker's bounds are the point
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_lines": "1000000000/min"}
    files = {
        "blank.csv": b"source,ref\n" + b"\n" * (django_settings.MRV_MAX_BODY_BYTES - 1024),
        "empty-rows.xlsx": workbook("<row/>" * rows, rows, pad=600_000),
    }
    workers.start(queue=imports, pool="prefork", env=limits)
    workers.start(env={"MRV_IMPORT_QUEUE": imports})
    print(
        f"\ndrill-big-import: import worker on {imports} (soft/hard limit 20/25 s), checks worker on {workers.queue}"
    )
    for index, (name, content) in enumerate(files.items()):
        report = draft(tx_world, year=2010 + index)
        started = time.perf_counter()
        response = tx_world.client("operator_a").post(
            f"/api/v1/reports/{report}/lines/import/?background=true",
            {"file": SimpleUploadedFile(name, content)},
            format="multipart",
        )
        assert response.status_code == 202, response.content
        job = int(response.json()["id"])
        other = tx_world.client("operator_b").post(
            "/api/v1/reports/", report_body(tx_world.facility_b, year=2023 + index), format="json"
        )
        assert other.status_code == 201, other.content
        submitted = time.perf_counter()
        assert (
            tx_world.client("operator_b")
            .post(f"/api/v1/reports/{other.json()['id']}/submit/", {"certify": True}, format="json")
            .status_code
            == 202
        )
        verification = VerificationJob.objects.get(
            revision__report_id=other.json()["id"], kind="verification"
        )
        reviewed = workers.wait_until(
            lambda v=verification: (
                (v.refresh_from_db() or v.status == "awaiting_review") and time.perf_counter()
            ),
            "the other tenant's verification",
        )
        ended = workers.wait_until(
            lambda job=job: (
                ImportJob.objects.get(pk=job).status in {"failed", "completed"} and time.perf_counter()
            ),
            "the import to end",
        )
        outcome = ImportJob.objects.get(pk=job)
        lines = content.count(b"\n") if name.endswith(".csv") else rows
        print(
            f"  {name}: {len(content):,} bytes, {lines:,} rows: {outcome.status} after {ended - started:.2f} s "
            f"({outcome.outcome})"[:400]
        )
        print(f"    operator B's verification reached review {reviewed - submitted:.2f} s after its submit")
        assert outcome.status == "failed"
