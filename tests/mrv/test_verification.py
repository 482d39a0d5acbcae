"""Verification jobs: automated checks, the verifier's claim, findings, materiality and opinion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from mrv.models import (
    ActivityLine,
    AuditEvent,
    EmissionRollup,
    Finding,
    Membership,
    ReportRevision,
    VerificationJob,
)
from mrv.services.facilities import facility_create
from mrv.services.verification import checks_run, jobs_requeue_stuck
from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.queues import own_queue, taken
from tests.mrv.verification_helpers import FAULTS, example_request, plausible_cement, q, with_change

pytestmark = pytest.mark.django_db


def submit(
    world: World, lines: list[dict[str, Any]], *, facility: Any = None, year: int = 2024
) -> VerificationJob:
    client = world.client("operator_a")
    facility = facility or world.facility_a
    body = {"facility": facility.pk, "year": year, "lines": lines}
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    assert (
        client.post(
            f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
        ).status_code
        == 202
    )
    return VerificationJob.objects.get(revision__report_id=report.json()["id"], kind="verification")


def automated(job: VerificationJob) -> set[tuple[str, str, str]]:
    return set(job.findings.filter(source="automated").values_list("code", "severity", "pointer"))


def facility_for(world: World, sector: str) -> Any:
    """Operator A's facility of ``sector``, verified by verifier A's body."""
    if sector == world.facility_a.sector:
        return world.facility_a
    return facility_create(
        by=world.regulator.user,
        name=f"{sector} plant",
        operator=Membership.objects.get(user=world.operator_a.user).organisation,
        sector=sector,
        province="CN-NM",
        verification_body=world.facility_a.verification_body,
    )


def test_submit_creates_a_queued_job_and_the_checks_bring_it_to_review(world: World) -> None:
    job = submit(world, plausible_cement())
    assert job.status == "queued" and job.check_version
    assert checks_run(job_id=job.pk).startswith("done")
    job.refresh_from_db()
    assert job.status == "awaiting_review" and job.progress == 100 and job.attempts == 1
    assert job.revision.status == "in_verification"
    assert not [f for f in automated(job) if f[1] in ("error", "warning")], automated(job)
    assert job.recalculation["difference"] == "0"
    report = world.client("operator_a").get(f"/api/v1/reports/{job.revision.report_id}/").json()
    assert report["verification_job"] == job.pk and report["status"] == "in_verification"


@pytest.mark.parametrize(
    ("lines", "sector", "code", "pointer"), [f[2:0:-1] + f[3:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_each_planted_fault_is_found(world: World, lines: Any, sector: str, code: str, pointer: str) -> None:
    job = submit(world, lines, facility=facility_for(world, sector))
    checks_run(job_id=job.pk)
    assert code in {c for c, _, p in automated(job) if p == pointer}, automated(job)


def test_a_stored_figure_that_does_not_recalculate_is_an_error(world: World) -> None:
    job = submit(world, plausible_cement())
    with connection.cursor() as cursor:  # tamper below the application, guards off
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE mrv_activityline SET co2e = co2e + 1 WHERE index = 1 AND revision_id = %s",
            [job.revision_id],
        )
        cursor.execute("SET session_replication_role = origin")
    checks_run(job_id=job.pk)
    assert ("recalculation_mismatch", "error", "/lines/1") in automated(job)


def test_year_on_year_change_against_the_last_verified_report(world: World) -> None:
    previous = submit(world, plausible_cement(), year=2023)
    checks_run(job_id=previous.pk)
    verifier = world.client("verifier_a")
    verifier.post(f"/api/v1/verification-jobs/{previous.pk}/claim/")
    assert (
        verifier.post(
            f"/api/v1/verification-jobs/{previous.pk}/opinion/",
            {"opinion": "verified", "statement": "ok"},
            format="json",
        ).status_code
        == 200
    )
    grown = plausible_cement()
    grown[1]["quantity"] = {"value": "180000", "unit": "t"}  # 50 % more coal for the same clinker
    job = submit(world, grown, year=2024)
    checks_run(job_id=job.pk)
    assert ("year_on_year_change", "warning", "/totals/direct") in automated(job)


def test_running_the_checks_twice_leaves_one_set_of_findings(world: World) -> None:
    job = submit(world, FAULTS[0][2])
    checks_run(job_id=job.pk)
    first = sorted(automated(job))
    assert checks_run(job_id=job.pk).startswith("skipped")
    VerificationJob.objects.filter(pk=job.pk).update(status="running")  # a redelivered message mid-run
    checks_run(job_id=job.pk)
    assert sorted(automated(job)) == first
    assert job.findings.count() == len(first)


def claimed(world: World) -> VerificationJob:
    job = submit(world, plausible_cement())
    checks_run(job_id=job.pk)
    response = world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/")
    assert response.status_code == 200 and response.json()["status"] == "in_review"
    job.refresh_from_db()
    return job


def test_a_second_claim_is_a_conflict(world: World) -> None:
    job = claimed(world)
    colleague = factories.api_user(
        role="verifier", organisation_name=job.revision.report.facility.verification_body.name
    )
    assert (
        factories.client_for(colleague).post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 409
    )


def test_only_the_claiming_verifier_adds_findings_and_gives_the_opinion(world: World) -> None:
    job = claimed(world)
    colleague = factories.client_for(
        factories.api_user(
            role="verifier", organisation_name=job.revision.report.facility.verification_body.name
        )
    )
    body = {"code": "meter_calibration", "severity": "warning", "detail": "calibration certificate expired"}
    assert (
        colleague.post(f"/api/v1/verification-jobs/{job.pk}/findings/", body, format="json").status_code
        == 409
    )
    assert (
        world.client("operator_a")
        .post(f"/api/v1/verification-jobs/{job.pk}/findings/", body, format="json")
        .status_code
        == 403
    )
    assert (
        world.client("verifier_b")
        .post(f"/api/v1/verification-jobs/{job.pk}/findings/", body, format="json")
        .status_code
        == 404
    )


def test_materiality_decides_whether_the_report_can_be_verified(world: World) -> None:
    job = claimed(world)
    verifier = world.client("verifier_a")
    url = f"/api/v1/verification-jobs/{job.pk}/"
    total = Decimal(job.revision.totals["totals"]["total"])  # about 0.82 Mt: threshold 2 %
    small = {
        "code": "coal_weighing",
        "severity": "warning",
        "detail": "weighbridge drift",
        "line_ref": "coal",
        "misstatement_co2e": str((total * Decimal("0.015")).quantize(Decimal(1))),
    }
    added = verifier.post(url + "findings/", small, format="json")
    assert added.status_code == 201 and added.json()["pointer"] == "/lines/1"
    figures = verifier.get(url).json()["materiality"]
    assert figures["threshold_percent"] == "2" and figures["material"] is False
    large = {
        **small,
        "code": "coal_stock",
        "misstatement_co2e": str((total * Decimal("0.01")).quantize(Decimal(1))),
    }
    verifier.post(url + "findings/", large, format="json")
    figures = verifier.get(url).json()["materiality"]
    assert figures["material"] is True and Decimal(figures["percent"]) > 2
    refused = verifier.post(url + "opinion/", {"opinion": "verified", "statement": "fine"}, format="json")
    assert refused.status_code == 409
    returned = verifier.post(
        url + "opinion/", {"opinion": "not_verified", "statement": "material"}, format="json"
    )
    assert returned.status_code == 200 and returned.json()["status"] == "completed"
    assert ReportRevision.objects.get(pk=job.revision_id).status == "returned"
    assert (
        world.client("operator_a").post(f"/api/v1/reports/{job.revision.report_id}/revise/").status_code
        == 201
    )


@pytest.mark.parametrize("name", ["steel-bf-bof", "cement-clinker-plant", "aluminium-smelter-anode-pfc"])
def test_the_public_examples_go_from_submit_to_verified_with_nothing_to_answer(
    world: World, name: str
) -> None:
    request = example_request(name)
    job = submit(
        world, request["lines"], facility=facility_for(world, request["sector"]), year=request["year"]
    )
    checks_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "awaiting_review"
    assert not [f for f in automated(job) if f[1] in ("error", "warning")], automated(job)
    verifier = world.client("verifier_a")
    url = f"/api/v1/verification-jobs/{job.pk}/"
    assert verifier.post(url + "claim/").status_code == 200
    opinion = verifier.post(url + "opinion/", {"opinion": "verified", "statement": "fair"}, format="json")
    assert opinion.status_code == 200, opinion.content
    assert ReportRevision.objects.get(pk=job.revision_id).status == "verified"
    assert not AuditEvent.objects.filter(action="finding.acknowledge").exists()


@pytest.mark.parametrize("methodology_version", [None, "2024.1"])
def test_a_report_beyond_physical_limits_cannot_be_verified(
    world: World, methodology_version: str | None
) -> None:
    """850 000 000 000 t of coal for one kiln: errors, which no answer sets aside; only not_verified."""
    lines = with_change(plausible_cement(), "coal", quantity=q("850000000000", "t"))
    client = world.client("operator_a")
    body: dict[str, Any] = {"facility": world.facility_a.pk, "year": 2024, "lines": lines}
    if methodology_version:  # stored under the old version: held to the latest version's limits
        body["methodology_version"] = methodology_version
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    assert (
        client.post(
            f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
        ).status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report.json()["id"], kind="verification")
    assert job.revision.methodology_version == (methodology_version or "2024.2")
    checks_run(job_id=job.pk)
    errors = job.findings.filter(source="automated", severity="error")
    assert {(f.code, f.pointer) for f in errors} >= {
        ("physical_limit_fuel_energy_per_line", "/lines/1/quantity"),
        ("physical_limit_cement_direct_intensity", "/totals/direct"),
    }
    verifier = world.client("verifier_a")
    url = f"/api/v1/verification-jobs/{job.pk}/"
    verifier.post(url + "claim/")
    shown = {f["code"]: f for f in verifier.get(url).json()["findings"]}
    assert (
        shown["physical_limit_fuel_energy_per_line"]["expected"] == "at most 1000000000 GJ (physical limit)"
    )
    for opinion in ("verified", "verified_with_comments"):
        refused = verifier.post(url + "opinion/", {"opinion": opinion, "statement": "x"}, format="json")
        assert refused.status_code == 409 and refused["Content-Type"] == "application/problem+json"
        problem = refused.json()
        assert {e["finding"] for e in problem["errors"]} >= {f.pk for f in errors}
        assert "not_verified" in problem["detail"]
    error = errors.first()
    assert error is not None
    acknowledged = verifier.post(
        url + f"findings/{error.pk}/acknowledge/",
        {"note": "the plant says the figure is right, honestly"},
        format="json",
    )
    assert acknowledged.status_code == 409
    returned = verifier.post(
        url + "opinion/", {"opinion": "not_verified", "statement": "beyond physics"}, format="json"
    )
    assert returned.status_code == 200
    assert ReportRevision.objects.get(pk=job.revision_id).status == "returned"
    assert not EmissionRollup.objects.filter(
        report_id=job.revision.report_id
    ).exists()  # not in national totals


def test_open_warnings_must_each_be_answered_before_a_positive_opinion(world: World) -> None:
    lines = with_change(plausible_cement(), "coal", ncv=q("31", "GJ/t"))  # above the coal NCV band
    lines += [  # gas lines for half of the year only
        {
            "ref": f"gas-{month}",
            "source": "fuel_combustion",
            "fuel": "natural_gas",
            "month": month,
            "quantity": q("10", "10^4 Nm3"),
            "ncv": q("389.31", "GJ/10^4 Nm3"),
            "carbon_content": q("0.0153", "tC/GJ"),
            "oxidation_factor": "0.99",
        }
        for month in range(1, 7)
    ]
    job = submit(world, lines)
    checks_run(job_id=job.pk)
    warnings = {f.code: f for f in job.findings.filter(source="automated", severity="warning")}
    assert set(warnings) == {"implausible_coal_ncv", "monthly_lines_incomplete"}
    assert not job.findings.filter(severity="error").exists()
    verifier = world.client("verifier_a")
    url = f"/api/v1/verification-jobs/{job.pk}/"
    verifier.post(url + "claim/")
    assert all(
        f["awaiting_answer"] for f in verifier.get(url).json()["findings"] if f["severity"] == "warning"
    )

    refused = verifier.post(url + "opinion/", {"opinion": "verified", "statement": "x"}, format="json")
    assert refused.status_code == 409
    assert {(e["finding"], e["code"]) for e in refused.json()["errors"]} == {
        (f.pk, "unanswered_warning") for f in warnings.values()
    }
    assert "/acknowledge/" in refused.json()["detail"]

    ncv = warnings["implausible_coal_ncv"]
    short = verifier.post(url + f"findings/{ncv.pk}/acknowledge/", {"note": "fine"}, format="json")
    assert short.status_code == 400 and short.json()["errors"][0]["pointer"] == "/note"
    operator = world.client("operator_a")
    note = "lab sheet 2024-031: this coal lot really has an NCV of 31 GJ/t (anthracite blend)"
    assert (
        operator.post(url + f"findings/{ncv.pk}/acknowledge/", {"note": note}, format="json").status_code
        == 403
    )
    answered = verifier.post(url + f"findings/{ncv.pk}/acknowledge/", {"note": note}, format="json")
    assert answered.status_code == 200
    assert answered.json()["acknowledged"] is True and answered.json()["awaiting_answer"] is False
    again = verifier.post(url + f"findings/{ncv.pk}/acknowledge/", {"note": note}, format="json")
    assert again.status_code == 409

    still = verifier.post(url + "opinion/", {"opinion": "verified", "statement": "x"}, format="json")
    assert still.status_code == 409
    assert [e["finding"] for e in still.json()["errors"]] == [warnings["monthly_lines_incomplete"].pk]

    months = warnings["monthly_lines_incomplete"]
    misstatement = {
        "note": "gas meter readings for July to December were left out: about 1 200 t CO2 missing",
        "misstatement_co2e": "1200",
    }
    turned = verifier.post(url + f"findings/{months.pk}/acknowledge/", misstatement, format="json")
    assert turned.status_code == 200 and Decimal(str(turned.json()["misstatement_co2e"])) == 1200
    figures = verifier.get(url).json()["materiality"]
    assert Decimal(str(figures["misstatement_co2e"])) == 1200 and figures["material"] is False

    verified = verifier.post(
        url + "opinion/", {"opinion": "verified_with_comments", "statement": "immaterial"}, format="json"
    )
    assert verified.status_code == 200
    assert ReportRevision.objects.get(pk=job.revision_id).status == "verified"
    answers = AuditEvent.objects.filter(action="finding.acknowledge", object_id=str(job.pk)).order_by(
        "sequence"
    )
    assert [(e.data["finding"], e.data["note"]) for e in answers] == [
        (ncv.pk, note),
        (months.pk, misstatement["note"]),
    ]
    assert Decimal(answers[1].data["misstatement_co2e"]) == 1200


def test_job_lists_are_scoped_and_filtered(world: World) -> None:
    job = submit(world, plausible_cement())
    checks_run(job_id=job.pk)
    mine = (
        world.client("verifier_a").get("/api/v1/verification-jobs/?status=awaiting_review").json()["results"]
    )
    assert [j["id"] for j in mine] == [job.pk]
    assert world.client("verifier_b").get("/api/v1/verification-jobs/").json()["results"] == []
    assert world.client("verifier_b").get(f"/api/v1/verification-jobs/{job.pk}/").status_code == 404
    assert world.client("regulator").get(f"/api/v1/verification-jobs/{job.pk}/").status_code == 200
    assert world.client("verifier_a").get("/api/v1/verification-jobs/?status=bogus").status_code == 400


def test_recalculation_job_under_another_methodology(world: World) -> None:
    job = submit(world, plausible_cement())
    report = job.revision.report_id
    response = world.client("regulator").post(
        f"/api/v1/reports/{report}/recalculate/", {"methodology": "ipcc-2006"}, format="json"
    )
    assert response.status_code == 202
    recalculation = VerificationJob.objects.get(pk=response.json()["id"])
    checks_run(job_id=recalculation.pk)
    recalculation.refresh_from_db()
    assert recalculation.status == "completed" and recalculation.recalculation["methodology"] == "ipcc-2006"
    # the clinker line uses IPCC's stoichiometry: a different total than cn-mee-2024's
    assert recalculation.recalculation["difference"] != "0"
    assert ReportRevision.objects.get(pk=job.revision_id).status == "submitted"  # untouched
    assert (
        world.client("operator_a")
        .post(f"/api/v1/reports/{report}/recalculate/", {"methodology": "ipcc-2006"}, format="json")
        .status_code
        == 403
    )


def test_the_sweeper_requeues_stuck_jobs(world: World, django_capture_on_commit_callbacks: Any) -> None:
    job = submit(world, plausible_cement())  # its own message is never published: the test never commits
    stuck_since = job.enqueued_at - timedelta(hours=1)
    with own_queue() as queue:
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs_requeue_stuck(older_than=timedelta(minutes=5)) == 0
        assert taken(queue) == [], "a job younger than the cutoff is left alone"
        VerificationJob.objects.filter(pk=job.pk).update(enqueued_at=stuck_since)
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs_requeue_stuck(older_than=timedelta(minutes=5)) == 1
        assert taken(queue) == [("mrv.run_verification_checks", [job.pk])], "the job is published again"
    job.refresh_from_db()
    assert job.status == "queued" and job.enqueued_at > stuck_since


def test_frozen_inputs_that_no_longer_calculate_fail_the_job_with_a_reason(world: World) -> None:
    job = submit(world, plausible_cement())
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            'UPDATE mrv_activityline SET inputs = \'{"source": "volcano"}\' WHERE revision_id = %s',
            [job.revision_id],
        )
        cursor.execute("SET session_replication_role = origin")
    assert checks_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.failure_reason.startswith("invalid_input")
    assert ActivityLine.objects.filter(revision_id=job.revision_id).exists()
    assert Finding.objects.filter(job=job).count() == 0
