"""Exports keep user-supplied text inert in a spreadsheet (no formula, link or error value comes alive),
and numbers stay numbers (plain decimals in CSV, numeric cells in XLSX)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from mrv.api.renderers import CSVRenderer, XLSXRenderer
from mrv.domain.cells import export_cell
from mrv.models import Facility, Membership, Report
from mrv.services.reports import report_create, report_submit
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

HYPERLINK = '=HYPERLINK("http://x","y")'


def _verify(report: Report) -> None:
    revision = report_submit(by=report.created_by, report=report)
    job = revision.verification_jobs.get()
    checks_run(job_id=job.pk)
    verifier = Membership.objects.filter(organisation=report.facility.verification_body).first().user
    job_claim(job=job, by=verifier)
    for finding in job.findings.filter(source="automated", severity="warning"):
        finding_acknowledge(job=job, finding_id=finding.pk, by=verifier, note="accepted for the test")
    opinion_issue(job=job, by=verifier, opinion="verified", statement="test")


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def _xlsx_rows(content: bytes) -> list[dict[str, Any]]:
    """Every cell of the first sheet as openpyxl reads it back (formulas are not evaluated)."""
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


@pytest.mark.django_db
def test_a_formula_facility_name_is_inert_in_the_aggregates_csv_and_xlsx(world: World) -> None:
    Facility.objects.filter(pk=world.facility_a.pk).update(name=HYPERLINK)
    lines = plausible_cement()
    grid = next(line for line in lines if line["ref"] == "grid")
    grid["direction"] = "exported"  # exported electricity: a negative indirect figure
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=lines,
    ).report
    _verify(report)
    client = world.client("regulator")
    body = client.get("/api/v1/aggregates/?group_by=facility").json()
    (result,) = body["results"]
    assert result["facility_name"] == HYPERLINK and result["indirect"].startswith("-")

    (row, _total) = _csv_rows(client.get("/api/v1/aggregates/?group_by=facility&format=csv").content)
    assert row["facility_name"] == "'" + HYPERLINK  # an apostrophe first: text, never a formula
    assert row["indirect"] == result["indirect"]  # a negative figure is not marked
    assert Decimal(row["indirect"]) < 0

    response = client.get("/api/v1/aggregates/?group_by=facility&format=xlsx")
    (cell_row, _total_row) = _xlsx_rows(response.content)
    name = cell_row["facility_name"]
    assert name.data_type == "s" and name.value == HYPERLINK  # a string cell, the text kept exactly
    assert name.quotePrefix  # and it stays text when someone edits it in Excel
    indirect = cell_row["indirect (tCO2e)"]
    assert indirect.data_type == "n" and not indirect.quotePrefix  # a negative figure is a number
    assert Decimal(repr(indirect.value)) == Decimal(result["indirect"]) < 0


@pytest.mark.parametrize(
    "text",
    [
        HYPERLINK,
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
        "#REF!",
        "plain; =1+1",
    ],
)
def test_the_table_writers_keep_every_risky_text_inert(text: str) -> None:
    table = {"columns": ["name", "figure"], "rows": [{"name": text, "figure": Decimal("-12.5")}]}
    (row,) = _csv_rows(CSVRenderer().render(table))
    starts_like_a_formula = text[0] in "=+-@\t\r＝"
    assert row["name"] == ("'" + text if starts_like_a_formula else text)
    assert row["figure"] == "-12.5"

    (cells,) = _xlsx_rows(XLSXRenderer().render(table))
    assert cells["name"].data_type == "s"  # never "f" (formula) or "e" (error value)
    assert cells["name"].value == text.replace("\r", "\n")  # XML keeps a carriage return as a newline
    assert bool(cells["name"].quotePrefix) is starts_like_a_formula
    assert cells["figure"].data_type == "n" and cells["figure"].value == -12.5  # a number, not text
    assert not cells["figure"].quotePrefix


def test_the_csv_quotes_every_field_so_a_semicolon_cannot_open_a_new_cell() -> None:
    content = CSVRenderer().render({"columns": ["name"], "rows": [{"name": "a;=1+1"}]})
    assert content.decode() == '"name"\r\n"a;=1+1"\r\n'


@pytest.mark.parametrize(
    ("value", "text", "inert"),
    [
        (Decimal("-12.5"), "-12.5", False),
        (Decimal("1E+3"), "1000", False),
        (-7, "-7", False),
        ("-12.5", "-12.5", False),  # a plain number written as text is still just that number
        ("-12.5e3", "-12.5e3", True),
        ("-", "-", True),
        (None, "", False),
        ("Cement plant A", "Cement plant A", False),
    ],
)
def test_export_cell_marks_text_only(value: Any, text: str, inert: bool) -> None:
    cell = export_cell(value)
    assert (cell.text, cell.inert) == (text, inert)
    assert cell.csv_text == ("'" + text if inert else text)
