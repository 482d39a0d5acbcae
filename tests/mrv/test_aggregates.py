"""Aggregates equal the sum over the verified reports' stored results, for every group_by combination."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import accounting
from mrv.domain.provinces import PROVINCES
from mrv.models import ActivityLine, Membership, Report, ReportRevision
from mrv.selectors.aggregates import GROUPS, aggregate_totals
from mrv.services.demo import demo_seed
from mrv.services.facilities import facility_create
from mrv.services.reports import report_create, report_revise, report_submit
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_aluminium, plausible_cement, q

pytestmark = pytest.mark.django_db
DIRECT = {"combustion", "process"}
COMBINATIONS = [list(c) for n in range(len(GROUPS) + 1) for c in itertools.combinations(GROUPS, n)]


def expected(
    group_by: list[str], filters: dict[str, Any] | None = None
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The same aggregate computed independently from the activity lines of latest verified revisions."""
    filters = filters or {}
    latest: dict[int, ReportRevision] = {}
    for revision in ReportRevision.objects.filter(status="verified").select_related("report__facility"):
        if revision.report_id not in latest or revision.number > latest[revision.report_id].number:
            latest[revision.report_id] = revision
    groups: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {
            "facilities": set(),
            "reports": set(),
            "direct": Decimal(0),
            "indirect": Decimal(0),
            "CO2": Decimal(0),
            "CF4": Decimal(0),
            "C2F6": Decimal(0),
        }
    )
    for revision in latest.values():
        report, facility = revision.report, revision.report.facility
        if report.month is not None:  # monthly reports are aggregated on their own (period=monthly)
            continue
        if any(
            value and getattr(report, name) not in value  # year, and the sector and province filed under
            for name, value in filters.items()
        ):
            continue
        gwp = accounting.get(revision.methodology).gwp
        for line in ActivityLine.objects.filter(revision=revision).exclude(category=""):
            base = {
                "sector": report.sector,
                "province": report.province,
                "year": report.year,
                "month": line.month if line.month is not None else report.month,
                "facility": facility.pk,
                "category": line.category,
            }
            per_gas = {
                "CO2": (line.co2, line.co2),
                "CF4": (line.cf4 * gwp["CF4"], line.cf4),
                "C2F6": (line.c2f6 * gwp["C2F6"], line.c2f6),
            }
            for gas, (co2e, tonnes) in per_gas.items():
                key = tuple({**base, "gas": gas}[g] for g in GROUPS if g in group_by)
                group = groups[key]
                group["facilities"].add(facility.pk)
                group["reports"].add(report.pk)
                group["direct" if line.category in DIRECT else "indirect"] += co2e
                group[gas] += tonnes
    return groups


def assert_matches(group_by: list[str], filters: dict[str, Any] | None = None) -> None:
    answer = aggregate_totals(group_by=group_by, filters=filters or {})
    want = expected(group_by, filters)
    got = {tuple(row[g] for g in GROUPS if g in group_by): row for row in answer["results"]}
    # rows whose figures are all zero may exist on one side only (a gas a sector never emits)
    for key in set(want) | set(got):
        w, g = want.get(key), got.get(key)
        if w is None:
            assert g["total"] == 0 and all(v == 0 for v in g["gases"].values()), (group_by, key, g)
            continue
        assert g is not None, (group_by, key, "missing")
        assert abs(g["direct"] - w["direct"]) <= Decimal("1e-6"), (group_by, key, g["direct"], w["direct"])
        assert abs(g["indirect"] - w["indirect"]) <= Decimal("1e-6"), (group_by, key)
        for gas in ("CO2", "CF4", "C2F6"):
            assert abs(g["gases"][gas] - w[gas]) <= Decimal("1e-6"), (group_by, key, gas)
        if "gas" not in group_by and "category" not in group_by:
            assert g["facilities"] == len(w["facilities"]) and g["reports"] == len(w["reports"]), (
                group_by,
                key,
            )
    totals = answer["totals"]
    all_groups = expected([], filters).get((), {"direct": Decimal(0), "indirect": Decimal(0)})
    assert abs(totals["direct"] - all_groups["direct"]) <= Decimal("1e-6")
    assert abs(totals["indirect"] - all_groups["indirect"]) <= Decimal("1e-6")


def verify(report: Report, *, opinion: str = "verified") -> None:
    operator = report.created_by
    revision = report_submit(by=operator, report=report)
    job = revision.verification_jobs.get()
    checks_run(job_id=job.pk)
    verifier = Membership.objects.filter(organisation=report.facility.verification_body).first().user
    job_claim(job=job, by=verifier)
    for finding in job.findings.filter(source="automated", severity="warning"):
        finding_acknowledge(
            job=job, finding_id=finding.pk, by=verifier, note="accepted for the test data set"
        )
    opinion_issue(job=job, by=verifier, opinion=opinion, statement="test")


def test_demo_data_aggregates_match_for_every_group_by_combination() -> None:
    demo_seed()
    for group_by in COMBINATIONS:
        assert_matches(group_by)
    assert_matches(["sector"], {"year": [2024], "province": ["CN-NM"]})
    call_command("rebuild_rollup", "--check")


monthly_gas = st.lists(st.integers(min_value=1, max_value=12), min_size=0, max_size=4, unique=True)
quantity = st.decimals(min_value=Decimal("1"), max_value=Decimal("900000"), places=3)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=st.lists(
        st.tuples(
            st.sampled_from(["cement", "aluminium"]),
            st.sampled_from(["CN-JS", "CN-NM", "CN-HE"]),
            st.sampled_from([2023, 2024]),
            quantity,
            monthly_gas,
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_generated_data_aggregates_match(world: World, plan: list[Any]) -> None:
    operator = Membership.objects.get(user=world.operator_a.user).organisation
    for number, (sector, province, year, amount, months, revise) in enumerate(plan):
        facility = facility_create(
            by=world.regulator.user,
            name=f"gen {number} {sector} {Report.objects.count()}",
            operator=operator,
            sector=sector,
            province=province,
            verification_body=world.facility_a.verification_body,
        )
        lines = plausible_cement() if sector == "cement" else plausible_aluminium()
        lines[0 if sector == "cement" else 2]["quantity" if sector == "aluminium" else "clinker"] = q(
            str(amount), "t" if sector == "cement" else "MWh"
        )
        lines += [
            {
                "ref": f"gas-{m}",
                "source": "fuel_combustion",
                "fuel": "natural_gas",
                "month": m,
                "quantity": q(str(amount / 1000), "10^4 Nm3"),
                "emission_factor": q("56.1", "tCO2/TJ"),
                "ncv": q("389.31", "GJ/10^4 Nm3"),
            }
            for m in months
        ]
        report = report_create(
            by=world.operator_a.user, facility=facility, year=year, month=None, methodology=None, lines=lines
        ).report
        verify(report, opinion="not_verified" if revise else "verified")
        if revise:  # returned: never counts; then corrected and verified
            report_revise(by=world.operator_a.user, report=report)
            verify(report)
    for group_by in COMBINATIONS:
        assert_matches(group_by)
    call_command("rebuild_rollup", "--check")


def test_a_revised_and_reverified_report_replaces_its_figures_and_returned_never_counts(world: World) -> None:
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    verify(report)
    before = aggregate_totals(group_by=[], filters={})["totals"]["total"]
    report_revise(by=world.operator_a.user, report=report)
    doubled = plausible_cement()
    doubled[1]["quantity"] = q("240000", "t")
    from mrv.services.reports import report_update

    report_update(by=world.operator_a.user, report=report, lines=doubled)
    revision = report_submit(by=world.operator_a.user, report=report)
    # submitted, not yet verified: the first verified revision still counts
    assert aggregate_totals(group_by=[], filters={})["totals"]["total"] == before
    job = revision.verification_jobs.get()
    checks_run(job_id=job.pk)
    verifier = Membership.objects.filter(organisation=world.facility_a.verification_body).first().user
    job_claim(job=job, by=verifier)
    opinion_issue(job=job, by=verifier, opinion="not_verified", statement="coal double counted")
    assert aggregate_totals(group_by=[], filters={})["totals"]["total"] == before  # returned never counts
    report_revise(by=world.operator_a.user, report=report)
    report_update(by=world.operator_a.user, report=report, lines=doubled)
    verify(report)
    after = aggregate_totals(group_by=[], filters={})
    assert after["totals"]["total"] > before and after["totals"]["reports"] == 1
    assert_matches(["facility"])
    call_command("rebuild_rollup", "--check")


def test_api_json_csv_and_xlsx_carry_the_same_figures(world: World) -> None:
    demo_seed()
    client = world.client("regulator")
    body = client.get("/api/v1/aggregates/?group_by=sector,year").json()
    assert body["results"] and all(
        isinstance(r["total"], str) and "E" not in r["total"] for r in body["results"]
    )
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/api/v1/aggregates/?group_by=sector,year&format=csv").content.decode())
        )
    )
    assert [(r["sector"], r["year"], r["total"], r["CO2"]) for r in rows[:-1]] == [
        (r["sector"], str(r["year"]), r["total"], r["gases"]["CO2"]) for r in body["results"]
    ]
    assert rows[-1]["sector"] == "TOTAL" and rows[-1]["total"] == body["totals"]["total"]
    workbook = load_workbook(
        io.BytesIO(client.get("/api/v1/aggregates/?group_by=sector,year&format=xlsx").content)
    )
    sheet = list(workbook.active.iter_rows(values_only=True))
    header = list(sheet[0])
    assert [Decimal(repr(row[header.index("total (tCO2e)")])) for row in sheet[1:-1]] == [
        Decimal(r["total"]) for r in body["results"]
    ]


def test_the_xlsx_aggregates_are_numbers_that_sum_to_the_api_total(world: World) -> None:
    demo_seed()
    client = world.client("regulator")
    query = "/api/v1/aggregates/?group_by=sector,province,year"
    body = client.get(query).json()
    workbook = load_workbook(io.BytesIO(client.get(f"{query}&format=xlsx").content))
    assert workbook.sheetnames == ["Emissions (tCO2e)", "Gases (t of gas)", "Query"]

    keys = ["sector", "province", "province_name", "year"]
    for title, columns, figures, totals, number_format in (
        (
            "Emissions (tCO2e)",
            ["direct (tCO2e)", "indirect (tCO2e)", "total (tCO2e)"],
            lambda row: [row["direct"], row["indirect"], row["total"]],
            [body["totals"]["direct"], body["totals"]["indirect"], body["totals"]["total"]],
            "#,##0",  # displayed in whole tonnes, the cn-mee-2024 reporting precision
        ),
        (
            "Gases (t of gas)",
            ["CO2 (t)", "CF4 (t)", "C2F6 (t)"],
            lambda row: [row["gases"][gas] for gas in ("CO2", "CF4", "C2F6")],
            [body["totals"]["gases"][gas] for gas in ("CO2", "CF4", "C2F6")],
            "#,##0.000",
        ),
    ):
        rows = list(workbook[title].iter_rows())
        header = [cell.value for cell in rows[0]]
        assert header[: len(keys)] == keys and header[-3:] == columns
        data, total_row = rows[1:-1], rows[-1]
        assert [[cell.value for cell in row[:4]] for row in data] == [
            [r["sector"], r["province"], PROVINCES[r["province"]], r["year"]] for r in body["results"]
        ]
        assert total_row[0].value == "TOTAL"
        for index, column in enumerate(columns):
            cells = [row[header.index(column)] for row in data]
            assert all(c.data_type == "n" and isinstance(c.value, (int, float)) for c in cells)
            assert all(c.number_format == number_format for c in cells)
            # Each cell is the API's figure; summed, the cells give the API's total.
            assert [Decimal(repr(c.value)) for c in cells] == [
                Decimal(figures(r)[index]) for r in body["results"]
            ]
            assert sum(Decimal(repr(c.value)) for c in cells) == Decimal(totals[index])
            assert round(Decimal(repr(math.fsum(c.value for c in cells))), 6) == Decimal(totals[index])
            assert Decimal(repr(total_row[header.index(column)].value)) == Decimal(totals[index])

    described = dict(workbook["Query"].iter_rows(min_row=2, values_only=True))
    assert described["group_by"] == "sector, province, year"
    assert described["year"] == "all" and described["period"] == "annual reports"
    assert "tonnes of CO2 equivalent" in described["units: tCO2e"]
    methodologies = [
        v for k, v in workbook["Query"].iter_rows(min_row=2, values_only=True) if k == "methodology"
    ]
    versions = ReportRevision.objects.filter(status="verified").values_list(
        "methodology", "methodology_version"
    )
    assert sorted(m.split(":")[0] for m in methodologies) == sorted({f"{c}@{v}" for c, v in versions})
    assert sum(int(m.split(": ")[1].split(" ")[0]) for m in methodologies) == body["totals"]["reports"]


def test_the_xlsx_query_sheet_names_the_filters(world: World) -> None:
    demo_seed()
    client = world.client("regulator")
    response = client.get("/api/v1/aggregates/?group_by=facility&year=2023&province=CN-JS,CN-NM&format=xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    described = dict(workbook["Query"].iter_rows(min_row=2, values_only=True))
    assert described["year"] == "2023"
    assert described["province"] == "Jiangsu (CN-JS), Nei Mongol (CN-NM)"
    assert described["sector"] == "all"
    header = [cell.value for cell in workbook["Emissions (tCO2e)"][1]]
    assert header == [
        "facility",
        "facility_name",
        "facilities",
        "reports",
        "direct (tCO2e)",
        "indirect (tCO2e)",
        "total (tCO2e)",
    ]


@pytest.mark.parametrize("role", ["operator_a", "verifier_a"])
def test_aggregates_are_for_regulators(world: World, role: str) -> None:
    assert world.client(role).get("/api/v1/aggregates/").status_code == 403


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("group_by=colour", "/query/group_by"),
        ("group_by=sector,sector", "/query/group_by"),
        ("year=twenty", "/query/year"),
        ("sector=glass", "/query/sector"),
        ("province=CN-32", "/query/province"),
        ("status=draft", "/query/status"),
        ("period=weekly", "/query/period"),
    ],
)
def test_bad_aggregate_queries_are_400(world: World, query: str, pointer: str) -> None:
    response = world.client("regulator").get(f"/api/v1/aggregates/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == pointer


def test_peer_band_and_percentiles_from_verified_intensities() -> None:
    from mrv.selectors.comparison import percentile, percentile_rank

    values = [Decimal(v) for v in ("0.80", "0.82", "0.84", "0.86", "0.88")]
    assert percentile(values, Decimal(50)) == Decimal("0.84")
    assert percentile(values, Decimal(0)) == Decimal("0.80") and percentile(values, Decimal(100)) == Decimal(
        "0.88"
    )
    assert percentile_rank(values, Decimal("0.84")) == 60
