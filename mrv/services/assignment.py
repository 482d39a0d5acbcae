"""Who verifies a job: the competent authority releases or reassigns a claimed job, and moving a
facility to another verification body moves its open jobs to that body. Every change is audited.

A job records the body that verifies it (``VerificationJob.verification_body``, the facility's when the
job was created); the scoping selectors show a verifier the jobs of its body, whatever the facility's
body is now. So:

- a completed job, with its opinion, stays with the body that gave it;
- an open job (queued, running, awaiting review, in review) moves with the facility: it is released to
  the new body (a claimed job goes back to ``awaiting_review``), and the review work of the body it
  leaves (its own findings, its answers to automated findings) is withdrawn from the job, so the new
  body starts afresh and never sees another body's opinions. What was withdrawn is recorded in an
  audit event of the old body (``job.review_withdrawn``: the regulator and that body read it);
- within one body, a regulator may release a claimed job (back to ``awaiting_review``, for any
  verifier of the body to claim) or reassign it to a named verifier of the body; the body's findings
  and answers stay with the job, as the work of that body.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from mrv.errors import Conflict, InvalidRequest
from mrv.models import Facility, Finding, Membership, Organisation, VerificationJob
from mrv.services import events
from mrv.services.audit import audit_record

Job = VerificationJob
Status = VerificationJob.Status
#: Jobs not settled yet: they follow their facility to a new verification body.
OPEN = (Status.QUEUED, Status.RUNNING, Status.AWAITING_REVIEW, Status.IN_REVIEW)


def _locked(job: VerificationJob) -> VerificationJob:
    """The job's row locked (the first lock of every job write: job → report → revision → audit chain
    heads, mrv/services/audit.py)."""
    return (
        Job.objects.select_for_update(of=("self",))
        .select_related("revision__report__facility", "claimed_by")
        .get(pk=job.pk)
    )


def _username(user: AbstractBaseUser | None) -> str | None:
    return user.get_username() if user is not None else None


@transaction.atomic
def job_release(*, job: VerificationJob, by: AbstractBaseUser, reason: str = "") -> VerificationJob:
    """Take a claimed job back from its verifier: ``awaiting_review`` again, for any verifier of the
    job's body to claim (409 unless the job is in review)."""
    locked = _locked(job)
    if locked.status != Status.IN_REVIEW:
        raise Conflict(f"the job is {locked.status}: only a claimed job (in review) can be released")
    previous = locked.claimed_by
    locked.status, locked.claimed_by, locked.claimed_at = Status.AWAITING_REVIEW, None, None
    locked.save(update_fields=["status", "claimed_by", "claimed_at"])
    audit_record(
        actor=by,
        action="job.release",
        object_type="verification_job",
        object_id=locked.pk,
        facility=locked.revision.report.facility,
        data={"from": _username(previous), "reason": reason},
    )
    events.publish_awaiting_review(locked, released_from=_username(previous))
    return locked


@transaction.atomic
def job_reassign(
    *, job: VerificationJob, by: AbstractBaseUser, verifier: str, reason: str = ""
) -> VerificationJob:
    """Give a job awaiting review or in review to ``verifier`` (a user name), a verifier of the job's
    body: the job is in review, claimed by them. A verifier of another body is refused (400): to move
    jobs to another body, change the facility's verification body."""
    locked = _locked(job)
    if locked.status not in (Status.AWAITING_REVIEW, Status.IN_REVIEW):
        raise Conflict(
            f"the job is {locked.status}: only a job awaiting review or in review can be reassigned"
        )
    verifiers = Membership.objects.select_related("user").filter(
        user__username=verifier, user__is_active=True, role=Membership.Role.VERIFIER
    )
    # A user may be a verifier of several bodies: their membership of the job's body, if any.
    target = verifiers.filter(organisation_id=locked.verification_body_id).first() or verifiers.first()
    if target is None:
        raise InvalidRequest(
            "no active verifier has this user name",
            [{"pointer": "/verifier", "code": "does_not_exist", "detail": "unknown verifier"}],
        )
    if target.organisation_id != locked.verification_body_id:
        raise InvalidRequest(
            "the verifier does not belong to the body that verifies this job; to move a facility's "
            "open jobs to another body, change the facility's verification_body",
            [{"pointer": "/verifier", "code": "other_body", "detail": "not a verifier of the job's body"}],
        )
    if locked.claimed_by_id == target.user_id:
        raise Conflict("the job is already claimed by this verifier")
    previous = locked.claimed_by
    locked.status, locked.claimed_by, locked.claimed_at = Status.IN_REVIEW, target.user, timezone.now()
    locked.save(update_fields=["status", "claimed_by", "claimed_at"])
    audit_record(
        actor=by,
        action="job.reassign",
        object_type="verification_job",
        object_id=locked.pk,
        facility=locked.revision.report.facility,
        data={"from": _username(previous), "to": target.user.get_username(), "reason": reason},
    )
    return locked


def _withdraw_review(job: VerificationJob) -> dict[str, Any]:
    """Remove the leaving body's review work from the job: its verifiers' findings and their answers
    to automated findings. Returns what was withdrawn (for the old body's audit event)."""
    findings = list(job.findings.select_related("created_by", "acknowledged_by"))
    own = [f for f in findings if f.source == Finding.Source.VERIFIER]
    answered = [f for f in findings if f.source == Finding.Source.AUTOMATED and f.acknowledged]
    withdrawn = {
        "claimed_by": _username(job.claimed_by),
        "findings": [
            {
                "finding": f.pk,
                "code": f.code,
                "severity": f.severity,
                "detail": f.detail,
                "line_ref": f.line_ref,
                "misstatement_co2e": f.misstatement_co2e,
                "by": _username(f.created_by),
            }
            for f in own
        ],
        "answers": [
            {
                "finding": f.pk,
                "code": f.code,
                "note": f.acknowledgement_note,
                "misstatement_co2e": f.misstatement_co2e,
                "by": _username(f.acknowledged_by),
            }
            for f in answered
        ],
    }
    Finding.objects.filter(pk__in=[f.pk for f in own]).delete()
    Finding.objects.filter(pk__in=[f.pk for f in answered]).update(
        acknowledged=False,
        acknowledgement_note="",
        acknowledged_by=None,
        acknowledged_at=None,
        misstatement_co2e=None,
    )
    return withdrawn


def jobs_follow_facility(*, facility: Facility, by: AbstractBaseUser) -> list[int]:
    """Move the facility's open jobs to its (new) verification body; returns their ids.

    Called by ``facility_update`` in its transaction when the verification body changed. A job in
    review goes back to ``awaiting_review`` (its claim was the old body's); the old body's review work
    is withdrawn and recorded for that body alone. Completed and failed jobs stay where they are.
    """
    to_body_id = facility.verification_body_id
    jobs = list(
        Job.objects.select_for_update(of=("self",))
        .select_related("claimed_by")
        .filter(revision__report__facility=facility, status__in=OPEN)
        .exclude(verification_body_id=to_body_id)
        .order_by("id")
    )
    old_bodies = {b.pk: b for b in Organisation.objects.filter(pk__in={j.verification_body_id for j in jobs})}
    for job in jobs:
        before, left = job.status, job.verification_body_id
        withdrawn = _withdraw_review(job)
        if job.status == Status.IN_REVIEW:
            job.status = Status.AWAITING_REVIEW
        job.verification_body_id, job.claimed_by, job.claimed_at = to_body_id, None, None
        job.save(update_fields=["status", "verification_body", "claimed_by", "claimed_at"])
        audit_record(
            actor=by,
            action="job.move",
            object_type="verification_job",
            object_id=job.pk,
            facility=facility,
            data={
                "from_body": left,
                "to_body": to_body_id,
                "status_before": before,
                "status": job.status,
                "findings_withdrawn": len(withdrawn["findings"]),
                "answers_withdrawn": len(withdrawn["answers"]),
            },
        )
        if left is not None and (withdrawn["findings"] or withdrawn["answers"] or withdrawn["claimed_by"]):
            audit_record(
                actor=by,
                action="job.review_withdrawn",
                object_type="verification_job",
                object_id=job.pk,
                organisation=old_bodies[left],  # read by that body and the regulator only
                data={"to_body": to_body_id, **withdrawn},
            )
    return [job.pk for job in jobs]
