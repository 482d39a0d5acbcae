"""Allocation and compliance (SPEC §11): plans, pre-allocation and final allocation per production unit,
surrenders with the offset limit, compliance status, immutability, scoping and exports.

Every expected figure is computed by hand in the comments. Lines use measured factors so that the
arithmetic is plain: clinker_default ``clinker × 0.5 tCO2/t``; fuel given as energy ``GJ × 0.1 tCO2/GJ``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from openpyxl import load_workbook

from mrv.models import ActivityLine, Allocation, AllocationPlan, AllocationRun, AuditEvent, Membership, Report
from mrv.services import allocation as services
from mrv.services.audit import audit_chain_verify
from mrv.services.facilities import facility_create
from mrv.services.reports import report_create, report_submit
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue
from tests.mrv.factories import World
from tests.mrv.verification_helpers import q

PAST_DUE = date(2025, 12, 31)  # the 2024 compliance year's surrender date, long passed


def unit_lines(unit: str | None, *, clinker: str, fuel_gj: str) -> list[dict[str, Any]]:
    """A kiln: process CO2 = clinker × 0.5; combustion CO2 = fuel_gj × 0.1; production = clinker."""
    tag = {"unit": unit} if unit else {}
    suffix = f"-{unit}" if unit else ""
    return [
        {
            "ref": f"clinker{suffix}",
            "source": "clinker_default",
            "clinker": q(clinker, "t"),
            "emission_factor": q("0.5", "tCO2/t"),
            **tag,
        },
        {
            "ref": f"coal{suffix}",
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": q(fuel_gj, "GJ"),
            "emission_factor": q("0.1", "tCO2/GJ"),
            **tag,
        },
        {
            "ref": f"out{suffix}",
            "source": "production",
            "product": "clinker",
            "quantity": q(clinker, "t"),
            **tag,
        },
    ]


def verified_report(facility: Any, year: int, lines: list[dict[str, Any]], *, operator: Any) -> Report:
    """A report of ``year`` submitted, checked and verified (positive opinion) by the facility's body."""
    report = report_create(
        by=operator, facility=facility, year=year, month=None, methodology=None, lines=lines
    ).report
    revision = report_submit(by=operator, report=report)
    job = revision.verification_jobs.get()
    checks_run(job_id=job.pk)
    verifier = Membership.objects.filter(organisation=facility.verification_body).first().user
    job_claim(job=job, by=verifier)
    for finding in job.findings.filter(source="automated", severity="warning"):
        finding_acknowledge(job=job, finding_id=finding.pk, by=verifier, note="checked for the test")
    opinion_issue(job=job, by=verifier, opinion="verified", statement="fairly stated")
    return report


# 2024: kiln-1 clinker 600,000 t → 300,000 + coal 500,000 GJ → 50,000 = 350,000 tCO2e
#       kiln-2 clinker 400,001 t → 200,000.5 + coal 300,000 GJ → 30,000 = 230,000.5 tCO2e
LINES_2024 = [
    *unit_lines("kiln-1", clinker="600000", fuel_gj="500000"),
    *unit_lines("kiln-2", clinker="400001", fuel_gj="300000"),
]
# 2025: kiln-1 clinker 620,000 → 310,000 + 50,000 = 360,000; kiln-2 clinker 380,000 → 190,000 + 25,000 = 215,000
LINES_2025 = [
    *unit_lines("kiln-1", clinker="620000", fuel_gj="500000"),
    *unit_lines("kiln-2", clinker="380000", fuel_gj="250000"),
]
VERIFIED_EMISSIONS = {"clinker": {"method": "verified_emissions"}}
INTENSITY = {
    "clinker": {
        "method": "intensity_benchmark",
        "benchmark": {"value": "0.8", "unit": "tCO2/t"},
        "factors": {"uniformity": "0.95", "load": "1.02"},  # product 0.969
    }
}


def plan_body(
    year: int, rules: dict[str, Any], *, due: date, code: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "code": code or f"test-{year}",
        "year": year,
        "rules": rules,
        "preallocation_share": "0.7",
        "offset_limit_share": "0.05",
        "surrender_due": due.isoformat(),
        **extra,
    }


def published(world: World, body: dict[str, Any]) -> dict[str, Any]:
    client = world.client("regulator")
    created = client.post("/api/v1/allocation-plans/", body, format="json")
    assert created.status_code == 201, created.content
    answer = client.post(f"/api/v1/allocation-plans/{created.json()['id']}/publish/")
    assert answer.status_code == 200, answer.content
    return answer.json()


def run_now(world: World, plan: dict[str, Any], kind: str) -> AllocationRun:
    """POST the run (202), then do its work here: the batches a worker would run (the worker path is
    exercised by the idempotency test)."""
    answer = world.client("regulator").post(f"/api/v1/allocation-plans/{plan['id']}/{kind}/")
    assert answer.status_code == 202, answer.content
    return services.run_inline(run_id=answer.json()["id"])


def figures(facility: Any, year: int) -> dict[str, tuple[Any, Any]]:
    return {
        row.unit: (row.preallocated, row.final)
        for row in Allocation.objects.filter(facility=facility, plan__year=year)
    }


def compliance(world: World, client_name: str, year: int) -> dict[int, dict[str, Any]]:
    answer = world.client(client_name).get(f"/api/v1/compliance/?year={year}")
    assert answer.status_code == 200, answer.content
    return {row["facility"]: row for row in answer.json()["results"]}


@pytest.mark.django_db
def test_verified_emissions_rule_for_2024_allocates_each_units_verified_direct_emissions(
    world: World,
) -> None:
    verified_report(world.facility_a, 2024, LINES_2024, operator=world.operator_a.user)
    plan = published(world, plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE))
    run = run_now(world, plan, "finalise")
    assert run.status == "completed" and run.facilities == 1 and run.changed == 2
    # kiln-1: 350,000 exactly; kiln-2: 230,000.5 → 230,001 (whole allowances, half up)
    assert figures(world.facility_a, 2024) == {
        "kiln-1": (None, Decimal(350000)),
        "kiln-2": (None, Decimal(230001)),
    }
    row = compliance(world, "regulator", 2024)[world.facility_a.pk]
    # allocated 350,000 + 230,001 = 580,001; verified direct 580,000.5 → obligation 580,001
    assert row["allocated"] == "580001"
    assert row["verified_direct"] == "580000.5" and row["obligation"] == "580001"
    # nothing surrendered and the due date has passed: deficit of the whole obligation
    assert row["status"] == "deficit" and row["balance"] == "-580001"


@pytest.mark.django_db
def test_intensity_rule_for_2025_with_two_units_preallocates_from_2024_then_finalises_with_the_adjustment(
    world: World,
) -> None:
    verified_report(world.facility_a, 2024, LINES_2024, operator=world.operator_a.user)
    plan = published(world, plan_body(2025, INTENSITY, due=date.today() + timedelta(days=30)))
    pre = run_now(world, plan, "preallocate")
    assert pre.status == "completed"
    # 0.7 × 0.8 × output × 0.95 × 1.02 = 0.542640 × output
    # kiln-1: 0.54264 × 600,000 = 325,584; kiln-2: 0.54264 × 400,001 = 217,056.54264 → 217,057
    assert figures(world.facility_a, 2025) == {
        "kiln-1": (Decimal(325584), None),
        "kiln-2": (Decimal(217057), None),
    }
    before = compliance(world, "operator_a", 2025)[world.facility_a.pk]
    assert before["allocated"] == "542641"  # 325,584 + 217,057, pre-allocated
    assert before["status"] == "open" and before["verified_direct"] is None

    verified_report(world.facility_a, 2025, LINES_2025, operator=world.operator_a.user)
    final = run_now(world, plan, "finalise")
    assert final.changed == 2
    # final = 0.8 × output × 0.969: kiln-1 0.7752 × 620,000 = 480,624; kiln-2 0.7752 × 380,000 = 294,576
    assert figures(world.facility_a, 2025) == {
        "kiln-1": (Decimal(325584), Decimal(480624)),
        "kiln-2": (Decimal(217057), Decimal(294576)),
    }
    rows = world.client("operator_a").get("/api/v1/allocations/?year=2025").json()["results"]
    # adjustment = final - preallocated: 480,624 - 325,584 = 155,040; 294,576 - 217,057 = 77,519
    assert {row["unit"]: row["adjustment"] for row in rows} == {"kiln-1": "155040", "kiln-2": "77519"}
    assert rows[0]["final_basis"]["output"] == "620000" and rows[0]["final_basis"]["year"] == 2025
    after = compliance(world, "regulator", 2025)[world.facility_a.pk]
    # allocated = the final 480,624 + 294,576 = 775,200; obligation = 360,000 + 215,000 = 575,000
    assert after["allocated"] == "775200" and after["obligation"] == "575000"
    assert after["status"] == "open"  # not surrendered yet, due in 30 days
    # the per-unit figures reach the stored report too
    report = Report.objects.get(facility=world.facility_a, year=2025)
    detail = world.client("operator_a").get(f"/api/v1/reports/{report.pk}/").json()
    assert detail["units"]["kiln-2"]["direct"] == "215000"
    # kiln-1's direct intensity: 360,000 / 620,000 = 0.58064516129032… (12 places, trailing zero dropped)
    assert detail["units"]["kiln-1"]["intensity"]["direct"] == "0.58064516129"
    assert {line.inputs.get("unit") for line in ActivityLine.objects.filter(revision__report=report)} == {
        "kiln-1",
        "kiln-2",
    }


@pytest.mark.django_db
def test_surrenders_make_a_facility_compliant_before_the_due_date(world: World) -> None:
    verified_report(world.facility_a, 2025, LINES_2025, operator=world.operator_a.user)
    plan = published(world, plan_body(2025, INTENSITY, due=date.today() + timedelta(days=30)))
    run_now(world, plan, "finalise")
    client = world.client("operator_a")
    url = f"/api/v1/compliance/{world.facility_a.pk}/2025/surrenders/"
    first = client.post(url, {"allowances": "500000", "offsets": "28750"}, format="json")
    # obligation 575,000; offsets limit 5 % = 28,750 (passes); 528,750 < 575,000: still open
    assert first.status_code == 201, first.content
    assert first.json()["compliance"]["status"] == "open"
    assert first.json()["compliance"]["balance"] == "-46250"  # 528,750 - 575,000

    def surrender_deadline() -> dict[str, Any]:
        rows = client.get(
            f"/api/v1/deadlines/?year=2025&facility={world.facility_a.pk}&kind=surrender"
        ).json()
        [row] = rows["results"]
        return dict(row)

    assert surrender_deadline()["met_at"] is None  # 528,750 of 575,000: the obligation is not covered yet
    second = client.post(url, {"allowances": "46250"}, format="json")
    assert second.json()["compliance"]["status"] == "compliant"
    deadline = surrender_deadline()  # covered now: the surrender deadline is met, by the second surrender
    assert deadline["status"] == "met" and deadline["met_at"] is not None
    assert second.json()["compliance"]["balance"] == "0"
    assert second.json()["surrender"]["late"] is False
    actions = list(
        AuditEvent.objects.filter(facility=world.facility_a, action__startswith="compliance.").values_list(
            "action", "data__to"
        )
    )
    # finalise recorded "open"; the first surrender left it open; the second made it compliant
    assert actions == [
        ("compliance.status", "open"),
        ("compliance.surrender", None),
        ("compliance.surrender", None),
        ("compliance.status", "compliant"),
    ]


@pytest.mark.django_db
def test_offsets_up_to_five_percent_pass_and_five_point_zero_one_percent_is_a_400_at_offsets(
    world: World,
) -> None:
    # 18,000 t clinker × 0.5 = 9,000 + 10,000 GJ × 0.1 = 1,000: obligation 10,000; 5 % = 500 offsets
    verified_report(
        world.facility_a,
        2024,
        unit_lines(None, clinker="18000", fuel_gj="10000"),
        operator=world.operator_a.user,
    )
    published(world, plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE))
    client = world.client("operator_a")
    url = f"/api/v1/compliance/{world.facility_a.pk}/2024/surrenders/"
    refused = client.post(
        url, {"allowances": "9499", "offsets": "501"}, format="json"
    )  # 501 / 10,000 = 5.01 %
    assert refused.status_code == 400, refused.content
    assert [(e["pointer"], e["code"]) for e in refused.json()["errors"]] == [("/offsets", "offset_limit")]
    passed = client.post(url, {"allowances": "9500", "offsets": "500"}, format="json")  # exactly 5 %
    assert passed.status_code == 201, passed.content
    # the limit holds over the year's surrenders together: one more offset is 5.01 % in total
    again = client.post(url, {"offsets": "1"}, format="json")
    assert again.status_code == 400 and again.json()["errors"][0]["pointer"] == "/offsets"


@pytest.mark.django_db
def test_a_surrender_after_the_due_date_is_late_and_the_facility_is_late_not_compliant(world: World) -> None:
    verified_report(
        world.facility_a,
        2024,
        unit_lines(None, clinker="18000", fuel_gj="10000"),
        operator=world.operator_a.user,
    )
    published(world, plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE))
    assert compliance(world, "operator_a", 2024)[world.facility_a.pk]["status"] == "deficit"
    answer = world.client("operator_a").post(
        f"/api/v1/compliance/{world.facility_a.pk}/2024/surrenders/", {"allowances": "10000"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["surrender"]["late"] is True
    assert answer.json()["compliance"]["status"] == "late" and answer.json()["compliance"]["balance"] == "0"
    change = AuditEvent.objects.filter(action="compliance.status", facility=world.facility_a).last()
    assert change.data["from"] is None and change.data["to"] == "late"


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_published_plan_is_immutable_through_the_api_and_in_the_database(world: World) -> None:
    plan = published(world, plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE))
    client = world.client("regulator")
    patched = client.patch(
        f"/api/v1/allocation-plans/{plan['id']}/", {"preallocation_share": "0.9"}, format="json"
    )
    assert patched.status_code == 409 and patched.json()["code"] == "conflict"
    assert client.delete(f"/api/v1/allocation-plans/{plan['id']}/").status_code == 409
    assert client.post(f"/api/v1/allocation-plans/{plan['id']}/publish/").status_code == 409
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE mrv_allocationplan SET rules = '{}' WHERE id = %s", [plan["id"]])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM mrv_allocationplan WHERE id = %s", [plan["id"]])
    assert AllocationPlan.objects.get(pk=plan["id"]).rules == VERIFIED_EMISSIONS


@pytest.mark.django_db
def test_a_draft_plan_is_edited_and_runs_need_a_published_plan(world: World) -> None:
    client = world.client("regulator")
    created = client.post(
        "/api/v1/allocation-plans/", plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE), format="json"
    )
    pk = created.json()["id"]
    assert client.post(f"/api/v1/allocation-plans/{pk}/finalise/").status_code == 409
    patched = client.patch(f"/api/v1/allocation-plans/{pk}/", {"rules": INTENSITY}, format="json")
    assert patched.status_code == 200 and patched.json()["rules"] == INTENSITY
    assert {e.action for e in AuditEvent.objects.filter(object_type="allocation_plan")} == {
        "allocation_plan.create",
        "allocation_plan.update",
    }


@pytest.mark.django_db
def test_invalid_plans_are_refused_with_every_error_pointed(world: World) -> None:
    body = plan_body(
        2025,
        {
            "clinker": {"method": "intensity_benchmark", "benchmark": {"value": "-1", "unit": "tCO2/t"}},
            "crude_steel": {"method": "verified_emissions", "factors": {"x": "1"}},
            "cement": {"method": "verified_emissions"},
            "aluminium_liquid": {"method": "grandfathering"},
        },
        due=date(2025, 1, 1),
    )
    answer = world.client("regulator").post("/api/v1/allocation-plans/", body, format="json")
    assert answer.status_code == 400
    assert sorted((e["pointer"], e["code"]) for e in answer.json()["errors"]) == [
        ("/rules/aluminium_liquid/method", "invalid_choice"),
        ("/rules/cement", "invalid_choice"),
        ("/rules/clinker/benchmark/value", "out_of_range"),
        ("/rules/crude_steel/factors", "not_allowed"),
    ]
    body["rules"] = VERIFIED_EMISSIONS  # the rules fixed, the due date is still inside the year
    answer = world.client("regulator").post("/api/v1/allocation-plans/", body, format="json")
    assert [(e["pointer"], e["code"]) for e in answer.json()["errors"]] == [
        ("/surrender_due", "out_of_range")
    ]


@pytest.mark.django_db
def test_outsiders_get_404_and_see_no_one_elses_compliance(world: World) -> None:
    verified_report(
        world.facility_a,
        2024,
        unit_lines(None, clinker="18000", fuel_gj="10000"),
        operator=world.operator_a.user,
    )
    plan = published(world, plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE))
    run_now(world, plan, "finalise")
    for name in ("operator_a", "operator_b", "verifier_a"):
        client = world.client(name)
        assert client.get(f"/api/v1/allocation-plans/{plan['id']}/").status_code == 404, name
        assert client.post(f"/api/v1/allocation-plans/{plan['id']}/finalise/").status_code == 404, name
    run = AllocationRun.objects.get()
    assert world.client("operator_a").get(f"/api/v1/allocation-runs/{run.pk}/").status_code == 404
    assert world.client("regulator").get(f"/api/v1/allocation-runs/{run.pk}/").json()["status"] == "completed"
    url = f"/api/v1/compliance/{world.facility_a.pk}/2024/surrenders/"
    assert world.client("operator_b").post(url, {"allowances": "1"}, format="json").status_code == 404
    assert world.client("verifier_a").post(url, {"allowances": "1"}, format="json").status_code == 404
    assert world.client("regulator").post(url, {"allowances": "1"}, format="json").status_code == 403
    assert set(compliance(world, "operator_b", 2024)) == {world.facility_b.pk}
    assert compliance(world, "verifier_a", 2024) == {}
    assert world.client("operator_b").get("/api/v1/allocations/").json()["count"] == 0
    assert world.client("operator_a").get("/api/v1/allocations/").json()["count"] == 1
    assert world.client("operator_a").get("/api/v1/aggregates/allocation/?year=2024").status_code == 403


@pytest.mark.django_db
def test_aggregates_by_sector_and_province_with_exports_that_keep_formulas_inert(world: World) -> None:
    operator = Membership.objects.get(user=world.operator_a.user).organisation
    hostile = facility_create(
        by=world.regulator.user,
        name='=HYPERLINK("http://x","y")',
        operator=operator,
        sector="cement",
        province="CN-JS",
        verification_body=world.facility_a.verification_body,
    )
    verified_report(
        world.facility_a,
        2024,
        unit_lines(None, clinker="18000", fuel_gj="10000"),
        operator=world.operator_a.user,
    )
    verified_report(
        hostile, 2024, unit_lines(None, clinker="20000", fuel_gj="0"), operator=world.operator_a.user
    )
    plan = published(world, plan_body(2024, INTENSITY, due=PAST_DUE))
    run_now(world, plan, "finalise")
    # two facilities in one batch: their events appended together (audit_record_many), chained as one by one
    assert AuditEvent.objects.filter(action="allocation.finalise").count() == 2
    assert list(audit_chain_verify()) == []
    client = world.client("regulator")
    answer = client.get("/api/v1/aggregates/allocation/?year=2024").json()
    cement = next(row for row in answer["results"] if row["sector"] == "cement")
    # allocated: 0.7752 × 18,000 = 13,953.6 → 13,954; 0.7752 × 20,000 = 15,504 → 29,458 in all
    # verified direct: 10,000 + 10,000 (20,000 t × 0.5; no fuel) = 20,000
    assert cement["province"] == "CN-JS" and cement["facilities"] == 2
    assert cement["allocated"] == "29458" and cement["verified_direct"] == "20000"
    assert cement["difference"] == "9458" and cement["deficit"] == 2
    assert {row["facility"] for row in answer["deficit"]} == {world.facility_a.pk, hostile.pk}
    text = client.get("/api/v1/aggregates/allocation/?year=2024&format=csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["sector"], row["allocated"]) for row in rows[:2]] == [
        ("aluminium", "0"),
        ("cement", "29458"),
    ]
    assert "'=HYPERLINK" in text and ',"=HYPERLINK' not in text
    workbook = load_workbook(
        io.BytesIO(client.get("/api/v1/aggregates/allocation/?year=2024&format=xlsx").content)
    )
    cells = [
        cell
        for row in workbook.active.iter_rows()
        for cell in row
        if cell.value == '=HYPERLINK("http://x","y")'
    ]
    assert cells and all(cell.data_type == "s" for cell in cells)


@pytest.mark.postgres
def test_finalisation_through_real_workers_is_idempotent(tx_world: World, workers: Any) -> None:
    world = tx_world
    verified_report(world.facility_a, 2025, LINES_2025, operator=world.operator_a.user)
    plan = published(world, plan_body(2025, INTENSITY, due=date.today() + timedelta(days=30)))
    workers.start()
    workers.start()  # two workers share the batches
    client = world.client("regulator")

    def finalise() -> dict[str, Any]:
        answer = client.post(f"/api/v1/allocation-plans/{plan['id']}/finalise/")
        assert answer.status_code == 202, answer.content
        url = f"/api/v1/allocation-runs/{answer.json()['id']}/"
        workers.wait_until(lambda: client.get(url).json()["status"] == "completed", "the run to complete")
        return client.get(url).json()

    first = finalise()
    assert first["changed"] == 2 and first["batches_done"] == first["batches"] == 1
    rows = {row.unit: (row.final, row.final_basis, row.updated_at) for row in Allocation.objects.all()}
    assert {unit: final for unit, (final, _b, _u) in rows.items()} == {
        "kiln-1": Decimal(480624),
        "kiln-2": Decimal(294576),
    }
    events = AuditEvent.objects.filter(action__in=["allocation.finalise", "compliance.status"]).count()
    second = finalise()
    assert second["changed"] == 0
    assert {
        row.unit: (row.final, row.final_basis, row.updated_at) for row in Allocation.objects.all()
    } == rows
    assert (
        AuditEvent.objects.filter(action__in=["allocation.finalise", "compliance.status"]).count() == events
    )


@pytest.mark.django_db
def test_the_dashboard_panel_shows_allocated_against_verified_and_the_deficit_in_english_and_chinese(
    world: World, client: Any
) -> None:
    verified_report(
        world.facility_a,
        2024,
        unit_lines(None, clinker="18000", fuel_gj="10000"),
        operator=world.operator_a.user,
    )
    plan = published(world, plan_body(2024, VERIFIED_EMISSIONS, due=PAST_DUE, illustrative=True))
    run_now(world, plan, "finalise")
    client.force_login(world.regulator.user)
    page = client.get("/dashboard/?year=2024", HTTP_HOST="localhost").content.decode()
    assert 'id="allocation"' in page and "Allocation plan test-2024" in page
    assert 'id="illustrative"' in page
    # cement in Jiangsu: allocated 10,000 = verified 10,000 (verified-emissions rule); nothing surrendered: deficit
    assert 'data-exact="10000">10,000</td>' in page
    assert f'<tr data-facility="{world.facility_a.pk}"><td>Cement plant A</td>' in page
    assert 'data-exact="-10000">-10,000</td>' in page
    chinese = client.get("/dashboard/?year=2024", HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    text = chinese.content.decode()
    assert "2024 年配额分配与履约" in text and "示例方案" in text and "存在清缴缺口的设施" in text
