"""Line import from CSV and XLSX: template round trip, every bad cell reported, all or nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from mrv.domain import linefiles
from mrv.models import ActivityLine
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines, report_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(world: World) -> int:
    body = report_body(world.facility_a)
    body["lines"] = body["lines"][:1]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    return int(response.json()["id"])


def upload(world: World, report: int, name: str, content: bytes, query: str = "") -> Any:
    return world.client("operator_a").post(
        f"/api/v1/reports/{report}/lines/import/{query}",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_template_round_trip(world: World, draft: int, file_format: str) -> None:
    template = world.client("operator_a").get(
        f"/api/v1/reports/lines/template/?sector=cement&format={file_format}"
    )
    assert template.status_code == 200
    response = upload(world, draft, f"lines.{file_format}", template.content)
    assert response.status_code == 200, response.content
    assert response.json()["lines"] == len(lines("cement"))
    report = world.client("operator_a").get(f"/api/v1/reports/{draft}/").json()
    assert report["lines"] == lines("cement")  # every field and unit survives the spreadsheet
    calculated = (
        world.client("operator_a")
        .post(
            "/api/v1/calculate/", {"sector": "cement", "year": 2024, "lines": lines("cement")}, format="json"
        )
        .json()
    )
    assert report["totals"]["direct"] == calculated["totals"]["direct"]


def test_template_columns_cover_every_line_kind_of_the_sector() -> None:
    for sector in linefiles.SECTOR_KINDS:
        names = linefiles.columns(sector)
        assert names[:3] == ["ref", "source", "month"]
        assert "quantity" in names and "quantity_unit" in names
    assert "steam.enthalpy_unit" in linefiles.columns("steel")
    assert "anode_effect_minutes" in linefiles.columns("aluminium")


def _bad_csv() -> bytes:
    names = linefiles.columns("cement")
    rows = [linefiles.line_to_row(line) for line in lines("cement")]
    rows[1]["organic_carbon_fraction"] = "1.5"  # row 3: fraction above 1
    rows[2]["ncv_unit"] = "t"  # row 4: wrong dimension
    rows[3]["fuel"] = "unobtainium"  # row 5: unknown fuel
    rows[4]["quantity"] = "-1"  # row 6: negative
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_every_bad_cell_is_reported_with_row_and_column_and_nothing_is_stored(
    world: World, draft: int
) -> None:
    before = list(ActivityLine.objects.filter(revision__report_id=draft).values_list("inputs", flat=True))
    response = upload(world, draft, "lines.csv", _bad_csv())
    assert response.status_code == 400
    cells = {(e["row"], e["column"], e["code"]) for e in response.json()["errors"]}
    assert cells == {
        (3, "organic_carbon_fraction", "fraction_out_of_range"),
        (4, "ncv_unit", "wrong_dimension"),
        (5, "fuel", "unknown_code"),
        (6, "quantity", "negative"),
    }
    after = list(ActivityLine.objects.filter(revision__report_id=draft).values_list("inputs", flat=True))
    assert after == before


def test_dry_run_validates_without_storing(world: World, draft: int) -> None:
    template = world.client("operator_a").get("/api/v1/reports/lines/template/?sector=cement&format=csv")
    response = upload(world, draft, "lines.csv", template.content, "?dry_run=true")
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert ActivityLine.objects.filter(revision__report_id=draft).count() == 1


def test_append_mode_keeps_the_existing_lines(world: World, draft: int) -> None:
    template = world.client("operator_a").get("/api/v1/reports/lines/template/?sector=cement&format=csv")
    # the template's refs collide with the existing first line's ref: rename them
    rows = list(csv.DictReader(io.StringIO(template.content.decode())))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({**row, "ref": row["ref"] + "-2"} for row in rows)
    response = upload(world, draft, "lines.csv", buffer.getvalue().encode(), "?mode=append")
    assert response.status_code == 200, response.content
    assert response.json()["lines"] == 1 + len(lines("cement"))


def test_xlsx_numbers_typed_as_numbers_are_read_exactly(world: World, draft: int) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ref", "source", "quantity", "quantity_unit", "emission_factor", "emission_factor_unit"])
    sheet.append(["electrodes", "electrode", 0.1, "t", 3.663, "tCO2/t"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(world, draft, "lines.xlsx", buffer.getvalue())
    assert response.status_code == 200, response.content
    assert response.json()["totals"]["direct"] == "0.3663"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("lines.csv", b"", "unreadable_file"),
        ("lines.csv", b"a,b\n1,2\n", "unreadable_file"),
        ("lines.csv", b"\xff\xfe\x00garbage", "unreadable_file"),
        ("lines.xlsx", b"not a workbook", "unreadable_file"),
        ("lines.txt", b"ref,source\n", "unsupported_format"),
        ("lines.csv", b"ref,source\n", "empty_file"),
    ],
)
def test_unreadable_files_are_400(world: World, draft: int, name: str, content: bytes, code: str) -> None:
    response = upload(world, draft, name, content)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code


def test_ten_thousand_rows_import_in_one_request(world: World, draft: int) -> None:
    names = linefiles.columns("cement")
    row = linefiles.line_to_row(lines("cement")[2])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    for number in range(10_000):
        writer.writerow({**row, "ref": f"coal-{number}", "month": str(number % 12 + 1)})
    response = upload(world, draft, "lines.csv", buffer.getvalue().encode())
    assert response.status_code == 200, response.content[:500]
    assert ActivityLine.objects.filter(revision__report_id=draft).count() == 10_000


def test_template_needs_a_known_sector(world: World) -> None:
    response = world.client("operator_a").get("/api/v1/reports/lines/template/?sector=glass")
    assert response.status_code == 400
    workbook = load_workbook(
        io.BytesIO(
            world.client("operator_a").get("/api/v1/reports/lines/template/?sector=steel&format=xlsx").content
        )
    )
    assert next(workbook.active.iter_rows(values_only=True))[:2] == ("ref", "source")


def test_background_import_runs_as_a_job_with_progress_and_outcome(world: World, draft: int) -> None:
    from mrv.tasks import import_lines

    client = world.client("operator_a")
    template = client.get("/api/v1/reports/lines/template/?sector=cement&format=xlsx")
    accepted = upload(world, draft, "lines.xlsx", template.content, "?background=true")
    assert accepted.status_code == 202 and accepted.json()["status"] == "queued"
    job = accepted.json()["id"]
    assert import_lines(job) == "completed"  # what a worker runs
    assert import_lines(job).startswith("skipped")  # delivered twice: runs once
    status = client.get(f"/api/v1/import-jobs/{job}/").json()
    assert status["status"] == "completed" and status["progress"] == 100
    assert status["outcome"]["lines"] == len(lines("cement"))
    assert client.get(f"/api/v1/reports/{draft}/").json()["lines"] == lines("cement")
    assert world.client("operator_b").get(f"/api/v1/import-jobs/{job}/").status_code == 404


def test_background_import_of_a_bad_file_fails_with_every_bad_cell(world: World, draft: int) -> None:
    from mrv.tasks import import_lines

    accepted = upload(world, draft, "lines.csv", _bad_csv(), "?background=true")
    job = accepted.json()["id"]
    assert import_lines(job) == "failed"
    outcome = world.client("operator_a").get(f"/api/v1/import-jobs/{job}/").json()["outcome"]
    assert {(e["row"], e["column"]) for e in outcome["errors"]} == {
        (3, "organic_carbon_fraction"),
        (4, "ncv_unit"),
        (5, "fuel"),
        (6, "quantity"),
    }
    assert ActivityLine.objects.filter(revision__report_id=draft).count() == 1
