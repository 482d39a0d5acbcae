"""History and tenancy: a report keeps the facility attributes it was filed under; jobs stay with the
body that verifies them (released or reassigned by the regulator, moved with the facility when open);
drafts are the operator's alone until submitted."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from mrv.models import AuditEvent, EmissionRollup, Finding, Membership, Report, VerificationJob
from mrv.selectors.aggregates import aggregate_totals
from mrv.services.reports import report_create, report_revise, report_submit
from mrv.services.rollup import rollup_rebuild
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue
from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db


# -- helpers ---------------------------------------------------------------------------------------------------
def submitted(world: World, *, year: int = 2024) -> VerificationJob:
    """Operator A's report of ``year`` submitted and through the automated checks: awaiting review."""
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=year,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    job = report_submit(by=world.operator_a.user, report=report).verification_jobs.get()
    checks_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "awaiting_review"
    return job


def verified(world: World, *, year: int = 2023) -> VerificationJob:
    """Operator A's report of ``year`` verified by verifier A (a completed job with an opinion)."""
    job = submitted(world, year=year)
    job_claim(job=job, by=world.verifier_a.user)
    for finding in job.findings.filter(source="automated", severity="warning"):
        finding_acknowledge(
            job=job, finding_id=finding.pk, by=world.verifier_a.user, note="checked against the meter logs"
        )
    opinion_issue(job=job, by=world.verifier_a.user, opinion="verified", statement="fairly stated by A")
    job.refresh_from_db()
    return job


def body_of(user: factories.ApiUser) -> Any:
    return Membership.objects.get(user=user.user).organisation


def colleague_of(world: World, name: str) -> factories.ApiUser:
    """Another verifier of the body of ``name``."""
    return factories.api_user(role="verifier", organisation_name=body_of(getattr(world, name)).name)


def patch_facility(world: World, **changes: Any) -> None:
    response = world.client("regulator").patch(
        f"/api/v1/facilities/{world.facility_a.pk}/", changes, format="json"
    )
    assert response.status_code == 200, response.content
    world.facility_a.refresh_from_db()


def actions(world: World, role: str, query: str = "") -> list[tuple[str, str | None]]:
    response = world.client(role).get(f"/api/v1/audit-events/?page_size=500&{query}")
    assert response.status_code == 200, response.content
    return [(event["action"], event["actor_name"]) for event in response.json()["results"]]


# -- the attributes a report was filed under -------------------------------------------------------------------
def test_a_facility_edit_rewrites_neither_the_report_nor_the_rollup(world: World) -> None:
    job = verified(world, year=2024)
    report_id = job.revision.report_id
    by_place = aggregate_totals(group_by=["sector", "province"], filters={})["results"]
    assert [(r["sector"], r["province"], r["reports"]) for r in by_place] == [("cement", "CN-JS", 1)]

    patch_facility(world, province="CN-ZJ", sector="steel")

    # the report, its rollup row and the aggregates still say where and what it was filed as
    report = Report.objects.get(pk=report_id)
    assert (report.sector, report.province) == ("cement", "CN-JS")
    rollup = EmissionRollup.objects.get(report_id=report_id)
    assert (rollup.sector, rollup.province) == ("cement", "CN-JS")
    after = aggregate_totals(group_by=["sector", "province"], filters={})
    assert [(r["sector"], r["province"], r["reports"], r["total"]) for r in after["results"]] == [
        ("cement", "CN-JS", 1, by_place[0]["total"])
    ]
    assert aggregate_totals(group_by=["province"], filters={"province": ["CN-ZJ"]})["results"] == []
    # a rebuild from scratch agrees with the incremental state
    assert rollup_rebuild(apply=False).differences == []
    call_command("rebuild_rollup", "--check")
    # the report is shown, recalculated and filtered under its own sector
    regulator = world.client("regulator")
    shown = regulator.get(f"/api/v1/reports/{report_id}/")
    assert shown.status_code == 200 and shown.json()["sector"] == "cement"
    assert [r["id"] for r in regulator.get("/api/v1/reports/?sector=cement").json()["results"]] == [report_id]
    assert regulator.get("/api/v1/reports/?sector=steel").json()["results"] == []


def test_the_rollup_check_fails_when_a_row_disagrees_with_the_filed_attributes(world: World) -> None:
    job = verified(world, year=2024)
    EmissionRollup.objects.filter(report_id=job.revision.report_id).update(province="CN-ZJ")
    with pytest.raises(CommandError):
        call_command("rebuild_rollup", "--check")


@pytest.mark.postgres
def test_the_database_freezes_the_filed_attributes_of_a_submitted_report(world: World) -> None:
    job = submitted(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.filter(pk=job.revision.report_id).update(province="CN-ZJ")
    draft = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2022,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    Report.objects.filter(pk=draft.pk).update(province="CN-ZJ")  # a draft is not filed yet


def test_new_reports_are_filed_under_the_facilitys_attributes_of_the_day(world: World) -> None:
    patch_facility(world, province="CN-ZJ")
    response = world.client("operator_a").post(
        "/api/v1/reports/", report_body(world.facility_a), format="json"
    )
    assert response.status_code == 201, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert (report.sector, report.province) == ("cement", "CN-ZJ")


# -- release and reassign ------------------------------------------------------------------------------------------
def test_the_regulator_releases_a_claimed_job_for_another_verifier_of_the_body(world: World) -> None:
    job = submitted(world)
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    colleague = factories.client_for(colleague_of(world, "verifier_a"))
    url = f"/api/v1/verification-jobs/{job.pk}/"
    assert colleague.post(f"{url}claim/").status_code == 409  # stranded until released

    for role, status in (("verifier_a", 403), ("operator_a", 403), ("verifier_b", 404)):
        assert world.client(role).post(f"{url}release/", {}, format="json").status_code == status, role
    released = world.client("regulator").post(
        f"{url}release/", {"reason": "verifier on leave"}, format="json"
    )
    assert released.status_code == 200, released.content
    assert released.json()["status"] == "awaiting_review" and released.json()["claimed_by"] is None
    assert world.client("regulator").post(f"{url}release/", {}, format="json").status_code == 409
    assert colleague.post(f"{url}claim/").status_code == 200

    event = AuditEvent.objects.get(action="job.release", object_id=str(job.pk))
    assert event.actor_id == world.regulator.user.pk
    assert event.data == {"from": world.verifier_a.user.username, "reason": "verifier on leave"}


def test_the_regulator_reassigns_a_job_to_a_named_verifier_of_its_body(world: World) -> None:
    job = submitted(world)
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    colleague = colleague_of(world, "verifier_a")
    url = f"/api/v1/verification-jobs/{job.pk}/reassign/"
    regulator = world.client("regulator")

    other_body = regulator.post(url, {"verifier": world.verifier_b.user.username}, format="json")
    assert other_body.status_code == 400 and other_body.json()["errors"][0]["pointer"] == "/verifier"
    unknown = regulator.post(url, {"verifier": "nobody"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == "does_not_exist"
    assert (
        world.client("verifier_a").post(url, {"verifier": colleague.user.username}, format="json").status_code
        == 403
    )

    moved = regulator.post(url, {"verifier": colleague.user.username}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "in_review" and moved.json()["claimed_by"] == colleague.user.username
    finding = {"code": "meter_calibration", "severity": "info", "detail": "calibration certificate checked"}
    findings_url = f"/api/v1/verification-jobs/{job.pk}/findings/"
    assert world.client("verifier_a").post(findings_url, finding, format="json").status_code == 409
    assert factories.client_for(colleague).post(findings_url, finding, format="json").status_code == 201

    event = AuditEvent.objects.get(action="job.reassign", object_id=str(job.pk))
    assert event.data["from"] == world.verifier_a.user.username
    assert event.data["to"] == colleague.user.username


# -- a facility moved to another verification body ----------------------------------------------------------------
def test_moving_the_facility_moves_open_jobs_and_leaves_completed_ones_with_their_body(world: World) -> None:
    done = verified(world, year=2023)
    open_job = submitted(world, year=2024)
    verifier_a, verifier_b = world.client("verifier_a"), world.client("verifier_b")
    assert verifier_a.post(f"/api/v1/verification-jobs/{open_job.pk}/claim/").status_code == 200
    note = {"code": "meter_gap", "severity": "warning", "detail": "A's draft finding: meter gap in March"}
    assert (
        verifier_a.post(f"/api/v1/verification-jobs/{open_job.pk}/findings/", note, format="json").status_code
        == 201
    )

    patch_facility(world, verification_body=body_of(world.verifier_b).pk)

    # the open job was released to the new body, without the old body's review work
    open_job.refresh_from_db()
    assert open_job.verification_body_id == body_of(world.verifier_b).pk
    assert (open_job.status, open_job.claimed_by_id) == ("awaiting_review", None)
    assert not Finding.objects.filter(job=open_job, source="verifier").exists()
    assert verifier_a.get(f"/api/v1/verification-jobs/{open_job.pk}/").status_code == 404
    shown = verifier_b.get(f"/api/v1/verification-jobs/{open_job.pk}/").json()
    assert [f["source"] for f in shown["findings"]] == ["automated"] * len(shown["findings"])
    assert verifier_b.post(f"/api/v1/verification-jobs/{open_job.pk}/claim/").status_code == 200

    # the completed job and its opinion stay with the body that gave them
    assert verifier_a.get(f"/api/v1/verification-jobs/{done.pk}/").json()["statement"] == "fairly stated by A"
    assert verifier_b.get(f"/api/v1/verification-jobs/{done.pk}/").status_code == 404
    listed_b = [j["id"] for j in verifier_b.get("/api/v1/verification-jobs/").json()["results"]]
    listed_a = [j["id"] for j in verifier_a.get("/api/v1/verification-jobs/").json()["results"]]
    assert listed_b == [open_job.pk] and listed_a == [done.pk]

    # audited: the move for everyone concerned, what was withdrawn for the old body only
    assert ("job.move", world.regulator.user.username) in actions(world, "verifier_b")
    assert ("job.move", world.regulator.user.username) in actions(world, "operator_a")
    withdrawn = AuditEvent.objects.get(action="job.review_withdrawn")
    assert withdrawn.organisation_id == body_of(world.verifier_a).pk
    assert [f["detail"] for f in withdrawn.data["findings"]] == [note["detail"]]
    assert ("job.review_withdrawn", world.regulator.user.username) in actions(world, "verifier_a")
    assert ("job.review_withdrawn", world.regulator.user.username) in actions(world, "regulator")
    for role in ("verifier_b", "operator_a"):
        assert "job.review_withdrawn" not in {action for action, _ in actions(world, role)}, role
    # nor does the new body read the old body's claims, findings, answers or opinions in the trail
    assert world.verifier_a.user.username not in {actor for _, actor in actions(world, "verifier_b")}
    assert world.verifier_a.user.username in {actor for _, actor in actions(world, "regulator")}


def test_moving_a_facility_to_no_body_and_back_leaves_no_job_stranded(world: World) -> None:
    job = submitted(world)
    patch_facility(world, verification_body=None)
    job.refresh_from_db()
    assert job.verification_body_id is None
    assert world.client("verifier_a").get(f"/api/v1/verification-jobs/{job.pk}/").status_code == 404
    patch_facility(world, verification_body=body_of(world.verifier_b).pk)
    assert world.client("verifier_b").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200


def test_jobs_created_after_the_move_go_to_the_new_body(world: World) -> None:
    patch_facility(world, verification_body=body_of(world.verifier_b).pk)
    job = submitted(world)
    assert job.verification_body_id == body_of(world.verifier_b).pk
    assert world.client("verifier_b").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200


# -- drafts are the operator's alone -----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["verifier_a", "regulator"])
def test_a_draft_report_does_not_exist_for_verifier_or_regulator(world: World, role: str) -> None:
    operator = world.client("operator_a")
    report = operator.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    client = world.client(role)
    assert client.get(f"/api/v1/reports/{report}/").status_code == 404
    assert client.get(f"/api/v1/reports/{report}/revisions/").status_code == 404
    assert report not in [r["id"] for r in client.get("/api/v1/reports/").json()["results"]]
    assert actions(world, role, f"object_type=report&object_id={report}") == []
    assert operator.get(f"/api/v1/reports/{report}/").status_code == 200

    assert (
        operator.post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    assert client.get(f"/api/v1/reports/{report}/").status_code == 200
    seen = {action for action, _ in actions(world, role, f"object_type=report&object_id={report}")}
    assert seen == {"report.create", "revision.submit"}


@pytest.mark.parametrize("role", ["verifier_a", "regulator"])
def test_a_new_draft_revision_stays_hidden_behind_the_submitted_one(world: World, role: str) -> None:
    job = verified(world, year=2024)
    report = job.revision.report
    report_revise(by=world.operator_a.user, report=report)
    client = world.client(role)
    assert client.get(f"/api/v1/reports/{report.pk}/").json()["revision"] == 1
    revisions = client.get(f"/api/v1/reports/{report.pk}/revisions/").json()["results"]
    assert [r["revision"] for r in revisions] == [1]
    listed = client.get("/api/v1/reports/").json()["results"]
    assert [(r["id"], r["revision"], r["status"]) for r in listed] == [(report.pk, 1, "verified")]
    assert client.get("/api/v1/reports/?status=draft").json()["results"] == []
    assert "report.revise" not in {a for a, _ in actions(world, role, f"object_id={report.pk}")}
    # the operator sees its draft and its trail
    operator = world.client("operator_a")
    assert operator.get(f"/api/v1/reports/{report.pk}/").json()["revision"] == 2
    assert "report.revise" in {a for a, _ in actions(world, "operator_a", f"object_id={report.pk}")}


def test_import_jobs_and_their_dry_run_figures_are_the_operators_alone(world: World) -> None:
    operator = world.client("operator_a")
    report = operator.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    template = operator.get("/api/v1/reports/lines/template/?sector=cement&format=csv").content
    accepted = operator.post(
        f"/api/v1/reports/{report}/lines/import/?background=true&dry_run=true",
        {"file": SimpleUploadedFile("lines.csv", template)},
        format="multipart",
    )
    assert accepted.status_code == 202, accepted.content
    job = accepted.json()["id"]
    from mrv.tasks import import_lines

    assert import_lines(job) == "completed"
    assert operator.get(f"/api/v1/import-jobs/{job}/").json()["outcome"]["dry_run"] is True
    assert (
        operator.post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    # even once the report is submitted, the import and its figures stay the operator's
    for role in ("verifier_a", "regulator", "operator_b"):
        response = world.client(role).get(f"/api/v1/import-jobs/{job}/")
        assert response.status_code == 404, role
