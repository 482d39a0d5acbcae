"""Checks before submit: a report created empty, filled by import, and its draft checked on demand."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mrv.domain import checks, linefiles
from mrv.models import AuditEvent, Finding, VerificationJob
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines

pytestmark = pytest.mark.django_db

MISSING_PRODUCTION = {
    "code": "missing_production",
    "severity": "error",
    "detail": "no production line gives the clinker output",
    "pointer": "/lines",
    "line_ref": "",
    "value": "0 t",
    "expected": "a production line of clinker with its quantity",
}


def without_production() -> list[dict[str, Any]]:
    return [line for line in lines("cement") if line["source"] != "production"]


def csv_of(activity: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=linefiles.columns("cement"))
    writer.writeheader()
    writer.writerows(linefiles.line_to_row(line) for line in activity)
    return buffer.getvalue().encode()


def upload(world: World, report: int, content: bytes, query: str = "") -> Any:
    return world.client("operator_a").post(
        f"/api/v1/reports/{report}/lines/import/{query}",
        {"file": SimpleUploadedFile("lines.csv", content)},
        format="multipart",
    )


@pytest.fixture
def empty_draft(world: World) -> int:
    response = world.client("operator_a").post(
        "/api/v1/reports/", {"facility": world.facility_a.pk, "year": 2024}, format="json"
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def draft_checks(world: World, report: int, user: str = "operator_a") -> Any:
    return world.client(user).get(f"/api/v1/reports/{report}/checks/")


def test_a_report_may_be_created_empty_with_zero_totals(world: World, empty_draft: int) -> None:
    report = world.client("operator_a").get(f"/api/v1/reports/{empty_draft}/").json()
    assert (report["status"], report["line_count"], report["lines"], report["results"]) == (
        "draft",
        0,
        [],
        [],
    )
    assert report["totals"]["total"] == "0" and report["intensity"] is None
    # an empty report cannot be submitted: it is filled by import first
    refused = world.client("operator_a").post(
        f"/api/v1/reports/{empty_draft}/submit/", {"certify": True}, format="json"
    )
    assert refused.status_code == 409


def test_a_draft_without_production_shows_missing_production_before_submit(
    world: World, empty_draft: int
) -> None:
    assert upload(world, empty_draft, csv_of(without_production())).status_code == 200
    response = draft_checks(world, empty_draft)
    assert response.status_code == 200, response.content
    body = response.json()
    assert MISSING_PRODUCTION in body["findings"]
    assert body["report"] == empty_draft and body["revision"] == 1
    assert body["lines"] == len(without_production())
    assert body["check_version"] == checks.CHECK_VERSION
    assert body["counts"] == {
        severity: sum(1 for f in body["findings"] if f["severity"] == severity)
        for severity in ("error", "warning", "info")
    }
    # nothing is stored: no verification job, no finding, no audit event of the checks
    assert not VerificationJob.objects.exists() and not Finding.objects.exists()
    assert not AuditEvent.objects.filter(action__contains="check").exists()

    # the operator adds the production line: the finding is gone
    assert upload(world, empty_draft, csv_of(lines("cement"))).status_code == 200
    codes = {finding["code"] for finding in draft_checks(world, empty_draft).json()["findings"]}
    assert "missing_production" not in codes


def test_an_empty_draft_lacks_every_required_source(world: World, empty_draft: int) -> None:
    body = draft_checks(world, empty_draft).json()
    errors = {(f["code"], f["expected"]) for f in body["findings"] if f["severity"] == "error"}
    assert errors == {
        ("incomplete_sector", "a line of kind clinker_carbonate or clinker_default"),
        ("incomplete_sector", "a line of kind fuel_combustion"),
        ("missing_production", "a production line of clinker with its quantity"),
    }
    assert body["lines"] == 0


def test_the_dry_run_of_an_import_includes_the_draft_checks(world: World, empty_draft: int) -> None:
    response = upload(world, empty_draft, csv_of(without_production()), "?dry_run=true")
    assert response.status_code == 200, response.content
    summary = response.json()
    assert summary["dry_run"] is True and summary["lines"] == len(without_production())
    assert MISSING_PRODUCTION in summary["findings"]
    # the dry run stored nothing: the draft is still empty, and its own checks say so
    assert world.client("operator_a").get(f"/api/v1/reports/{empty_draft}/").json()["line_count"] == 0
    complete = upload(world, empty_draft, csv_of(lines("cement")), "?dry_run=true").json()
    assert "missing_production" not in {finding["code"] for finding in complete["findings"]}
    # a real import answers its summary without the checks (GET .../checks/ gives them)
    assert "findings" not in upload(world, empty_draft, csv_of(lines("cement"))).json()


def test_a_unit_slip_is_found_before_submit(world: World, empty_draft: int) -> None:
    slipped = lines("cement")
    coal = next(line for line in slipped if line["ref"] == "kiln-coal")
    coal["quantity"] = {"value": "120000", "unit": "kg"}  # tonnes entered as kilograms
    world.client("operator_a").patch(f"/api/v1/reports/{empty_draft}/", {"lines": slipped}, format="json")
    findings = draft_checks(world, empty_draft).json()["findings"]
    assert "unit_slip_mass" in {finding["code"] for finding in findings}


def test_only_a_draft_is_checked_on_demand(world: World, empty_draft: int) -> None:
    assert upload(world, empty_draft, csv_of(lines("cement"))).status_code == 200
    assert (
        world.client("operator_a")
        .post(f"/api/v1/reports/{empty_draft}/submit/", {"certify": True}, format="json")
        .status_code
        == 202
    )
    response = draft_checks(world, empty_draft)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "revision 1 is submitted: the checks run on a draft; a submitted revision's findings are those "
        "of its verification job"
    )


def test_nobody_else_reads_a_drafts_checks(world: World, empty_draft: int) -> None:
    # drafts are the operator's alone: another operator, the verifier and the regulator do not see it
    for user in ("operator_b", "verifier_a", "regulator"):
        assert draft_checks(world, empty_draft, user).status_code == 404, user
