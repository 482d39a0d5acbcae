"""What the API takes and returns: list filters validated (400 with /query/ pointers), the report list
filtering on the revision it shows, the import's ``format`` parameter, and output serializers that say
exactly what the views return."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

import accounting
from mrv.api import serializers as s
from mrv.domain import linefiles
from mrv.models import ReportRevision
from mrv.services.reports import revision_transition
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines, report_body

pytestmark = pytest.mark.django_db

EXAMPLES = sorted((Path(settings.BASE_DIR) / "fixtures" / "examples").glob("*.json"))


def _returned_then_revised(world: World) -> int:
    """A report whose revision 1 was returned and whose operator opened revision 2 (a draft)."""
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    assert (
        client.post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json").status_code == 202
    )
    first = ReportRevision.objects.get(report_id=report, number=1)
    revision_transition(revision=first, status="in_verification")
    revision_transition(revision=first, status="returned")
    assert client.post(f"/api/v1/reports/{report}/revise/").status_code == 201
    return report


def _listed(world: World, role: str, query: str) -> list[tuple[int, int, str]]:
    response = world.client(role).get(f"/api/v1/reports/?{query}")
    assert response.status_code == 200, response.content
    return [(row["id"], row["revision"], row["status"]) for row in response.json()["results"]]


def test_the_report_list_filters_on_the_revision_it_shows(world: World) -> None:
    report = _returned_then_revised(world)
    # The verifier is shown revision 1 (returned), never the operator's new draft: the filter agrees.
    assert _listed(world, "verifier_a", "") == [(report, 1, "returned")]
    assert _listed(world, "verifier_a", "status=returned") == [(report, 1, "returned")]
    assert _listed(world, "verifier_a", "status=draft") == []
    # The operator is shown its draft, and filters on it.
    assert _listed(world, "operator_a", "status=draft") == [(report, 2, "draft")]
    assert _listed(world, "operator_a", "status=returned") == []


@pytest.mark.parametrize(
    ("path", "query", "pointer"),
    [
        ("/api/v1/reports/", "status=lost", "/query/status"),
        ("/api/v1/reports/", "facility=abc", "/query/facility"),
        ("/api/v1/reports/", "facility=99999999999999", "/query/facility"),
        ("/api/v1/reports/", "year=1800", "/query/year"),
        ("/api/v1/reports/", "sector=glass", "/query/sector"),
        ("/api/v1/facilities/", "province=CN-99", "/query/province"),
        ("/api/v1/verification-jobs/", "kind=audit", "/query/kind"),
        ("/api/v1/verification-jobs/", "status=done", "/query/status"),
        ("/api/v1/audit-events/", f"action={'x' * 65}", "/query/action"),
        ("/api/v1/reports/lines/template/", "sector=glass", "/query/sector"),
        ("/api/v1/reports/lines/template/", "", "/query/sector"),
        ("/api/v1/aggregates/comparison/", "year=24", "/query/year"),
    ],
)
def test_invalid_filters_are_400_problems_pointing_at_the_parameter(
    world: World, path: str, query: str, pointer: str
) -> None:
    response = world.client("regulator").get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert [error["pointer"] for error in response.json()["errors"]] == [pointer]


def test_valid_filters_reach_the_selector(world: World) -> None:
    report = _returned_then_revised(world)
    other_year = report_body(world.facility_a)
    other_year["year"] = 2023
    assert world.client("operator_a").post("/api/v1/reports/", other_year, format="json").status_code == 201
    assert [row[0] for row in _listed(world, "operator_a", "year=2024&sector=cement")] == [report]
    assert _listed(world, "operator_a", "sector=steel") == []
    assert len(_listed(world, "operator_a", f"facility={world.facility_a.pk}")) == 2
    assert _listed(world, "operator_a", "facility=2147483647") == []


# -- the import's format parameter ---------------------------------------------------------------------
def _template(world: World, file_format: str) -> bytes:
    response = world.client("operator_a").get(
        f"/api/v1/reports/lines/template/?sector=cement&format={file_format}"
    )
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("file_format", list(linefiles.FORMATS))
def test_the_import_format_parameter_names_the_file_format(world: World, file_format: str) -> None:
    client = world.client("operator_a")
    body = report_body(world.facility_a)
    body["lines"] = body["lines"][:1]
    report = client.post("/api/v1/reports/", body, format="json").json()["id"]
    # A file name without the extension: the format parameter says what the file is.
    upload = SimpleUploadedFile("lines-from-the-erp", _template(world, file_format))
    response = client.post(
        f"/api/v1/reports/{report}/lines/import/?format={file_format}&dry_run=true",
        {"file": upload},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["dry_run"] is True and response.json()["lines"] == len(lines("cement"))


def test_the_import_format_parameter_wins_over_the_file_name_and_is_validated(world: World) -> None:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    url = f"/api/v1/reports/{report}/lines/import/"
    csv_named_xlsx = SimpleUploadedFile("lines.xlsx", _template(world, "csv"))
    assert (
        client.post(f"{url}?format=csv&dry_run=1", {"file": csv_named_xlsx}, format="multipart").status_code
        == 200
    )
    refused = client.post(
        f"{url}?format=pdf", {"file": SimpleUploadedFile("a.csv", b"x")}, format="multipart"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["pointer"] == "/query/format"
    unnamed = client.post(url, {"file": SimpleUploadedFile("lines", b"source\n")}, format="multipart")
    assert unnamed.status_code == 400 and unnamed.json()["errors"][0]["pointer"] == "/file"


def test_import_mode_and_flags_are_validated(world: World) -> None:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    upload = SimpleUploadedFile("lines.csv", _template(world, "csv"))
    response = client.post(
        f"/api/v1/reports/{report}/lines/import/?mode=merge", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["errors"][0]["pointer"] == "/query/mode"
    flag = client.post(
        f"/api/v1/reports/{report}/lines/import/?dry_run=perhaps",
        {"file": SimpleUploadedFile("lines.csv", _template(world, "csv"))},
        format="multipart",
    )
    assert flag.status_code == 400 and flag.json()["errors"][0]["pointer"] == "/query/dry_run"


# -- output serializers say what the views return ---------------------------------------------------------
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_the_documented_calculation_output_is_the_engines_output(example: Path) -> None:
    body = accounting.calculate(json.loads(example.read_text(encoding="utf-8"))["request"]).as_json()
    rendered = json.loads(json.dumps(body, default=str))
    assert json.loads(json.dumps(s.CalculationOutput(body).data, default=str)) == rendered
    # The per-line results pass through; the serializer that documents them gives the same.
    assert (
        json.loads(json.dumps(s.LineResultOutput(body["lines"], many=True).data, default=str))
        == rendered["lines"]
    )


def test_report_and_job_bodies_keep_their_fields(world: World) -> None:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()
    assert set(report) == set(s.ReportDetailOutput().fields)
    assert report["lines"] == lines("cement") and len(report["results"]) == len(lines("cement"))
    assert report["totals"]["reported"]["rounding"]["places"] >= 0
    submitted = client.post(
        f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json"
    ).json()
    job = world.client("verifier_a").get(f"/api/v1/verification-jobs/{submitted['verification_job']}/").json()
    assert set(job) == set(s.VerificationJobOutput().fields)
    assert job["report"] == report["id"] and job["status"] in {"queued", "running", "awaiting_review"}
    page = world.client("verifier_a").get("/api/v1/verification-jobs/").json()
    assert set(page["results"][0]) == set(s.VerificationJobOutput().fields) - {"findings"}
