"""A monitoring plan's parameter table imported from CSV (UTF-8, BOM, GB18030) or XLSX into a DRAFT
version (issue 11): one row per source and parameter; bad rows are 400 problems pointing at row and
column; a submitted or approved version is refused (409)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from mrv.domain.plans import TABLE_COLUMNS
from mrv.models import AuditEvent, MonitoringPlan
from tests.mrv.factories import World

pytestmark = pytest.mark.django_db

ROWS = [
    # ref, source, description, parameter, determination, method, instrument, frequency, uncertainty, tier, rule
    [
        "coal",
        "fuel_combustion",
        "窑头煤",
        "quantity",
        "measured",
        "皮带秤",
        "BW-1",
        "continuous",
        "1.5",
        "3",
        "",
    ],
    ["coal", "fuel_combustion", "", "ncv", "measured", "GB/T 213", "calorimeter", "batch", "", "2", "缺省值"],
    ["clinker", "clinker_carbonate", "", "cao_fraction", "measured", "XRF", "", "daily", "", "", ""],
    ["grid", "electricity", "", "", "", "", "", "", "", "", ""],  # a source without parameters
]


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TABLE_COLUMNS)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(TABLE_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def draft_plan(world: World) -> int:
    body = {
        "facility": world.facility_a.pk,
        "valid_from": "2024-01-01",
        "methodology": "cn-mee-2024",
        "sources": [],
    }
    created = world.client("operator_a").post("/api/v1/monitoring-plans/", body, format="json")
    assert created.status_code == 201, created.content
    return created.json()["id"]


def upload(world: World, plan: int, content: bytes, name: str, who: str = "operator_a", **query: str) -> Any:
    url = f"/api/v1/monitoring-plans/{plan}/parameters/import/"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return world.client(who).post(url, {"file": SimpleUploadedFile(name, content)}, format="multipart")


EXPECTED_SOURCES = [
    {
        "ref": "coal",
        "source": "fuel_combustion",
        "description": "窑头煤",
        "parameters": {
            "quantity": {
                "determination": "measured",
                "method": "皮带秤",
                "instrument": "BW-1",
                "frequency": "continuous",
                "uncertainty_percent": "1.5",
                "tier": "3",
                "missing_data_rule": "",
            },
            "ncv": {
                "determination": "measured",
                "method": "GB/T 213",
                "instrument": "calorimeter",
                "frequency": "batch",
                "uncertainty_percent": None,
                "tier": "2",
                "missing_data_rule": "缺省值",
            },
        },
    },
    {
        "ref": "clinker",
        "source": "clinker_carbonate",
        "description": "",
        "parameters": {
            "cao_fraction": {
                "determination": "measured",
                "method": "XRF",
                "instrument": "",
                "frequency": "daily",
                "uncertainty_percent": None,
                "tier": None,
                "missing_data_rule": "",
            }
        },
    },
    {"ref": "grid", "source": "electricity", "description": "", "parameters": {}},
]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (csv_bytes(ROWS), "plan.csv"),
        (csv_bytes(ROWS, bom=True), "plan.csv"),
        (csv_bytes(ROWS, encoding="gb18030"), "plan.csv"),
        (xlsx_bytes(ROWS), "plan.xlsx"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "xlsx"],
)
def test_a_parameter_table_fills_a_draft(world: World, content: bytes, name: str) -> None:
    plan = draft_plan(world)
    response = upload(world, plan, content, name)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rows"], body["sources"], body["parameters"]) == (4, 3, 3)
    assert body["plan"]["sources"] == EXPECTED_SOURCES
    assert MonitoringPlan.objects.get(pk=plan).sources == EXPECTED_SOURCES
    event = AuditEvent.objects.filter(object_type="monitoring_plan", object_id=str(plan)).latest("id")
    assert (event.action, event.data["import"], event.data["rows"]) == (
        "plan.update",
        name[-4:].lstrip("."),
        4,
    )


def test_xlsx_numbers_are_read_as_written(world: World) -> None:
    plan = draft_plan(world)
    rows = [["coal", "fuel_combustion", "", "ncv", "measured", "lab", "", "batch", 1.5, 2, ""]]
    response = upload(world, plan, xlsx_bytes(rows), "plan.xlsx")
    assert response.status_code == 200, response.content
    ncv = response.json()["plan"]["sources"][0]["parameters"]["ncv"]
    assert (ncv["uncertainty_percent"], ncv["tier"]) == ("1.5", "2")


def test_bad_rows_are_400_problems_at_row_and_column_and_nothing_is_stored(world: World) -> None:
    plan = draft_plan(world)
    rows = [
        [
            "coal",
            "fuel_combustion",
            "",
            "ncv",
            "guessed",
            "lab",
            "",
            "batch",
            "",
            "",
            "",
        ],  # row 2: determination
        [
            "coal",
            "electricity",
            "",
            "quantity",
            "measured",
            "m",
            "",
            "daily",
            "",
            "",
            "",
        ],  # row 3: other kind
        [
            "kiln",
            "fuel_combustion",
            "",
            "ncv",
            "measured",
            "",
            "",
            "hourly",
            "250",
            "",
            "",
        ],  # row 4: 3 errors
        ["kiln", "fuel_combustion", "", "ncv", "measured", "lab", "", "batch", "", "", ""],  # row 5: twice
        ["belt", "anode_effect", "", "", "", "", "", "", "", "", ""],  # row 6: not a cement line kind
    ]
    response = upload(world, plan, csv_bytes(rows), "plan.csv")
    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["detail"] == "7 invalid cell(s); nothing was stored"
    assert [(e["row"], e["column"], e["code"]) for e in problem["errors"]] == [
        (2, "determination", "invalid_choice"),
        (3, "source", "inconsistent"),
        (4, "frequency", "invalid_choice"),
        (4, "method", "required"),
        (4, "uncertainty_percent", "invalid"),
        (5, "parameter", "duplicate"),
        (6, "source", "invalid_choice"),
    ]  # in row order, then column
    assert problem["errors"][0]["pointer"] == "/rows/0/determination"
    assert MonitoringPlan.objects.get(pk=plan).sources == []


def test_unreadable_and_empty_files(world: World) -> None:
    plan = draft_plan(world)
    no_source = upload(world, plan, b"ref,parameter\ncoal,ncv\n", "plan.csv")
    assert no_source.status_code == 400 and no_source.json()["errors"][0]["pointer"] == "/file"
    empty = upload(world, plan, csv_bytes([]), "plan.csv")
    assert empty.status_code == 400 and empty.json()["errors"][0]["code"] == "empty_file"
    wrong = upload(world, plan, b"%PDF-1.4", "plan.pdf")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["code"] == "unsupported_format"


def test_a_dry_run_stores_nothing(world: World) -> None:
    plan = draft_plan(world)
    response = upload(world, plan, csv_bytes(ROWS), "plan.csv", dry_run="true")
    assert response.status_code == 200, response.content
    assert (response.json()["dry_run"], response.json()["plan"], response.json()["sources"]) == (
        True,
        None,
        3,
    )
    assert MonitoringPlan.objects.get(pk=plan).sources == []


def test_only_a_draft_takes_an_import_and_only_its_operator(world: World) -> None:
    plan = draft_plan(world)
    assert upload(world, plan, csv_bytes(ROWS), "plan.csv").status_code == 200
    assert upload(world, plan, csv_bytes(ROWS), "plan.csv", who="operator_b").status_code == 404
    assert upload(world, plan, csv_bytes(ROWS), "plan.csv", who="regulator").status_code == 404  # a draft
    operator, regulator = world.client("operator_a"), world.client("regulator")
    assert operator.post(f"/api/v1/monitoring-plans/{plan}/submit/").status_code == 200
    assert upload(world, plan, csv_bytes(ROWS), "plan.csv", who="regulator").status_code == 403
    submitted = upload(world, plan, csv_bytes(ROWS[:1]), "plan.csv")
    assert submitted.status_code == 409
    assert regulator.post(f"/api/v1/monitoring-plans/{plan}/approve/", {}, format="json").status_code == 200
    approved = upload(world, plan, csv_bytes(ROWS[:1]), "plan.csv")
    assert approved.status_code == 409
    assert "an approved plan is changed by a new version" in approved.json()["detail"]
    assert MonitoringPlan.objects.get(pk=plan).sources == EXPECTED_SOURCES


def test_the_template_downloads_and_imports_as_it_is(world: World) -> None:
    client = world.client("operator_a")
    template = client.get("/api/v1/monitoring-plans/parameters/template/", {"format": "xlsx"})
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.content), read_only=True).active
    header = next(sheet.iter_rows(values_only=True))
    assert list(header) == list(TABLE_COLUMNS)
    as_csv = client.get("/api/v1/monitoring-plans/parameters/template/", {"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.content.startswith(b'"ref","source","description"')
    plan = draft_plan(world)
    imported = upload(world, plan, template.content, "template.xlsx")
    assert imported.status_code == 200, imported.content
    assert [s["ref"] for s in imported.json()["plan"]["sources"]] == ["coal"]
