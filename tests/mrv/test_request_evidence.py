"""Evidence files for requests for information (issue 13, SPEC §10): the operator answers a verifier's
request with files, uploaded for the request while the revision under verification stays frozen (its own
evidence and its submit digest unchanged); the answer names them; the verifier and the regulator download
them through the checked download; outsiders get 404; the database keeps a named file for good."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from mrv.domain.canonical import digest
from mrv.domain.certification import STATEMENT
from mrv.models import AnswerEvidence, AuditEvent, Evidence, InformationRequest, ReportRevision
from mrv.selectors.evidence import digest_items
from mrv.services.verification import checks_run
from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.test_conversation import ask, claimed_job, job_of
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db

LAB = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 16 + b"\n%%EOF\n"
OWN = b"%PDF-1.7\n% the revision's own lab report\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(16) + bytes(range(256)) * 8


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


def upload_for(client: Any, request: int, content: bytes = LAB, name: str = "lab-LR-2024-03.pdf") -> Any:
    body = {"file": SimpleUploadedFile(name, content), "kind": "lab_report", "description": "NCV, March"}
    return client.post(f"/api/v1/requests/{request}/evidence/", body, format="multipart")


def answer(client: Any, request: int, evidence: list[int], text: str = "Lab report attached.") -> Any:
    return client.post(
        f"/api/v1/requests/{request}/answers/", {"text": text, "evidence": evidence}, format="json"
    )


def asked(world: World) -> tuple[int, int]:
    """Operator A's report, claimed by verifier A, with an open request; (request id, report id)."""
    job = claimed_job(world)
    opened = ask(world, job)
    assert opened.status_code == 201, opened.content
    return int(opened.json()["id"]), job.revision.report_id


def test_the_operator_answers_with_a_file_that_the_verifier_downloads_intact(world: World) -> None:
    operator, verifier = world.client("operator_a"), world.client("verifier_a")
    request, report = asked(world)

    uploaded = upload_for(operator, request)
    assert uploaded.status_code == 201, uploaded.content
    file = uploaded.json()
    assert (file["request"], file["report"], file["revision"], file["kind"]) == (
        request,
        report,
        1,
        "lab_report",
    )
    assert file["sha256"] == hashlib.sha256(LAB).hexdigest() and file["size"] == len(LAB)
    assert file["content_type"] == "application/pdf" and file["filename"] == "lab-LR-2024-03.pdf"
    # listed with the request, for the operator and the verifier
    for client in (operator, verifier):
        assert [row["id"] for row in client.get(f"/api/v1/requests/{request}/evidence/").json()] == [
            file["id"]
        ]

    answered = answer(operator, request, [file["id"]])
    assert answered.status_code == 201, answered.content
    assert answered.json()["status"] == "answered"
    [given] = answered.json()["answers"]
    assert given["evidence"] == [
        {
            "id": file["id"],
            "kind": "lab_report",
            "filename": "lab-LR-2024-03.pdf",
            "size": len(LAB),
            "sha256": hashlib.sha256(LAB).hexdigest(),
            "request": request,
            "download": f"/api/v1/evidence/{file['id']}/download/",
        }
    ]

    # the verifier (and the regulator) download it through the checked download: the bytes hash as listed
    shown = verifier.get(f"/api/v1/requests/{request}/").json()["answers"][0]["evidence"][0]
    for who in ("verifier_a", "regulator"):
        downloaded = world.client(who).get(shown["download"])
        assert downloaded.status_code == 200, who
        content = b"".join(downloaded.streaming_content)
        assert content == LAB and hashlib.sha256(content).hexdigest() == shown["sha256"]
        assert world.client(who).get(f"/api/v1/evidence/{file['id']}/").json()["request"] == request

    # audited on the facility's chain: the upload (with its hash) and the answer naming the file
    steps = AuditEvent.objects.filter(object_type="information_request", object_id=str(request)).order_by(
        "id"
    )
    assert list(steps.values_list("action", flat=True)) == [
        "request.open",
        "request.evidence_upload",
        "request.answer",
    ]
    upload_event, answer_event = steps[1], steps[2]
    assert upload_event.after_digest == hashlib.sha256(LAB).hexdigest()
    assert upload_event.data["evidence"] == file["id"] and upload_event.data["revision"] == 1
    assert answer_event.data["evidence"] == [
        {"evidence": file["id"], "sha256": hashlib.sha256(LAB).hexdigest()}
    ]
    assert {event.chain for event in steps} == {f"facility:{world.facility_a.pk}"}
    # the verifier sees the upload event in the audit trail of the facility
    trail = verifier.get(f"/api/v1/audit-events/?facility={world.facility_a.pk}").json()["results"]
    assert "request.evidence_upload" in {row["action"] for row in trail}


def test_outsiders_get_404_and_only_the_operator_uploads(world: World) -> None:
    operator = world.client("operator_a")
    request, _ = asked(world)
    file = upload_for(operator, request).json()["id"]
    assert answer(operator, request, [file]).status_code == 201
    outsider = factories.client_for(factories.api_user(role="operator"))
    for client in (world.client("operator_b"), world.client("verifier_b"), outsider):
        for path in (f"/api/v1/evidence/{file}/", f"/api/v1/evidence/{file}/download/"):
            assert client.get(path).status_code == 404, path
        assert client.get(f"/api/v1/requests/{request}/evidence/").status_code == 404
        assert upload_for(client, request).status_code == 404
    # inside the scope, out of role: the verifier and the regulator read, never upload
    for who in ("verifier_a", "regulator"):
        assert upload_for(world.client(who), request).status_code == 403
    assert list(Evidence.objects.values_list("pk", flat=True)) == [file]


def test_an_answer_naming_a_file_of_another_report_is_refused_pointing_at_it(world: World) -> None:
    operator = world.client("operator_a")
    request, _ = asked(world)
    ours = upload_for(operator, request).json()["id"]
    # a file of another report of the same operator (its draft), and one of operator B's report
    other_report = operator.post(
        "/api/v1/reports/",
        {"facility": world.facility_a.pk, "year": 2023, "lines": plausible_cement()},
        format="json",
    ).json()["id"]
    body = {"file": SimpleUploadedFile("other.pdf", OWN), "kind": "invoice"}
    other = operator.post(f"/api/v1/reports/{other_report}/evidence/", body, format="multipart").json()["id"]
    theirs_report = (
        world.client("operator_b")
        .post(
            "/api/v1/reports/",
            {"facility": world.facility_b.pk, "year": 2024, "lines": plausible_cement()},
            format="json",
        )
        .json()["id"]
    )
    theirs = (
        world.client("operator_b")
        .post(
            f"/api/v1/reports/{theirs_report}/evidence/",
            {"file": SimpleUploadedFile("theirs.pdf", OWN), "kind": "invoice"},
            format="multipart",
        )
        .json()["id"]
    )

    refused = answer(operator, request, [ours, other, theirs, ours])
    assert refused.status_code == 400, refused.content
    errors = {(e["pointer"], e["code"]) for e in refused.json()["errors"]}
    assert errors == {
        ("/evidence/1", "does_not_exist"),
        ("/evidence/2", "does_not_exist"),
        ("/evidence/3", "duplicate"),
    }
    # read in Chinese too
    chinese = operator.post(
        f"/api/v1/requests/{request}/answers/",
        {"text": "见附件", "evidence": [other]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-Hans",
    )
    assert chinese.status_code == 400
    assert chinese.json()["errors"][0]["detail"] == (
        f"证据文件 {other} 既不属于本请求，也不属于本报告已提交的版本：请通过 "
        f"POST /api/v1/requests/{request}/evidence/ 上传"
    )
    # nothing answered, nothing linked
    assert InformationRequest.objects.get(pk=request).status == "open"
    assert not AnswerEvidence.objects.exists()
    assert answer(operator, request, [ours]).status_code == 201


def test_the_submitted_revision_keeps_its_digest_and_its_own_evidence(world: World) -> None:
    operator = world.client("operator_a")
    # a report with a file of its own, submitted (the helpers of test_conversation submit without files)
    created = operator.post(
        "/api/v1/reports/",
        {"facility": world.facility_a.pk, "year": 2024, "lines": plausible_cement()},
        format="json",
    ).json()["id"]
    own = operator.post(
        f"/api/v1/reports/{created}/evidence/",
        {"file": SimpleUploadedFile("own.pdf", OWN), "kind": "lab_report"},
        format="multipart",
    ).json()["id"]
    assert (
        operator.post(f"/api/v1/reports/{created}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    revision = ReportRevision.objects.get(report_id=created, number=1)
    stored_digest = revision.digest
    # the digest by hand: the inputs and the own file's {sha256, size, kind, line_ref, parameter}
    inputs = {
        "facility": world.facility_a.pk,
        "year": 2024,
        "month": None,
        "methodology": revision.methodology,
        "methodology_version": revision.methodology_version,
        "lines": list(revision.activity_lines.order_by("index").values_list("inputs", flat=True)),
    }
    own_item = {
        "sha256": hashlib.sha256(OWN).hexdigest(),
        "size": len(OWN),
        "kind": "lab_report",
        "line_ref": None,
        "parameter": None,
    }
    signed = {  # the submitter's sign-off (issue 16), covered by the digest too
        "statement": STATEMENT,
        "name": world.operator_a.user.username,
        "organisation": world.operator_a.user.memberships.get().organisation_id,
        "at": revision.certification.at.isoformat(),
    }

    assert stored_digest == digest({**inputs, "evidence": [own_item], "certification": signed})

    job = job_of(created)
    checks_run(job_id=job.pk)
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    request = ask(world, job).json()["id"]
    extra = upload_for(operator, request).json()["id"]
    # the answer names the request's file and the revision's own file (frozen, seen by the verifier)
    answered = answer(operator, request, [extra, own])
    assert answered.status_code == 201, answered.content
    assert [item["id"] for item in answered.json()["answers"][0]["evidence"]] == sorted([extra, own])

    revision.refresh_from_db()
    assert (
        revision.digest
        == stored_digest
        == digest({**inputs, "evidence": [own_item], "certification": signed})
    )
    assert digest_items(revision=revision) == [own_item]
    for who in ("operator_a", "verifier_a"):
        listed = world.client(who).get(f"/api/v1/reports/{created}/evidence/").json()
        assert [row["id"] for row in listed["results"]] == [own], who
    # the request's file is attached to the revision under verification, outside its own files
    assert set(Evidence.objects.filter(revision=revision).values_list("pk", "request_id")) == {
        (own, None),
        (extra, request),
    }


@pytest.mark.postgres
def test_the_database_keeps_a_file_an_answer_names(world: World) -> None:
    operator = world.client("operator_a")
    request, _ = asked(world)
    named = upload_for(operator, request).json()["id"]
    spare = upload_for(operator, request, LAB + b"%% spare\n", "spare.pdf").json()["id"]
    assert answer(operator, request, [named]).status_code == 201

    for statement, refusal in (
        ("DELETE FROM mrv_evidence WHERE id = %s", "never removed"),
        ("UPDATE mrv_evidence SET sha256 = repeat('0', 64) WHERE id = %s", "never changed"),
        ("DELETE FROM mrv_answerevidence WHERE evidence_id = %s", "never changed nor removed"),
        ("UPDATE mrv_answerevidence SET evidence_id = evidence_id WHERE evidence_id = %s", "never changed"),
    ):
        with (
            pytest.raises(DatabaseError, match=refusal),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [named])
    assert Evidence.objects.get(pk=named).sha256 == hashlib.sha256(LAB).hexdigest()
    assert AnswerEvidence.objects.filter(evidence_id=named).count() == 1

    # through the API: the named file is kept (409); a file no answer names goes while the request is open
    kept = operator.delete(f"/api/v1/evidence/{named}/")
    assert kept.status_code == 409 and kept.json()["code"] == "evidence_frozen"
    assert operator.delete(f"/api/v1/evidence/{spare}/").status_code == 204
    assert set(Evidence.objects.values_list("pk", flat=True)) == {named}
    removed = AuditEvent.objects.get(action="request.evidence_delete")
    assert (removed.object_id, removed.data["evidence"]) == (str(request), spare)
    assert removed.before_digest == hashlib.sha256(LAB + b"%% spare\n").hexdigest()

    # once the request is closed no file is added to it, neither through the API nor in SQL
    assert world.client("verifier_a").post(f"/api/v1/requests/{request}/close/").status_code == 200
    late = upload_for(operator, request, LAB + b"%% late\n")
    assert late.status_code == 409 and late.json()["code"] == "evidence_frozen"
    copy = (
        "INSERT INTO mrv_evidence (revision_id, request_id, kind, line_ref, parameter, description, filename,"
        " storage_name, size, sha256, content_type, uploaded_by_id, uploaded_at)"
        " SELECT revision_id, request_id, kind, line_ref, parameter, description, filename, storage_name, size,"
        " sha256, content_type, uploaded_by_id, uploaded_at FROM mrv_evidence WHERE id = %s"
    )
    with (
        pytest.raises(DatabaseError, match="only while the request is open or answered"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(copy, [named])
    # nor, in SQL, a file of the submitted revision that is no request's (the guard of migration 0016 holds)
    own_copy = copy.replace("SELECT revision_id, request_id", "SELECT revision_id, NULL")
    with (
        pytest.raises(DatabaseError, match="cannot be added, changed or removed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(own_copy, [named])
    assert set(Evidence.objects.values_list("pk", flat=True)) == {named}


def test_an_upload_for_a_request_is_checked_like_any_evidence(world: World, settings: Any) -> None:
    operator = world.client("operator_a")
    request, _ = asked(world)
    refused = upload_for(operator, request, ELF, "lab.pdf")  # an executable named as a PDF
    assert refused.status_code == 415 and refused.json()["code"] == "evidence_type_not_allowed"
    settings.MRV_MAX_EVIDENCE_BYTES = len(LAB) - 1
    large = upload_for(operator, request)
    assert large.status_code == 413 and large.json()["code"] == "evidence_too_large"
    assert not Evidence.objects.exists()
    stored = [
        path
        for path in Path(settings.STORAGES["evidence"]["OPTIONS"]["location"]).rglob("*")
        if path.is_file()
    ]
    assert stored == []


EMBEDDED = """
from datetime import timedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from rest_framework.test import APIClient
from mrv.models import VerificationJob
from mrv.selectors import deposits
from mrv.services.facilities import facility_create
from mrv.services.users import user_create_with_token
from mrv.services.verification import checks_run
from tests.mrv.verification_helpers import plausible_cement

operator, operator_token = user_create_with_token(username="op", role="operator", organisation_name="Operator E")
verifier, verifier_token = user_create_with_token(username="ver", role="verifier", organisation_name="Body E")
regulator, _ = user_create_with_token(username="reg", role="regulator", organisation_name="Authority E")
facility = facility_create(by=regulator, name="Kiln E", sector="cement",
                           operator=operator.memberships.get().organisation,
                           province="CN-JS", verification_body=verifier.memberships.get().organisation)
op, ver = APIClient(), APIClient()
op.credentials(HTTP_AUTHORIZATION=f"Token {operator_token.key}")
ver.credentials(HTTP_AUTHORIZATION=f"Token {verifier_token.key}")
report = op.post("/api/v1/reports/", {"facility": facility.pk, "year": 2024, "lines": plausible_cement()},
                 format="json").json()["id"]
print("submit", op.post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json").status_code)
job = VerificationJob.objects.get(revision__report_id=report, kind="verification")
checks_run(job_id=job.pk)
print("claim", ver.post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code)
due = (deposits.today() + timedelta(days=7)).isoformat()
request = ver.post(f"/api/v1/verification-jobs/{job.pk}/requests/", {"question": "Lab?", "due_date": due},
                   format="json").json()["id"]
content = b"%PDF-1.4 embedded " + bytes(range(256)) * 100
def upload(data):
    return op.post(f"/api/v1/requests/{request}/evidence/",
                   {"file": SimpleUploadedFile("lab.pdf", data), "kind": "lab_report"}, format="multipart")
named, spare = upload(content).json()["id"], upload(content + b"spare").json()["id"]
print("answer", op.post(f"/api/v1/requests/{request}/answers/", {"text": "here", "evidence": [named]},
                        format="json").status_code)
print("download", b"".join(ver.get(f"/api/v1/evidence/{named}/download/").streaming_content) == content)
refused = 0
for statement in (f"DELETE FROM mrv_evidence WHERE id = {named}",
                  f"UPDATE mrv_evidence SET sha256 = 'x' WHERE id = {named}", "DELETE FROM mrv_answerevidence",
                  "UPDATE mrv_answerevidence SET answer_id = answer_id"):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except Exception as error:
        refused += "never" in str(error) or "cannot be added, changed or removed" in str(error)
print("refused", refused)
print("spare", op.delete(f"/api/v1/evidence/{spare}/").status_code)
print("close", ver.post(f"/api/v1/requests/{request}/close/").status_code)
copy = ("INSERT INTO mrv_evidence (revision_id, request_id, kind, line_ref, parameter, description, filename,"
        " storage_name, size, sha256, content_type, uploaded_by_id, uploaded_at) SELECT revision_id, request_id, kind,"
        " line_ref, parameter, description, filename, storage_name, size, sha256, content_type, uploaded_by_id,"
        f" uploaded_at FROM mrv_evidence WHERE id = {named}")
try:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(copy)
    print("late", "inserted")
except Exception as error:
    print("late", "only while the request is open or answered" in str(error))
"""


def test_the_embedded_mode_on_sqlite_guards_the_files_of_requests(tmp_path: Path) -> None:
    from tests.mrv.test_evidence import _manage

    assert _manage(tmp_path, "migrate", "--no-input").returncode == 0
    run = _manage(tmp_path, "shell", "-c", EMBEDDED)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == [
        "submit",
        "202",
        "claim",
        "200",
        "answer",
        "201",
        "download",
        "True",
        "refused",
        "4",
        "spare",
        "204",
        "close",
        "200",
        "late",
        "True",
    ], run.stderr[-3000:]
