"""Requests for information: the verifier who claimed a job asks, the report's operator answers, the
verifier closes (SPEC §10).

A request is ``open`` (awaiting the operator) → ``answered`` (awaiting the verifier; the operator may
add to the answer) → ``closed`` (by the claiming verifier, with or without an answer). While any request
of a job is ``open`` the job shows ``awaiting_operator`` (derived from the requests, not stored: the job
stays ``in_review`` with its claim, so release, reassignment and findings work as before). No opinion is
given while any request of the job is not closed (:func:`mrv.services.verification.opinion_issue`).

Each step locks the job row first (the service's lock order: verification job → ... → audit chain
heads), so an opinion and a new request, or two answers, never cross; each is audited on the facility's
chain, and announced by one function per moment (:func:`request_opened`, :func:`request_answered`,
:func:`request_closed`), where the notifications are made and the events publisher is wired.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from mrv.errors import Conflict, EvidenceFrozen, InvalidRequest
from mrv.models import (
    ActivityLine,
    AnswerEvidence,
    Evidence,
    InformationRequest,
    Notification,
    ReportRevision,
    RequestAnswer,
    VerificationJob,
)
from mrv.selectors import deposits
from mrv.selectors.scoping import body_users_of, evidence_visible_to, operator_users_of
from mrv.services import events
from mrv.services import evidence as evidence_store
from mrv.services.audit import audit_record
from mrv.services.notifications import notify
from mrv.services.verification import job_in_review_by

Status = InformationRequest.Status


def _lock_job(job_id: int) -> VerificationJob:
    return (
        VerificationJob.objects.select_for_update(of=("self",))
        .select_related("revision__report__facility")
        .get(pk=job_id)
    )


def _lock_request(request_id: int) -> InformationRequest:
    return InformationRequest.objects.select_for_update(of=("self",)).get(pk=request_id)


@transaction.atomic
def request_open(
    *,
    job: VerificationJob,
    by: AbstractBaseUser,
    question: str,
    due_date: date,
    line_ref: str = "",
    finding: int | None = None,
) -> InformationRequest:
    """Ask the operator a question on a job ``by`` has claimed; the job then awaits the operator."""
    job = job_in_review_by(job=job, by=by)
    question = question.strip()
    if not question:
        raise InvalidRequest(
            "the question is empty", [{"pointer": "/question", "code": "blank", "detail": "ask a question"}]
        )
    if due_date < deposits.today():
        raise InvalidRequest(
            "the due date is in the past",
            [{"pointer": "/due_date", "code": "in_the_past", "detail": "give today or a later date"}],
        )
    if line_ref and not ActivityLine.objects.filter(revision_id=job.revision_id, ref=line_ref).exists():
        raise InvalidRequest(
            "no line of the revision has this ref",
            [{"pointer": "/line_ref", "code": "does_not_exist", "detail": "unknown line ref"}],
        )
    if finding is not None and not job.findings.filter(pk=finding).exists():
        raise InvalidRequest(
            "no such finding on this job",
            [{"pointer": "/finding", "code": "does_not_exist", "detail": "unknown finding"}],
        )
    request = InformationRequest.objects.create(
        job=job, question=question, line_ref=line_ref, finding_id=finding, due_date=due_date, opened_by=by
    )
    facility = job.revision.report.facility
    audit_record(
        actor=by,
        action="request.open",
        object_type="information_request",
        object_id=request.pk,
        facility=facility,
        data={
            "job": job.pk,
            "question": question,
            "line_ref": line_ref,
            "finding": finding,
            "due_date": due_date.isoformat(),
        },
    )
    request_opened(request=request)
    return request


@transaction.atomic
def request_answer(
    *, request: InformationRequest, by: AbstractBaseUser, text: str, evidence: Sequence[int] = ()
) -> RequestAnswer:
    """The operator's answer (or an addition to it), naming ``evidence`` files: those uploaded for this
    request (:func:`request_evidence_upload`) or of the report's submitted revisions (frozen, as the
    verifier sees them); the request then awaits the verifier. A file an answer names is never removed."""
    job = _lock_job(request.job_id)
    request = _lock_request(request.pk)
    if request.status == Status.CLOSED:
        raise Conflict("the request is closed: ask the verifier to open a new one if there is more to say")
    text = text.strip()
    if not text:
        raise InvalidRequest(
            "the answer is empty", [{"pointer": "/text", "code": "blank", "detail": "write the answer"}]
        )
    files = _answer_evidence(request=request, job=job, by=by, ids=evidence)
    answer = RequestAnswer.objects.create(request=request, text=text, answered_by=by)
    AnswerEvidence.objects.bulk_create([AnswerEvidence(answer=answer, evidence=item) for item in files])
    request.status, request.answered_at = Status.ANSWERED, answer.answered_at
    request.save(update_fields=["status", "answered_at"])
    audit_record(
        actor=by,
        action="request.answer",
        object_type="information_request",
        object_id=request.pk,
        facility=job.revision.report.facility,
        data={
            "job": job.pk,
            "answer": answer.pk,
            "text": text,
            "evidence": [{"evidence": item.pk, "sha256": item.sha256} for item in files],
        },
    )
    request.job = job
    request_answered(request=request, answer=answer)
    return answer


def _answer_evidence(
    *, request: InformationRequest, job: VerificationJob, by: AbstractBaseUser, ids: Sequence[int]
) -> list[Evidence]:
    """The files an answer names, in the order given; 400 pointing at ``/evidence/N`` for a file that is
    neither this request's nor of a submitted revision of the report, or named twice."""
    ids = list(ids)
    allowed = evidence_visible_to(by).filter(
        Q(request=request)
        | Q(
            request__isnull=True,
            revision__report_id=job.revision.report_id,
        )
        & ~Q(revision__status=ReportRevision.Status.DRAFT)
    )
    found = {item.pk: item for item in allowed.filter(pk__in=ids)}
    errors, seen = [], set()
    for index, pk in enumerate(ids):
        if pk in seen:
            errors.append(
                {"pointer": f"/evidence/{index}", "code": "duplicate", "detail": "this file is named twice"}
            )
        elif pk not in found:
            errors.append(
                {
                    "pointer": f"/evidence/{index}",
                    "code": "does_not_exist",
                    "detail": (
                        f"evidence file {pk} is neither a file of this request nor of a submitted revision of "
                        f"this report: upload it with POST /api/v1/requests/{request.pk}/evidence/"
                    ),
                }
            )
        seen.add(pk)
    if errors:
        raise InvalidRequest("an answer names evidence files of its request or of its report", errors)
    return [found[pk] for pk in ids]


def request_evidence_upload(
    *,
    request: InformationRequest,
    by: AbstractBaseUser,
    file: IO[bytes],
    filename: str,
    kind: str,
    description: str = "",
    sha256: str | None = None,
    size: int | None = None,
) -> Evidence:
    """Store ``file`` as evidence for a request that is open or answered (the checks, storage and hashing
    of every evidence upload: :mod:`mrv.services.evidence`). The row is attached to the revision under
    verification, outside its own evidence: that revision's digest and evidence list do not change."""
    checked = evidence_store.checked_file(file, filename=filename, sha256=sha256, size=size)
    if request.status == Status.CLOSED:  # refused before storing anything (checked again, locked)
        raise _request_closed(request)

    def insert(stored: str) -> Evidence:
        job = _lock_job(request.job_id)
        locked = _lock_request(request.pk)
        if locked.status == Status.CLOSED:
            raise _request_closed(locked)
        evidence = Evidence.objects.create(
            revision_id=job.revision_id,
            request=locked,
            kind=kind,
            description=description,
            storage_name=stored,
            uploaded_by=by,
            **checked,
        )
        audit_record(
            actor=by,
            action="request.evidence_upload",
            object_type="information_request",
            object_id=locked.pk,
            facility=job.revision.report.facility,
            after_digest=checked["sha256"],
            data={"job": job.pk, "revision": job.revision.number, **evidence_store.described(evidence)},
        )
        return evidence

    return evidence_store.stored_then_inserted(file, content_type=checked["content_type"], insert=insert)


@transaction.atomic
def request_evidence_delete(*, evidence: Evidence, by: AbstractBaseUser) -> None:
    """Remove a file uploaded for a request, while the request is not closed and no answer names it."""
    assert evidence.request_id is not None
    job = _lock_job(evidence.request.job_id)
    request = _lock_request(evidence.request_id)
    if request.status == Status.CLOSED:
        raise _request_closed(request)
    if AnswerEvidence.objects.filter(evidence=evidence).exists():
        raise EvidenceFrozen(
            f"evidence file {evidence.pk} is named by an answer to request {request.pk}: it is kept for good"
        )
    deleted, _ = Evidence.objects.filter(pk=evidence.pk).delete()
    if not deleted:
        raise Http404("no such evidence file")
    audit_record(
        actor=by,
        action="request.evidence_delete",
        object_type="information_request",
        object_id=request.pk,
        facility=job.revision.report.facility,
        before_digest=evidence.sha256,
        data={"job": job.pk, "revision": job.revision.number, **evidence_store.described(evidence)},
    )
    evidence_store.remove_unless_named({evidence.storage_name})


def _request_closed(request: InformationRequest) -> EvidenceFrozen:
    return EvidenceFrozen(
        f"request {request.pk} is closed: its evidence is final; ask the verifier to open a new request"
    )


@transaction.atomic
def request_close(*, request: InformationRequest, by: AbstractBaseUser, note: str = "") -> InformationRequest:
    """The claiming verifier closes a request, answered or not (a question withdrawn, or settled)."""
    job = job_in_review_by(job=request.job, by=by)
    request = _lock_request(request.pk)
    if request.status == Status.CLOSED:
        raise Conflict("the request is closed already")
    before = request.status
    request.status, request.closed_by, request.closed_at = Status.CLOSED, by, timezone.now()
    request.closing_note = note.strip()
    request.save(update_fields=["status", "closed_by", "closed_at", "closing_note"])
    audit_record(
        actor=by,
        action="request.close",
        object_type="information_request",
        object_id=request.pk,
        facility=job.revision.report.facility,
        data={"job": job.pk, "status_before": before, "note": request.closing_note},
    )
    request.job = job
    request_closed(request=request)
    return request


# -- the moments of the conversation: notifications here, the events publisher wired here too ------------
def _about(request: InformationRequest) -> dict[str, Any]:
    report = request.job.revision.report
    return {
        "request": request.pk,
        "job": request.job_id,
        "report": report.pk,
        "facility": report.facility_id,
        "due_date": request.due_date.isoformat(),
    }


def _period(request: InformationRequest) -> str:
    report = request.job.revision.report
    return f"{report.year}-{report.month:02d}" if report.month else str(report.year)


def request_opened(*, request: InformationRequest) -> None:
    """``request.opened``: the operator's users are told."""
    facility = request.job.revision.report.facility
    notify(
        users=operator_users_of(facility),
        kind=Notification.Kind.REQUEST_OPENED,
        subject=f"{facility.name}: the verifier asks for information on the report of {_period(request)}",
        body=(
            f"Request {request.pk}, to answer by {request.due_date}: {request.question}\n"
            f"Answer with POST /api/v1/requests/{request.pk}/answers/"
        ),
        data=_about(request),
    )
    events.publish(
        "request.opened", organisation_ids=events.job_parties(request.job, facility), data=_about(request)
    )


def request_answered(*, request: InformationRequest, answer: RequestAnswer) -> None:
    """``request.answered``: the verifier who claimed the job is told; a job nobody holds now (released,
    or moved to another body with its facility) tells the verifiers of the body that has it."""
    facility = request.job.revision.report.facility
    claimed = request.job.claimed_by_id
    notify(
        users=(
            get_user_model().objects.filter(pk=claimed)
            if claimed
            else body_users_of(request.job.verification_body_id)
        ),
        kind=Notification.Kind.REQUEST_ANSWERED,
        subject=f"{facility.name}: the operator answered request {request.pk}",
        body=f"{answer.text}\nClose it with POST /api/v1/requests/{request.pk}/close/",
        data={**_about(request), "answer": answer.pk},
    )
    events.publish(
        "request.answered",
        organisation_ids=events.job_parties(request.job, facility),
        data={**_about(request), "answer": answer.pk},
    )


def request_closed(*, request: InformationRequest) -> None:
    """A request closed: the operator's users are told."""
    facility = request.job.revision.report.facility
    notify(
        users=operator_users_of(facility),
        kind=Notification.Kind.REQUEST_CLOSED,
        subject=f"{facility.name}: the verifier closed request {request.pk}",
        body=f"Request {request.pk} is closed. {request.closing_note}".strip(),
        data=_about(request),
    )
