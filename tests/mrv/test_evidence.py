"""Evidence files on report revisions (issue 11, SPEC §8): uploaded onto a draft (SHA-256 computed while
the file streams in, type judged by content, size limited, stored under a generated name), listed, read,
downloaded only after a re-hash, covered by the submit digest, frozen after submit (API 409 and database
triggers), audited, and scoped like their revision.

The storage-dependent tests run twice: against the filesystem storage and against S3 (django-storages'
S3Storage talking HTTP to moto's server, a real local process: tests/mrv/own_s3.py).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from mrv.domain.canonical import digest
from mrv.domain.certification import STATEMENT
from mrv.models import AuditEvent, Evidence, ReportRevision
from mrv.services.reports import revision_transition
from tests.mrv.factories import World
from tests.mrv.own_s3 import OwnS3
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db

PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    + bytes(range(256)) * 64
    + b"\n%%EOF\n"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(16) + bytes(range(256)) * 8  # an executable (NUL bytes and all)


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["date", "truck", "net_t"])
    book.active.append(["2024-01-03", "苏A12345", 31.5])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_of(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(name, "<document/>")
    return buffer.getvalue()


# -- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _own_evidence_folder(settings: Any, tmp_path: Path) -> None:
    """Evidence a test stores goes to a folder of its own (never the repository's var/)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        },
    }


@pytest.fixture(scope="session")
def own_s3() -> Iterator[OwnS3]:
    server = OwnS3().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> str:
    """The evidence storage of the test: a folder of its own, or a bucket of its own on the S3 server."""
    if request.param == "s3":
        server: OwnS3 = request.getfixturevalue("own_s3")
        bucket = f"evidence-{uuid.uuid4().hex[:12]}"
        server.client().create_bucket(Bucket=bucket)
        settings.STORAGES = {**settings.STORAGES, "evidence": server.storage_settings(bucket)}
    return str(request.param)


def _tamper(request: pytest.FixtureRequest, evidence: Evidence, content: bytes | None) -> None:
    """Change (or remove, ``None``) the stored bytes behind the service's back: straight on the disk, or
    straight to the S3 server with boto3."""
    storage = storages["evidence"]
    if hasattr(storage, "bucket_name"):
        client, key = request.getfixturevalue("own_s3").client(), f"evidence/{evidence.storage_name}"
        if content is None:
            client.delete_object(Bucket=storage.bucket_name, Key=key)
        else:
            client.put_object(Bucket=storage.bucket_name, Key=key, Body=content)
        return
    path = Path(storage.path(evidence.storage_name))
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)


# -- helpers ----------------------------------------------------------------------------------------------
def _report(world: World, *, year: int = 2024) -> int:
    body = {"facility": world.facility_a.pk, "year": year, "lines": plausible_cement()}
    created = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert created.status_code == 201, created.content
    return int(created.json()["id"])


def _upload(client: Any, report: int, content: bytes, name: str = "lab.pdf", **fields: str) -> Any:
    body = {"file": SimpleUploadedFile(name, content), "kind": "lab_report", **fields}
    return client.post(f"/api/v1/reports/{report}/evidence/", body, format="multipart")


def _submit(world: World, report: int) -> None:
    response = world.client("operator_a").post(
        f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json"
    )
    assert response.status_code == 202, response.content


def _download(client: Any, evidence: int) -> Any:
    return client.get(f"/api/v1/evidence/{evidence}/download/")


def _bytes(response: Any) -> bytes:
    return b"".join(response.streaming_content)


# -- upload, list, metadata, download ------------------------------------------------------------------
def test_an_upload_is_hashed_stored_under_a_generated_name_listed_and_downloaded_intact(
    world: World, backend: str
) -> None:
    operator = world.client("operator_a")
    report = _report(world)
    uploaded = _upload(operator, report, PDF, "炉窑 lab report.pdf", line_ref="coal", parameter="ncv")
    assert uploaded.status_code == 201, uploaded.content
    body = uploaded.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (body["size"], body["content_type"], body["kind"]) == (len(PDF), "application/pdf", "lab_report")
    assert (body["filename"], body["line_ref"], body["parameter"]) == ("炉窑 lab report.pdf", "coal", "ncv")
    assert (body["report"], body["revision"], body["uploaded_by"]) == (
        report,
        1,
        world.operator_a.user.username,
    )
    # stored under the service's name, not the client's, in the configured storage
    stored = Evidence.objects.get(pk=body["id"])
    assert "lab" not in stored.storage_name and stored.storage_name.endswith(".pdf")
    assert storages["evidence"].exists(stored.storage_name)
    assert (backend == "s3") == hasattr(storages["evidence"], "bucket_name")

    listed = operator.get(f"/api/v1/reports/{report}/evidence/").json()
    assert (listed["count"], listed["revision"]) == (1, 1)
    assert listed["results"] == [body]
    assert operator.get(f"/api/v1/evidence/{body['id']}/").json() == body

    download = _download(operator, body["id"])
    assert download.status_code == 200
    assert _bytes(download) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Length"] == str(len(PDF))
    assert download["ETag"] == f'"{body["sha256"]}"'
    assert download["Content-Disposition"].startswith("attachment;")


def test_two_files_in_one_upload_are_refused_not_one_kept_silently(world: World) -> None:
    operator = world.client("operator_a")
    report = _report(world)
    files = [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", PDF + b"%% b\n")]
    response = operator.post(
        f"/api/v1/reports/{report}/evidence/", {"file": files, "kind": "lab_report"}, format="multipart"
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/file", "one_file")
    assert not Evidence.objects.exists()


def test_a_second_upload_of_the_same_name_is_a_second_file(world: World) -> None:
    operator = world.client("operator_a")
    report = _report(world)
    first = _upload(operator, report, PDF).json()
    second = _upload(operator, report, PDF + b"%% second copy\n").json()
    assert first["id"] != second["id"] and first["sha256"] != second["sha256"]
    assert [item["id"] for item in operator.get(f"/api/v1/reports/{report}/evidence/").json()["results"]] == [
        first["id"],
        second["id"],
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("scan.bin", PDF, "application/pdf"),  # the content decides, not the name
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)), "image/jpeg"),
        ("ledger.xlsx", _xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "ledger.csv",
            "日期,车号,净重\n2024-01-03,苏A12345,31.5\n".encode("gb18030"),
            "text/csv; charset=gb18030",
        ),
        ("ledger.csv", "\ufeffdate,net_t\n2024-01-03,31.5\n".encode(), "text/csv; charset=utf-8"),
        ("meter.txt", "电表读数 2024-01: 12345 kWh\n".encode(), "text/plain; charset=utf-8"),
    ],
)
def test_the_content_type_is_judged_from_the_bytes(
    world: World, name: str, content: bytes, expected: str
) -> None:
    response = _upload(world.client("operator_a"), _report(world), content, name)
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == expected


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.pdf", ELF),  # an executable named as a PDF
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256))),  # a Windows executable
        ("report.xlsx", _zip_of("word/document.xml")),  # a ZIP that is no workbook (a .docx)
        ("notes.txt", "not UTF-8 nor GB18030: \x80\xff".encode("latin-1")),
    ],
)
def test_a_file_of_another_type_is_refused_whatever_its_name_and_nothing_is_stored(
    world: World, name: str, content: bytes, tmp_path: Path
) -> None:
    response = _upload(world.client("operator_a"), _report(world), content, name)
    assert response.status_code == 415, response.content
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert problem["code"] == "evidence_type_not_allowed"
    assert "PDF, PNG, JPEG, XLSX, CSV or TXT" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/file"
    assert not Evidence.objects.exists()
    assert not any(path.is_file() for path in (tmp_path / "evidence").rglob("*"))


def test_a_file_over_the_limit_is_refused_before_it_is_stored(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.MRV_MAX_EVIDENCE_BYTES = 4096
    operator, report = world.client("operator_a"), _report(world)
    exactly = PDF[:8] + b"x" * (4096 - 8)
    assert _upload(operator, report, exactly).status_code == 201  # 4,096 bytes: at the limit
    over = _upload(operator, report, exactly + b"x")  # 4,097 bytes
    assert over.status_code == 413, over.content
    assert over.json()["code"] == "evidence_too_large"
    assert "4096 bytes" in over.json()["detail"]
    assert Evidence.objects.count() == 1
    assert sum(path.is_file() for path in (tmp_path / "evidence").rglob("*")) == 1


def test_a_declared_body_far_over_the_limit_is_refused_unread(world: World, settings: Any) -> None:
    settings.MRV_MAX_EVIDENCE_BYTES = 4096
    report = _report(world)
    response = world.client("operator_a").generic(
        "POST",
        f"/api/v1/reports/{report}/evidence/",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(4096 + 2 * 1024 * 1024),  # the limit + 2 MiB: more than any envelope
    )
    assert response.status_code == 413 and response.json()["code"] == "evidence_too_large"


def test_an_empty_file_an_unknown_kind_and_an_unknown_line_are_pointed_at(world: World) -> None:
    operator, report = world.client("operator_a"), _report(world)
    empty = _upload(operator, report, b"")
    assert empty.status_code == 400 and empty.json()["errors"][0]["pointer"] == "/file"
    kind = _upload(operator, report, PDF, kind="selfie")
    assert kind.status_code == 400 and kind.json()["errors"][0]["pointer"] == "/kind"
    line = _upload(operator, report, PDF, line_ref="koal")
    assert line.status_code == 400, line.content
    [error] = line.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/line_ref", "unknown_line")
    assert "clinker, coal, grid, out" in error["detail"]
    assert not Evidence.objects.exists()


# -- frozen after submit ---------------------------------------------------------------------------------
def test_after_submit_evidence_can_be_neither_removed_nor_added(world: World) -> None:
    operator, report = world.client("operator_a"), _report(world)
    kept = _upload(operator, report, PDF).json()
    removed = _upload(operator, report, PDF + b"%% draft only\n").json()
    assert operator.delete(f"/api/v1/evidence/{removed['id']}/").status_code == 204  # a draft's: removable
    _submit(world, report)
    deleted = operator.delete(f"/api/v1/evidence/{kept['id']}/")
    assert deleted.status_code == 409 and deleted.json()["code"] == "evidence_frozen"
    added = _upload(operator, report, PDF + b"%% late\n", "lab.pdf")  # a replacement under the same name
    assert added.status_code == 409 and added.json()["code"] == "evidence_frozen"
    assert list(Evidence.objects.values_list("pk", flat=True)) == [kept["id"]]
    assert _bytes(_download(operator, kept["id"])) == PDF


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_remove_evidence_of_a_submitted_revision(world: World) -> None:
    operator, report = world.client("operator_a"), _report(world)
    evidence = _upload(operator, report, PDF).json()["id"]
    _submit(world, report)
    for statement in (
        "DELETE FROM mrv_evidence WHERE id = %s",
        "UPDATE mrv_evidence SET sha256 = repeat('0', 64) WHERE id = %s",
        "INSERT INTO mrv_evidence (revision_id, kind, line_ref, parameter, description, filename, storage_name,"
        " size, sha256, content_type, uploaded_by_id, uploaded_at)"
        " SELECT revision_id, kind, line_ref, parameter, description, filename, storage_name, size, sha256,"
        " content_type, uploaded_by_id, uploaded_at FROM mrv_evidence WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="cannot be added, changed or removed"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [evidence])
    assert Evidence.objects.get(pk=evidence).sha256 == hashlib.sha256(PDF).hexdigest()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_upload_retried_after_a_deadlock_is_stored_once_and_reads_back_intact(
    tx_world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.mrv.test_transient_conflicts import InThread, other_session, wait_until_blocked_by

    caplog.set_level(logging.WARNING, logger="mrv.api.retry")
    operator, report = tx_world.client("operator_a"), _report(tx_world)
    with other_session() as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM mrv_reportrevision WHERE report_id = %s FOR UPDATE", [report])
        upload = InThread(lambda: _upload(operator, report, PDF))
        # the upload (file already stored) holds the report row and waits for the revision: lock the
        # report row now, the opposite order; PostgreSQL fails the upload's transaction, which is run again
        wait_until_blocked_by(other.info.backend_pid)
        other.execute("SELECT 1 FROM mrv_report WHERE id = %s FOR UPDATE", [report])
        other.execute("ROLLBACK")
        response = upload.join()
    assert response.status_code == 201, response.content
    messages = [r.getMessage() for r in caplog.records if r.name == "mrv.api.retry"]
    assert len(messages) == 1 and "deadlock detected" in messages[0]
    # one row, one audit event, one stored file: the retried run found the file the first run stored
    assert Evidence.objects.count() == 1
    assert AuditEvent.objects.filter(action="evidence.upload").count() == 1
    assert sum(path.is_file() for path in (tmp_path / "evidence").rglob("*")) == 1
    assert _bytes(_download(operator, response.json()["id"])) == PDF


# -- integrity at download ------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["altered", "removed"])
def test_a_file_altered_on_storage_is_refused_at_download_and_the_failure_audited(
    world: World, backend: str, change: str, request: pytest.FixtureRequest
) -> None:
    operator, report = world.client("operator_a"), _report(world)
    evidence = _upload(operator, report, PDF).json()
    _submit(world, report)
    altered = PDF.replace(b"Catalog", b"Catalof")  # one byte, the same size
    _tamper(request, Evidence.objects.get(pk=evidence["id"]), altered if change == "altered" else None)

    response = world.client("regulator").get(f"/api/v1/evidence/{evidence['id']}/download/")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "evidence_integrity_failed"
    assert evidence["sha256"] in problem["detail"]
    event = AuditEvent.objects.get(action="evidence.integrity_failed")
    found = hashlib.sha256(altered).hexdigest() if change == "altered" else None
    assert (event.object_type, event.object_id, event.actor_id) == (
        "report",
        str(report),
        world.regulator.user.pk,
    )
    assert (event.data["evidence"], event.data["sha256"], event.data["found_sha256"]) == (
        evidence["id"],
        evidence["sha256"],
        found,
    )
    # the regulator reads the event in the audit trail (the revision is submitted)
    trail = world.client("regulator").get("/api/v1/audit-events/", {"action": "evidence.integrity_failed"})
    assert [item["action"] for item in trail.json()["results"]] == ["evidence.integrity_failed"]


# -- scoping -----------------------------------------------------------------------------------------------
def test_outsiders_get_404_and_the_verifier_and_regulator_see_evidence_only_once_submitted(
    world: World,
) -> None:
    operator, report = world.client("operator_a"), _report(world)
    evidence = _upload(operator, report, PDF).json()["id"]
    paths = (
        f"/api/v1/reports/{report}/evidence/",
        f"/api/v1/evidence/{evidence}/",
        f"/api/v1/evidence/{evidence}/download/",
    )
    for name in ("operator_b", "verifier_a", "verifier_b", "regulator"):  # a draft: the operator's alone
        client = world.client(name)
        assert [client.get(path).status_code for path in paths] == [404, 404, 404], name
        assert client.delete(f"/api/v1/evidence/{evidence}/").status_code == 404
    _submit(world, report)
    for name in ("verifier_a", "regulator"):
        client = world.client(name)
        assert [client.get(path).status_code for path in paths] == [200, 200, 200], name
        assert client.delete(f"/api/v1/evidence/{evidence}/").status_code == 403
        assert _upload(client, report, PDF).status_code == 403
    for name in ("operator_b", "verifier_b"):  # another operator, another verification body
        client = world.client(name)
        assert [client.get(path).status_code for path in paths] == [404, 404, 404], name
        assert _upload(client, report, PDF).status_code == 404


def test_the_list_shows_a_chosen_revision_and_a_revision_starts_with_the_evidence_it_corrects(
    world: World,
) -> None:
    operator, report = world.client("operator_a"), _report(world)
    first = _upload(operator, report, PDF, description="NCV of the coal, January").json()
    _submit(world, report)
    for status in ("in_verification", "returned"):  # as the checks and a "not verified" opinion move it
        revision_transition(revision=ReportRevision.objects.get(report_id=report, number=1), status=status)
    assert operator.post(f"/api/v1/reports/{report}/revise/").status_code == 201
    carried = operator.get(f"/api/v1/reports/{report}/evidence/").json()
    assert carried["revision"] == 2
    [copy] = carried["results"]
    assert copy["id"] != first["id"]
    assert {k: v for k, v in copy.items() if k not in ("id", "revision", "download")} == {
        k: v for k, v in first.items() if k not in ("id", "revision", "download")
    }
    # removing it from the new draft leaves the submitted revision's evidence (and its file) whole
    assert operator.delete(f"/api/v1/evidence/{copy['id']}/").status_code == 204
    assert operator.get(f"/api/v1/reports/{report}/evidence/").json()["count"] == 0
    assert operator.get(f"/api/v1/reports/{report}/evidence/", {"revision": 1}).json()["results"] == [first]
    assert _bytes(_download(operator, first["id"])) == PDF
    # a verifier sees revision 1's evidence, not the draft's list
    verifier = world.client("verifier_a")
    assert verifier.get(f"/api/v1/reports/{report}/evidence/").json()["revision"] == 1
    assert verifier.get(f"/api/v1/reports/{report}/evidence/", {"revision": 2}).status_code == 404


def test_deleting_a_draft_report_removes_its_evidence_files(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    operator, report = world.client("operator_a"), _report(world)
    _upload(operator, report, PDF)
    assert sum(path.is_file() for path in (tmp_path / "evidence").rglob("*")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert operator.delete(f"/api/v1/reports/{report}/").status_code == 204
    assert not Evidence.objects.exists()
    assert not any(path.is_file() for path in (tmp_path / "evidence").rglob("*"))


# -- digest and audit -----------------------------------------------------------------------------------------
def _inputs(world: World, report: int, year: int) -> dict[str, Any]:
    revision = ReportRevision.objects.get(report_id=report, number=1)
    return {
        "facility": world.facility_a.pk,
        "year": year,
        "month": None,
        "methodology": revision.methodology,
        "methodology_version": revision.methodology_version,
        "lines": list(revision.activity_lines.order_by("index").values_list("inputs", flat=True)),
        # the submitter's sign-off (issue 16), covered by the digest too
        "certification": {
            "statement": STATEMENT,
            "name": world.operator_a.user.username,
            "organisation": world.operator_a.user.memberships.get().organisation_id,
            "at": revision.certification.at.isoformat(),
        },
    }


def test_the_submit_digest_covers_the_evidence_hashes_and_is_unchanged_without_evidence(world: World) -> None:
    operator = world.client("operator_a")
    plain_report, with_evidence = _report(world, year=2023), _report(world, year=2024)
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    _upload(operator, with_evidence, photo, "kiln.png", kind="photo")
    _upload(operator, with_evidence, PDF, line_ref="coal", parameter="ncv")
    _submit(world, plain_report)
    _submit(world, with_evidence)
    digests = {
        report: ReportRevision.objects.get(report_id=report, number=1).digest
        for report in (plain_report, with_evidence)
    }
    # no evidence: the digest of the inputs alone, as before evidence existed
    assert digests[plain_report] == digest(_inputs(world, plain_report, 2023))
    # with evidence: the inputs and each file's {sha256, size, kind, line_ref, parameter}, sorted by hash
    files = [
        {
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "size": len(PDF),
            "kind": "lab_report",
            "line_ref": "coal",
        }
        | {"parameter": "ncv"},
        {"sha256": hashlib.sha256(photo).hexdigest(), "size": 264, "kind": "photo", "line_ref": None}
        | {"parameter": None},
    ]
    files.sort(key=lambda item: str(item["sha256"]))
    assert digests[with_evidence] == digest({**_inputs(world, with_evidence, 2024), "evidence": files})
    assert digests[with_evidence] != digest(_inputs(world, with_evidence, 2024))


def test_uploads_and_deletes_are_audited_and_shown_to_others_once_submitted(world: World) -> None:
    operator, report = world.client("operator_a"), _report(world)
    kept = _upload(operator, report, PDF).json()
    dropped = _upload(operator, report, PDF + b"%% typo\n").json()
    operator.delete(f"/api/v1/evidence/{dropped['id']}/")
    events = AuditEvent.objects.filter(action__startswith="evidence.").order_by("id")
    assert [(e.action, e.data["evidence"], e.data["sha256"]) for e in events] == [
        ("evidence.upload", kept["id"], kept["sha256"]),
        ("evidence.upload", dropped["id"], dropped["sha256"]),
        ("evidence.delete", dropped["id"], dropped["sha256"]),
    ]
    regulator = world.client("regulator")
    assert regulator.get("/api/v1/audit-events/", {"action": "evidence.upload"}).json()["results"] == []
    _submit(world, report)
    shown = regulator.get("/api/v1/audit-events/", {"action": "evidence.upload"}).json()["results"]
    assert len(shown) == 2


def test_the_copy_of_record_lists_the_evidence_hashes(world: World, tmp_path: Path) -> None:
    operator, report = world.client("operator_a"), _report(world)
    sha256 = _upload(operator, report, PDF, "化验单.pdf").json()["sha256"]
    _submit(world, report)
    response = world.client("verifier_a").get(f"/api/v1/reports/{report}/revisions/1/copy-of-record.pdf")
    assert response.status_code == 200, response.content[:300]
    (tmp_path / "copy.pdf").write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "copy.pdf"), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert f"化验单.pdf (lab_report, {len(PDF)} B): SHA-256 {sha256}" in text
    assert "none (no evidence file" not in text


def test_the_admin_lists_evidence_and_changes_none(world: World, admin_client: Any) -> None:
    operator, report = world.client("operator_a"), _report(world)
    evidence = _upload(operator, report, PDF, "磅单.pdf", kind="weighbridge_ledger").json()
    listing = admin_client.get("/admin/mrv/evidence/")
    assert listing.status_code == 200 and evidence["sha256"] in listing.content.decode()
    assert (
        admin_client.post(f"/admin/mrv/evidence/{evidence['id']}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Evidence.objects.filter(pk=evidence["id"]).exists()


# -- configuration and the embedded mode ------------------------------------------------------------------------
def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "MRV_VAR_DIR": str(tmp_path / "var"),
        "MRV_REDIS_URL": "",
        "MRV_ALLOWED_HOSTS": "testserver",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args, *(["--verbosity", "0"] if args[0] == "shell" else [])],
        cwd=django_settings.BASE_DIR,
        env=environment,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_the_s3_storage_is_configured_from_the_environment(tmp_path: Path) -> None:
    shown = _manage(
        tmp_path,
        "shell",
        "-c",
        "from django.core.files.storage import storages; s = storages['evidence']; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.region_name, s.location, s.addressing_style)",
        MRV_EVIDENCE_S3_BUCKET="mrv-evidence",
        MRV_EVIDENCE_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        MRV_EVIDENCE_S3_REGION="cn-north-1",
        MRV_EVIDENCE_S3_ACCESS_KEY_ID="key",
        MRV_EVIDENCE_S3_SECRET_ACCESS_KEY="secret",
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.split() == [
        "S3Storage",
        "mrv-evidence",
        "http://127.0.0.1:9000",
        "cn-north-1",
        "evidence",
        "path",
    ]


EMBEDDED = """
import hashlib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from rest_framework.test import APIClient
from mrv.services.facilities import facility_create
from mrv.services.organisations import organisation_create, placeholder_credit_code
from mrv.services.users import user_create_with_token
from tests.mrv.verification_helpers import plausible_cement

user, token = user_create_with_token(username="op", role="operator", organisation_name="Operator E")
regulator, _ = user_create_with_token(username="reg", role="regulator", organisation_name="Authority E")
facility = facility_create(by=regulator, name="Kiln E", operator=user.memberships.get().organisation, sector="cement",
                           province="CN-JS", verification_body=None)
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
report = client.post("/api/v1/reports/", {"facility": facility.pk, "year": 2024, "lines": plausible_cement()},
                     format="json").json()["id"]
content = b"%PDF-1.4 embedded " + bytes(range(256)) * 100
upload = client.post(f"/api/v1/reports/{report}/evidence/",
                     {"file": SimpleUploadedFile("lab.pdf", content), "kind": "lab_report"}, format="multipart")
evidence = upload.json()
print("sha", evidence["sha256"] == hashlib.sha256(content).hexdigest())
download = client.get(f"/api/v1/evidence/{evidence['id']}/download/")
print("bytes", b"".join(download.streaming_content) == content)
print("submit", client.post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json").status_code)
refused = 0
for statement in ("DELETE FROM mrv_evidence", "UPDATE mrv_evidence SET sha256 = 'x'"):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except Exception as error:
        refused += "cannot be added, changed or removed" in str(error)
print("refused", refused)
"""


def test_the_embedded_mode_stores_evidence_under_var_and_sqlite_guards_it(tmp_path: Path) -> None:
    assert _manage(tmp_path, "migrate", "--no-input").returncode == 0
    run = _manage(tmp_path, "shell", "-c", EMBEDDED)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["sha", "True", "bytes", "True", "submit", "202", "refused", "2"], (
        run.stderr[-3000:]
    )
    stored = [path for path in (tmp_path / "var" / "evidence").rglob("*") if path.is_file()]
    assert len(stored) == 1 and stored[0].suffix == ".pdf" and stored[0].name != "lab.pdf"
