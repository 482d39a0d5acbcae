"""Deposit compliance for regulators (issue 11, SPEC §8): ``GET /api/v1/aggregates/deposits/`` counts,
per province, sector or facility, the monthly deposits due, made on time or late, missing, accepted
and returned; as JSON, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from mrv.models import Membership, VerificationJob
from mrv.selectors import deposits
from mrv.services.facilities import facility_create
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db
URL = "/api/v1/aggregates/deposits/"


def deposit(world: World, facility: Any, month: int, *, year: int = 2024, submit: bool = True) -> int:
    client = world.client("operator_a")
    body = {"facility": facility.pk, "year": year, "month": month, "lines": plausible_cement()}
    created = client.post("/api/v1/reports/", body, format="json")
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    if submit:
        assert (
            client.post(f"/api/v1/reports/{report_id}/submit/", {"certify": True}, format="json").status_code
            == 202
        )
        job = VerificationJob.objects.get(revision__report_id=report_id, kind="verification")
        checks_run(job_id=job.pk)
    return report_id


def facility_c(world: World, name: str = "Cement plant C") -> Any:
    """A second cement plant of operator A, in Inner Mongolia (facility B's province)."""
    operator = Membership.objects.get(user=world.operator_a.user).organisation
    return facility_create(
        by=world.regulator.user,
        name=name,
        operator=operator,
        sector="cement",
        province="CN-NM",
        verification_body=world.facility_a.verification_body,
    )


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[name] for name in ("expected", "on_time", "late", "missing", "accepted", "returned"))


@pytest.fixture
def year_2024(world: World) -> Any:
    """2024, deposited years later (so late): A's January accepted, A's February returned, A's March a
    draft only; C's January under review; B (aluminium, CN-NM) deposited nothing."""
    c = facility_c(world)
    regulator = world.client("regulator")
    january = deposit(world, world.facility_a, 1)
    assert regulator.post(f"/api/v1/reports/{january}/accept/").status_code == 200
    february = deposit(world, world.facility_a, 2)
    returned = regulator.post(
        f"/api/v1/reports/{february}/return/", {"comment": "no lab report"}, format="json"
    )
    assert returned.status_code == 200
    deposit(world, world.facility_a, 3, submit=False)
    deposit(world, c, 1)
    return c


def test_a_late_january_deposit_counts_as_late_by_province_sector_and_facility(
    world: World, year_2024: Any
) -> None:
    regulator = world.client("regulator")
    a, b, c = world.facility_a.pk, world.facility_b.pk, year_2024.pk
    # today every month of 2024 is past its due date: 12 expected per facility
    by_province = regulator.get(URL, {"year": 2024, "group_by": "province"})
    assert by_province.status_code == 200, by_province.content
    rows = {row["province"]: counts(row) for row in by_province.json()["results"]}
    # CN-JS: A alone: 2 late (Jan, Feb; the March draft is no deposit), 12 - 2 = 10 missing
    # CN-NM: B (none) and C (Jan late): 24 expected, 1 late, 23 missing, C's January still pending review
    assert rows == {"CN-JS": (12, 0, 2, 10, 1, 1), "CN-NM": (24, 0, 1, 23, 0, 0)}
    assert counts(by_province.json()["totals"]) == (36, 0, 3, 33, 1, 1)
    by_sector = regulator.get(URL, {"year": 2024, "group_by": "sector"}).json()["results"]
    assert {row["sector"]: counts(row) for row in by_sector} == {
        "aluminium": (12, 0, 0, 12, 0, 0),
        "cement": (24, 0, 3, 21, 1, 1),  # A and C: 2 + 1 late
    }
    by_facility = regulator.get(URL, {"year": 2024, "group_by": "facility"}).json()["results"]
    assert {row["facility"]: counts(row) for row in by_facility} == {
        a: (12, 0, 2, 10, 1, 1),
        b: (12, 0, 0, 12, 0, 0),
        c: (12, 0, 1, 11, 0, 0),
    }
    assert {row["facility"]: row["facility_name"] for row in by_facility}[c] == "Cement plant C"
    both = regulator.get(URL, {"year": 2024, "group_by": "province,sector"}).json()["results"]
    assert [(r["province"], r["sector"], counts(r)) for r in both] == [
        ("CN-JS", "cement", (12, 0, 2, 10, 1, 1)),
        ("CN-NM", "aluminium", (12, 0, 0, 12, 0, 0)),
        ("CN-NM", "cement", (12, 0, 1, 11, 0, 0)),
    ]


def test_as_of_judges_on_an_earlier_date(world: World, year_2024: Any) -> None:
    regulator = world.client("regulator")
    # on 10 April 2024 January (due 11 March) and February (due 9 April) were due; nothing had been
    # deposited or reviewed then (all of it happened years later): 2 missing per facility
    answer = regulator.get(URL, {"year": 2024, "as_of": "2024-04-10"}).json()
    assert answer["as_of"] == "2024-04-10" and answer["group_by"] == []
    assert [counts(row) for row in answer["results"]] == [(6, 0, 0, 6, 0, 0)]
    # on 11 March (January's due date itself) nothing was due yet
    assert counts(regulator.get(URL, {"year": 2024, "as_of": "2024-03-11"}).json()["totals"]) == (0,) * 6


def test_a_deposit_made_before_its_due_date_is_on_time(world: World) -> None:
    """Last month's deposit, made today, is due 40 days after last month's end (later than today)."""
    today = deposits.today()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    year, month = last_month_end.year, last_month_end.month
    deposit(world, world.facility_a, month, year=year)
    due = last_month_end + timedelta(days=40)
    assert due >= today
    as_of = due + timedelta(days=1)
    rows = world.client("regulator").get(URL, {"year": year, "group_by": "facility", "as_of": as_of}).json()
    row = next(r for r in rows["results"] if r["facility"] == world.facility_a.pk)
    # on the day after its due date, months 1..month are due (month + 1 is due 28 days or more later):
    # this one on time, the month - 1 others missing
    assert counts(row) == (month, 1, 0, month - 1, 0, 0)
    # before it is due, it is not counted yet (not expected), though deposited
    early = world.client("regulator").get(URL, {"year": year, "group_by": "facility", "as_of": due}).json()
    row = next(r for r in early["results"] if r["facility"] == world.facility_a.pk)
    assert (row["expected"], row["on_time"]) == (month - 1, 0)


def test_csv_and_xlsx_exports_open_and_keep_formulas_inert(world: World, year_2024: Any) -> None:
    facility_c(world, name='=HYPERLINK("http://x","y")')
    regulator = world.client("regulator")
    response = regulator.get(URL, {"year": 2024, "group_by": "facility", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="mrv-deposits-2024.csv"' in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert list(table[0]) == [
        "facility", "facility_name", "expected", "on_time", "late", "missing", "accepted", "returned"
    ]  # fmt: skip
    by_name = {row["facility_name"]: row for row in table}
    assert (by_name["Cement plant A"]["late"], by_name["Cement plant A"]["accepted"]) == ("2", "1")
    assert '\'=HYPERLINK("http://x","y")' in by_name  # neutralised
    assert table[-1]["facility"] == "TOTAL" and table[-1]["expected"] == "48"  # 4 facilities x 12
    xlsx = regulator.get(URL, {"year": 2024, "group_by": "province", "format": "xlsx"})
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert workbook.sheetnames == ["Deposits", "Query"]
    rows = list(workbook["Deposits"].iter_rows(values_only=True))
    assert rows[0] == (
        "province",
        "province_name",
        "expected",
        "on_time",
        "late",
        "missing",
        "accepted",
        "returned",
    )
    assert rows[1] == ("CN-JS", "Jiangsu", 12, 0, 2, 10, 1, 1)
    assert rows[-1][0] == "TOTAL" and rows[-1][2] == 48


def test_only_regulators_and_a_year_is_required(world: World) -> None:
    for name in ("operator_a", "verifier_a"):
        assert world.client(name).get(URL, {"year": 2024}).status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get(URL, {"year": 2024}).status_code == 401
    regulator = world.client("regulator")
    refused = regulator.get(URL)
    assert refused.status_code == 400 and refused.json()["errors"][0]["pointer"] == "/query/year"
    wrong = regulator.get(URL, {"year": 2024, "group_by": "gas"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["pointer"] == "/query/group_by"
    assert date.fromisoformat(regulator.get(URL, {"year": 2024}).json()["as_of"]) == deposits.today()


def test_an_export_without_groups_has_one_row_the_total(world: World) -> None:
    # no group_by: one row for everything; facilities A and B, 12 months each past due by 2026 = 24
    for format in ("csv", "xlsx"):
        response = world.client("regulator").get(URL, {"year": 2024, "format": format})
        assert response.status_code == 200, response.content
        if format == "csv":
            table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
            assert [row["expected"] for row in table] == ["24"]
        else:
            sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Deposits"]
            assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [24]
