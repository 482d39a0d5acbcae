"""The annual report's check against the sum of the facility's ACCEPTED monthly deposits (issue 11,
SPEC §8): per line ``(ref, source)``, the annual activity against the monthly sum after unit conversion,
compared to 6 decimal places (``monthly_sum_mismatch``); ``monthly_sum_incomplete`` until all 12 months
are accepted."""

from __future__ import annotations

from typing import Any

import pytest

from mrv.models import Finding, Report, VerificationJob
from mrv.services.deposits import deposit_review
from mrv.services.reports import report_create, report_revise, report_submit
from mrv.services.verification import checks_run, job_claim, opinion_issue
from tests.mrv.factories import World
from tests.mrv.verification_helpers import q

pytestmark = pytest.mark.django_db


def cement(*, coal: dict[str, str], clinker: str, electricity: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "ref": "clinker",
            "source": "clinker_carbonate",
            "clinker": q(clinker, "t"),
            "cao_fraction": q("65", "%"),
            "mgo_fraction": q("2.0", "%"),
        },
        {
            "ref": "coal",
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": coal,
            "ncv": q("23", "GJ/t"),
            "carbon_content": q("0.02618", "tC/GJ"),
            "oxidation_factor": "0.93",
        },
        {
            "ref": "grid",
            "source": "electricity",
            "quantity": electricity,
            "emission_factor": q("0.5366", "tCO2/MWh"),
        },
        {"ref": "out", "source": "production", "product": "clinker", "quantity": q(clinker, "t")},
    ]


def month_lines(month: int) -> list[dict[str, Any]]:
    """10,000 t of coal a month but 10,500 t in June; 80,000 t of clinker; 8,000 MWh of electricity,
    given in kWh in March; December also burns 12.5 t of diesel (a line the annual report lacks)."""
    coal = q("10.5", "kt") if month == 6 else q("10000", "t")
    electricity = q("8000000", "kWh") if month == 3 else q("8000", "MWh")
    lines = cement(coal=coal, clinker="80000", electricity=electricity)
    if month == 12:
        lines.append(
            {
                "ref": "diesel",
                "source": "fuel_combustion",
                "fuel": "diesel",
                "quantity": q("12500", "kg"),
            }
        )
    return lines


def checked(world: World, report: Report) -> VerificationJob:
    revision = report_submit(by=world.operator_a.user, report=report)
    job = revision.verification_jobs.get(kind="verification")
    checks_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def monthly(world: World, month: int, *, accept: bool = True) -> Report:
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=month,
        methodology=None,
        lines=month_lines(month),
    ).report
    job = checked(world, report)
    assert not job.findings.filter(severity="error").exists(), list(job.findings.values("code", "detail"))
    deposit_review(by=world.regulator.user, report=report, accept=accept, comment="" if accept else "recheck")
    return report


def findings(job: VerificationJob, prefix: str = "monthly_sum") -> list[tuple[str, str, str, str, str]]:
    rows = job.findings.filter(code__startswith=prefix, source=Finding.Source.AUTOMATED).order_by("pointer")
    return [(f.code, f.severity, f.pointer, f.value, f.expected) for f in rows]


def test_the_annual_lines_are_compared_with_the_sum_of_the_accepted_months(world: World) -> None:
    for month in range(1, 12):
        monthly(world, month)
    december = monthly(world, 12, accept=False)  # returned: not counted
    # the annual report: 120,000 t of coal, 960,000 t of clinker and of output, 96 GWh of electricity
    annual_lines = cement(coal=q("120000", "t"), clinker="960000", electricity=q("96", "GWh"))
    annual = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=annual_lines,
    ).report
    job = checked(world, annual)
    # 11 months accepted, December returned: no comparison yet, an info finding saying which are
    assert findings(job) == [
        (
            "monthly_sum_incomplete",
            "info",
            "/lines",
            "accepted months 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",
            "12 accepted monthly reports",
        )
    ]
    # December is corrected and accepted; the annual report is returned and submitted again
    report_revise(by=world.operator_a.user, report=december)
    checked(world, december)
    deposit_review(by=world.regulator.user, report=december, accept=True)
    job = job_claim(job=job, by=world.verifier_a.user)
    opinion_issue(job=job, by=world.verifier_a.user, opinion="not_verified", statement="await December")
    report_revise(by=world.operator_a.user, report=annual)
    job = checked(world, annual)
    # coal: 11 x 10,000 t + 10.5 kt (= 10,500 t) = 120,500 t against the annual 120,000 t: a mismatch
    # clinker and output: 12 x 80,000 t = 960,000 t, as in the annual report: no finding
    # electricity: 11 x 8,000 MWh + 8,000,000 kWh (= 8,000 MWh) = 96,000 MWh = 96 GWh: no finding
    # diesel: only December's 12,500 kg = 12.5 t, the annual report has no such line
    assert findings(job) == [
        ("monthly_sum_mismatch", "warning", "/lines/1/quantity", "120000 t", "120500 t (the sum of the 12 "
         "accepted monthly reports)"),
        ("monthly_sum_mismatch", "warning", "/monthly/diesel", "no line", "12.5 t (the sum of the 12 accepted "
         "monthly reports)"),
    ]  # fmt: skip
    coal = job.findings.get(code="monthly_sum_mismatch", pointer="/lines/1/quantity")
    assert coal.line_ref == "coal"
    assert (
        coal.detail
        == "quantity of coal: the annual line differs from the sum of the 12 accepted monthly reports"
    )


def test_a_monthly_report_has_no_monthly_sum_check(world: World) -> None:
    report = monthly(world, 1)
    job = report.revisions.get().verification_jobs.get(kind="verification")
    assert findings(job) == []


def test_the_findings_read_in_chinese(world: World) -> None:
    for month in range(1, 3):
        monthly(world, month)
    annual = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=cement(coal=q("120000", "t"), clinker="960000", electricity=q("96", "GWh")),
    ).report
    job = checked(world, annual)
    answer = world.client("regulator").get(
        f"/api/v1/verification-jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    [finding] = [f for f in answer.json()["findings"] if f["code"] == "monthly_sum_incomplete"]
    assert finding["detail"] == "12 份月度报告中已接受 2 份：全部 12 份接受后，才将年度各行与其合计比较"
    assert (finding["value"], finding["expected"]) == ("已接受的月份 1, 2", "12 份已接受的月度报告")
