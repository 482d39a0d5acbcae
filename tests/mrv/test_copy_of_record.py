"""The copy of record: a PDF of a submitted revision, from its frozen data, in Chinese or English.

Read back with poppler's pdftotext and pdffonts (Debian poppler-utils, installed by scripts/services.sh):
the Chinese facility name, the digest and the totals are in its text, the CJK font is embedded, two
renders are the same bytes; drafts and outsiders get no copy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mrv.models import Membership, Report, ReportRevision
from mrv.services.facilities import facility_create, facility_update
from mrv.services.reports import report_create, report_submit
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue
from tests.mrv.factories import World, api_user, client_for
from tests.mrv.verification_helpers import plausible_cement

FACILITY = "江苏示范水泥有限公司一号熟料线"


def _submitted(world: World, *, name: str = FACILITY) -> tuple[Report, ReportRevision]:
    facility = facility_create(
        by=world.regulator.user,
        name=name,
        operator=world.facility_a.operator,
        sector="cement",
        province="CN-JS",
        verification_body=world.facility_a.verification_body,
    )
    lines = plausible_cement()
    lines[1]["quantity"] = {"value": "13", "unit": "万吨"}  # 130,000 t of coal, in a Chinese unit
    report = report_create(
        by=world.operator_a.user, facility=facility, year=2024, month=None, methodology=None, lines=lines
    ).report
    return report, report_submit(by=world.operator_a.user, report=report)


def _verify(revision: ReportRevision, statement: str) -> None:
    job = revision.verification_jobs.get()
    checks_run(job_id=job.pk)
    verifier = Membership.objects.filter(organisation=revision.report.facility.verification_body).first().user
    job_claim(job=job, by=verifier)
    for finding in job.findings.filter(source="automated", severity="warning"):
        finding_acknowledge(job=job, finding_id=finding.pk, by=verifier, note="checked against the invoices")
    opinion_issue(job=job, by=verifier, opinion="verified", statement=statement)


def _pdf(client: Any, report: Report, number: int, **headers: str) -> Any:
    return client.get(f"/api/v1/reports/{report.pk}/revisions/{number}/copy-of-record.pdf", **headers)


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


@pytest.fixture(autouse=True)
def _poppler() -> None:
    assert shutil.which("pdftotext") and shutil.which("pdffonts"), "poppler-utils: run scripts/services.sh"


@pytest.mark.django_db
def test_the_chinese_copy_carries_the_facility_name_digest_and_totals(world: World, tmp_path: Path) -> None:
    report, revision = _submitted(world)
    response = _pdf(world.client("operator_a"), report, revision.number, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Language"] == "zh-hans"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert FACILITY in flat
    assert "排放报告存档副本" in flat and "摘要值" in flat and "尚未给出核查意见" in flat
    assert revision.digest in flat
    totals = revision.totals["totals"]
    for figure in (totals["total"], totals["direct"], totals["reported"]["total"]):
        assert str(figure) in text
    assert "bituminous_coal" in text and "13" in text and "万吨" in flat  # the line as given
    assert "130000" in text  # its quantity as computed, in tonnes
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert re.search(r"WenQuanYi.*\byes\b", fonts.splitlines()[-1]) or all(
        " yes " in line for line in fonts.splitlines()[2:]
    )  # every font embedded (the CJK subset among them)


@pytest.mark.django_db
def test_the_same_revision_renders_the_same_bytes_in_each_language(world: World) -> None:
    report, revision = _submitted(world)
    client = world.client("regulator")
    chinese = [
        _pdf(client, report, revision.number, HTTP_ACCEPT_LANGUAGE="zh-Hans").content for _ in range(2)
    ]
    english = [_pdf(client, report, revision.number).content for _ in range(2)]
    assert chinese[0] == chinese[1]
    assert english[0] == english[1]
    assert chinese[0] != english[0]
    stamp = revision.submitted_at.strftime("D:%Y%m%d%H%M%S")
    assert stamp.encode() in chinese[0]  # the creation date is the submission time, not the render's
    assert _pdf(client, report, revision.number, QUERY_STRING="lang=zh-hans").content == chinese[0]


@pytest.mark.django_db
def test_the_english_copy_says_so_and_shows_the_opinion_once_given(world: World, tmp_path: Path) -> None:
    report, revision = _submitted(world)
    client = world.client("operator_a")
    before = _pdf(client, report, revision.number).content
    assert "No opinion has been given yet." in _text(before, tmp_path)
    _verify(revision, statement="核查组已核对全部发票 (all invoices checked)")
    after = _pdf(client, report, revision.number).content
    text = _text(after, tmp_path)
    assert "Copy of record: emissions report" in text
    assert FACILITY in re.sub(r"\s+", "", text)
    assert "verified" in text and "核查组已核对全部发票" in re.sub(r"\s+", "", text)
    assert "none (no evidence file is stored with this revision)" in text


@pytest.mark.django_db
def test_the_facility_is_named_as_it_was_when_the_revision_was_submitted(
    world: World, tmp_path: Path
) -> None:
    report, revision = _submitted(world)
    facility_update(by=world.regulator.user, facility=report.facility, name="Renamed later")
    text = re.sub(
        r"\s+", "", _text(_pdf(world.client("regulator"), report, revision.number).content, tmp_path)
    )
    assert FACILITY in text and "Renamedlater" not in text


@pytest.mark.django_db
def test_drafts_and_outsiders_get_no_copy(world: World) -> None:
    report, revision = _submitted(world)
    draft = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    )
    conflict = _pdf(
        world.client("operator_a"), draft.report, draft.revision.number, HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    assert conflict.status_code == 409
    assert conflict["Content-Type"] == "application/problem+json"
    assert conflict.json()["code"] == "conflict"
    assert "草稿" in conflict.json()["detail"]
    # the verifier never sees a draft; another operator, another body and a revision that does not exist: 404
    assert _pdf(world.client("verifier_a"), draft.report, draft.revision.number).status_code == 404
    assert _pdf(world.client("operator_b"), report, revision.number).status_code == 404
    assert _pdf(world.client("verifier_b"), report, revision.number).status_code == 404
    assert _pdf(world.client("operator_a"), report, revision.number + 1).status_code == 404
    assert _pdf(world.client("verifier_a"), report, revision.number).status_code == 200
    outsider = api_user(role="operator")
    Membership.objects.filter(user=outsider.user).delete()  # a user of no organisation: 403
    assert _pdf(client_for(outsider), report, revision.number).status_code == 403
