"""The competent authority's review of monthly deposits (月度信息化存证): accept or return.

A monthly report is the month's deposit. Once its automated checks have run (the revision is
``in_verification``), the regulator settles it instead of a verification body: ``accept`` moves the
revision to ``verified`` (its figures then count where a verified revision's do: the monthly rollup and
the annual report's check against the sum of its accepted months), ``return`` with a comment moves it to
``returned``, and the operator revises it (a new draft revision) and deposits again. The moves are the
workflow table's (:mod:`mrv.domain.workflow`); the decision is a :class:`~mrv.models.DepositReview`
row, written once (database triggers of migration 0017). The open verification job of the revision is
closed with the review (completed, no verifier's opinion), so no verifier gives a second decision; a job
a verifier has already claimed is the verifier's to settle (409).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from mrv.domain import workflow
from mrv.errors import Conflict, InvalidRequest
from mrv.models import DepositReview, Finding, Report, ReportRevision, VerificationJob
from mrv.services.reports import revision_transition

Decision = DepositReview.Decision
JobStatus = VerificationJob.Status


def _not_a_deposit() -> Conflict:
    return Conflict(
        "only a monthly report (a deposit) is reviewed by the competent authority; an annual report is "
        "verified by its verification body",
        [{"pointer": "/month", "code": "not_a_deposit", "detail": "the report has no month"}],
    )


@transaction.atomic
def deposit_review(*, by: AbstractBaseUser, report: Report, accept: bool, comment: str = "") -> DepositReview:
    """Accept or return the latest revision of a monthly report; audited (``revision.verified`` or
    ``revision.returned`` with ``data.review``). Lock order: the verification job, then the report and
    the revision (mrv/services/audit.py)."""
    if report.month is None:
        raise _not_a_deposit()
    comment = comment.strip()
    if not accept and not comment:
        raise InvalidRequest(
            "a returned deposit needs a comment",
            [{"pointer": "/comment", "code": "required", "detail": "say what the operator must change"}],
        )
    action = "accept" if accept else "return"
    latest = ReportRevision.objects.filter(report=report).order_by("-number").first()
    assert latest is not None  # a report always has a revision
    job = (
        VerificationJob.objects.select_for_update(of=("self",))
        .filter(revision=latest, kind=VerificationJob.Kind.VERIFICATION)
        .first()
    )
    Report.objects.select_for_update(no_key=True).filter(pk=report.pk).values_list("pk").first()
    revision = ReportRevision.objects.select_for_update(no_key=True).get(pk=latest.pk)
    if ReportRevision.objects.filter(report=report, number__gt=revision.number).exists():
        raise Conflict("the report changed meanwhile: read it again and repeat the review")
    try:
        workflow.require(action, revision.status)
    except workflow.IllegalMove as error:
        raise Conflict(
            f"revision {revision.number} is {revision.status}: {error.detail}",
            [{"pointer": "", "code": "not_reviewable", "detail": _why(revision.status)}],
        ) from None
    if job is not None and job.status == JobStatus.IN_REVIEW:
        raise Conflict(
            "a verifier has claimed this deposit's verification job: the verifier's opinion settles it",
            [{"pointer": "", "code": "claimed_by_verifier", "detail": f"verification job {job.pk}"}],
        )
    if accept and job is not None:
        errors = list(
            job.findings.filter(source=Finding.Source.AUTOMATED, severity=Finding.Severity.ERROR).order_by(
                "id"
            )
        )
        if errors:
            raise Conflict(
                "a deposit with automated error findings cannot be accepted: return it with a comment so "
                "that the operator corrects it",
                [
                    {
                        "pointer": f.pointer,
                        "code": "error_finding",
                        "detail": f"{f.severity} {f.code} at {f.pointer or '/'}: {f.detail}",
                    }
                    for f in errors
                ],
            )
    now = timezone.now()
    decision = Decision.ACCEPTED if accept else Decision.RETURNED
    if job is not None and job.status == JobStatus.AWAITING_REVIEW:
        job.status, job.completed_at = JobStatus.COMPLETED, now
        job.statement = f"settled by the competent authority's review of the monthly deposit: {decision}"
        job.save(update_fields=["status", "completed_at", "statement"])
    revision = revision_transition(
        revision=revision,
        status=workflow.VERIFIED if accept else workflow.RETURNED,
        by=by,
        data={"review": str(decision), "comment": comment, "job": job.pk if job else None},
    )
    return DepositReview.objects.create(
        revision=revision, decision=decision, comment=comment, reviewed_by=by, reviewed_at=now
    )


def _why(status: str) -> str:
    if status in (workflow.SUBMITTED, workflow.CHECKS_RUNNING):
        return "the automated checks have not finished: review the deposit once they have"
    if status == workflow.DRAFT:
        return "the revision has not been deposited (submitted) yet"
    return "the revision has been settled already: a new revision is reviewed once deposited"
