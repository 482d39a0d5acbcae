"""The competent authority's review of monthly deposits (issue 11, SPEC §8): accept or return a monthly
report's deposited revision instead of a verification body; the operator revises a returned one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, transaction

from mrv.models import AuditEvent, DepositReview, ReportRevision, VerificationJob
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db


def deposit(world: World, month: int | None = 1, *, check: bool = True, year: int = 2024) -> int:
    """A report of facility A (monthly unless ``month`` is None) submitted and, with ``check``, with its
    automated checks run (the revision is in_verification); its id."""
    client = world.client("operator_a")
    body = {"facility": world.facility_a.pk, "year": year, "month": month, "lines": plausible_cement()}
    created = client.post("/api/v1/reports/", body, format="json")
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    assert (
        client.post(f"/api/v1/reports/{report_id}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    if check:
        job = VerificationJob.objects.get(revision__report_id=report_id, kind="verification")
        checks_run(job_id=job.pk)
    return report_id


def test_the_regulator_accepts_a_deposit_and_the_report_shows_the_review(world: World) -> None:
    report_id = deposit(world)
    regulator = world.client("regulator")
    before = regulator.get(f"/api/v1/reports/{report_id}/").json()
    assert (before["status"], before["review"]["status"]) == ("in_verification", "pending")
    accepted = regulator.post(f"/api/v1/reports/{report_id}/accept/", {}, format="json")
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["status"] == "verified"
    assert body["review"]["status"] == "accepted"
    assert body["review"]["by"] == world.regulator.user.username and body["review"]["at"]
    # the operator sees the same review, in the detail and in the list
    operator = world.client("operator_a")
    assert operator.get(f"/api/v1/reports/{report_id}/").json()["review"]["status"] == "accepted"
    listed = operator.get("/api/v1/reports/", {"year": 2024}).json()["results"]
    assert [r["review"]["status"] for r in listed] == ["accepted"]
    # the verification job is closed with the review: no verifier decides a second time
    job = VerificationJob.objects.get(revision__report_id=report_id, kind="verification")
    assert job.status == "completed" and job.opinion == ""
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 409
    # audited in the facility's chain
    event = AuditEvent.objects.filter(object_type="report", object_id=str(report_id)).latest("id")
    assert (event.action, event.data["review"], event.actor_id) == (
        "revision.verified",
        "accepted",
        world.regulator.user.pk,
    )
    # an accepted deposit counts as verified: it is in the monthly aggregates
    totals = regulator.get("/api/v1/aggregates/", {"period": "monthly", "year": 2024}).json()["totals"]
    assert totals["reports"] == 1 and totals["total"] == body["totals"]["total"]
    # a second review of the same revision is refused
    again = regulator.post(f"/api/v1/reports/{report_id}/return/", {"comment": "late thought"}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "not_reviewable"


def test_a_returned_deposit_goes_back_to_the_operator_who_revises_and_deposits_it_again(world: World) -> None:
    report_id = deposit(world)
    regulator = world.client("regulator")
    refused = regulator.post(f"/api/v1/reports/{report_id}/return/", {"comment": "  "}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["pointer"] == "/comment"
    returned = regulator.post(
        f"/api/v1/reports/{report_id}/return/", {"comment": "coal NCV lacks its lab report"}, format="json"
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == "returned"
    assert returned.json()["review"] == {
        "status": "returned",
        "comment": "coal NCV lacks its lab report",
        "by": world.regulator.user.username,
        "at": returned.json()["review"]["at"],
    }
    operator = world.client("operator_a")
    revised = operator.post(f"/api/v1/reports/{report_id}/revise/")
    assert revised.status_code == 201, revised.content
    assert (revised.json()["revision"], revised.json()["review"]) == (2, None)  # a draft has no review
    assert (
        operator.post(f"/api/v1/reports/{report_id}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report_id, revision__number=2, kind="verification")
    checks_run(job_id=job.pk)
    shown = regulator.get(f"/api/v1/reports/{report_id}/").json()
    assert (shown["revision"], shown["review"]["status"]) == (2, "pending")
    assert regulator.post(f"/api/v1/reports/{report_id}/accept/").status_code == 200
    decisions = list(
        DepositReview.objects.filter(revision__report_id=report_id)
        .order_by("revision__number")
        .values_list("revision__number", "decision")
    )
    assert decisions == [(1, "returned"), (2, "accepted")]


@pytest.mark.parametrize("check", [False, True])
def test_wrong_states_are_409_problems_saying_what_to_do(world: World, check: bool) -> None:
    regulator = world.client("regulator")
    if not check:  # submitted, checks not run yet
        report_id = deposit(world, check=False)
        refused = regulator.post(f"/api/v1/reports/{report_id}/accept/")
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["detail"].startswith("the automated checks have not finished")
        return
    annual = deposit(world, None)
    refused = regulator.post(f"/api/v1/reports/{annual}/accept/")
    assert refused.status_code == 409 and refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["code"] == "not_a_deposit"
    assert "only a monthly report" in refused.json()["detail"]
    chinese = regulator.post(f"/api/v1/reports/{annual}/accept/", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert chinese["detail"] == "只有月度报告（月度存证）由主管部门审核；年度报告由其核查机构核查"
    assert chinese["errors"][0]["code"] == "not_a_deposit"
    # a deposit whose job a verifier claimed is the verifier's to settle
    report_id = deposit(world, 2)
    job = VerificationJob.objects.get(revision__report_id=report_id, kind="verification")
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    claimed = regulator.post(f"/api/v1/reports/{report_id}/accept/")
    assert claimed.status_code == 409 and claimed.json()["errors"][0]["code"] == "claimed_by_verifier"


def test_a_deposit_with_an_automated_error_cannot_be_accepted(world: World) -> None:
    client = world.client("operator_a")
    # a cement report without fuel combustion is incomplete: an error finding
    lines: list[dict[str, Any]] = [line for line in plausible_cement() if line["ref"] != "coal"]
    body = {"facility": world.facility_a.pk, "year": 2024, "month": 3, "lines": lines}
    report_id = client.post("/api/v1/reports/", body, format="json").json()["id"]
    assert (
        client.post(f"/api/v1/reports/{report_id}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report_id, kind="verification")
    checks_run(job_id=job.pk)
    assert job.findings.filter(severity="error").exists()
    refused = world.client("regulator").post(f"/api/v1/reports/{report_id}/accept/")
    assert refused.status_code == 409
    assert {e["code"] for e in refused.json()["errors"]} == {"error_finding"}
    assert ReportRevision.objects.get(report_id=report_id).status == "in_verification"


def test_only_the_regulator_reviews_and_outsiders_do_not_see_the_report(world: World) -> None:
    report_id = deposit(world)
    assert world.client("operator_a").post(f"/api/v1/reports/{report_id}/accept/").status_code == 403
    assert world.client("verifier_a").post(f"/api/v1/reports/{report_id}/accept/").status_code == 403
    assert world.client("operator_b").post(f"/api/v1/reports/{report_id}/accept/").status_code == 404
    assert world.client("verifier_b").post(f"/api/v1/reports/{report_id}/return/").status_code == 404
    assert ReportRevision.objects.get(report_id=report_id).status == "in_verification"


def test_the_database_keeps_a_review_as_written(world: World) -> None:
    report_id = deposit(world)
    assert world.client("regulator").post(f"/api/v1/reports/{report_id}/accept/").status_code == 200
    review = DepositReview.objects.get(revision__report_id=report_id)
    with pytest.raises(DatabaseError), transaction.atomic():
        DepositReview.objects.filter(pk=review.pk).update(decision="returned", comment="changed my mind")
    with pytest.raises(DatabaseError), transaction.atomic():
        DepositReview.objects.filter(pk=review.pk).delete()
    # and a review beside an annual revision, or in a status it does not decide, is refused
    annual = deposit(world, None)
    revision = ReportRevision.objects.get(report_id=annual)
    with pytest.raises(DatabaseError), transaction.atomic():
        DepositReview.objects.create(
            revision=revision,
            decision="accepted",
            reviewed_by=world.regulator.user,
            reviewed_at=review.reviewed_at,
        )
    pending = ReportRevision.objects.get(report_id=deposit(world, 4))
    with pytest.raises(DatabaseError), transaction.atomic():
        DepositReview.objects.create(
            revision=pending,
            decision="accepted",
            reviewed_by=world.regulator.user,
            reviewed_at=review.reviewed_at,
        )
