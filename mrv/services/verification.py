"""Verification: jobs created on submit, automated checks (run by a Celery task), the verifier's
claim, findings and their answers, materiality and the opinion that settles the revision.

A positive opinion (``verified``, ``verified_with_comments``) needs: misstatements not material, no
automated error finding (errors are never set aside: the operator corrects the report), and every
automated warning answered by the claiming verifier (acknowledged with a note, or turned into a
misstatement), each answer recorded in the audit trail. Info findings need no answer.

The automated run is idempotent: the job row is locked while its state changes, a finished job is
never run again, and its automated findings are replaced as a whole, so a task delivered twice (a
worker killed after the work, a broker redelivery, a sweeper re-enqueue) leaves one set of findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.utils import timezone

import accounting
from accounting.errors import AccountingError
from accounting.numbers import plain, present
from mrv.domain import checks
from mrv.domain.plans import Plan
from mrv.errors import Conflict, InvalidRequest, ServiceError
from mrv.models import ActivityLine, Finding, Report, ReportRevision, VerificationJob
from mrv.selectors.deposits import accepted_monthly
from mrv.selectors.plans import plan_for_period
from mrv.selectors.reports import calculation_of, revision_calculation, revision_lines
from mrv.services import events
from mrv.services.audit import audit_record
from mrv.services.background import RUN_VERIFICATION_CHECKS, enqueue_on_commit, running_cutoff
from mrv.services.reports import revision_transition

Job = VerificationJob
Status = VerificationJob.Status
RevisionStatus = ReportRevision.Status
MATERIALITY_LARGE_EMITTER = Decimal(500_000)
LARGE_THRESHOLD, SMALL_THRESHOLD = Decimal(2), Decimal(5)
VERIFYING_OPINIONS = (Job.Opinion.VERIFIED, Job.Opinion.VERIFIED_WITH_COMMENTS)
#: Shortest note a verifier may answer an automated finding with.
MIN_NOTE = 20


def _enqueue(job: VerificationJob) -> None:
    enqueue_on_commit(RUN_VERIFICATION_CHECKS, job.pk)


def _body_of(revision: ReportRevision) -> int | None:
    """The verification body of the revision's facility now: the body a new job is recorded for."""
    if ReportRevision.report.is_cached(revision) and Report.facility.is_cached(revision.report):
        return revision.report.facility.verification_body_id
    bodies = Report.objects.filter(pk=revision.report_id).values_list("facility__verification_body_id")
    return bodies[0][0]


def job_create_for_submission(*, revision: ReportRevision) -> VerificationJob:
    """Create the verification job of a revision being submitted; queued when the transaction commits.

    Called by ``report_submit`` under the revision's row lock, once per revision (a revision leaves
    draft once); the unique ``key`` makes a second job for the same revision and checks impossible.
    """
    job = VerificationJob.objects.create(
        key=f"{revision.pk}:verification:{checks.CHECK_VERSION}",
        revision=revision,
        verification_body_id=_body_of(revision),
        kind=Job.Kind.VERIFICATION,
        check_version=checks.CHECK_VERSION,
        enqueued_at=timezone.now(),
    )
    _enqueue(job)
    return job


@transaction.atomic
def job_create_recalculation(*, by: AbstractBaseUser, report: Report, methodology: str) -> VerificationJob:
    """Recalculate a report's latest submitted revision under another methodology (a methodology change)."""
    try:
        target = accounting.get(methodology)
    except accounting.UnknownMethodology as error:
        raise InvalidRequest(
            error.detail, [{"pointer": "/methodology", "code": error.code, "detail": error.detail}]
        ) from error
    revision = report.revisions.exclude(status=RevisionStatus.DRAFT).order_by("-number").first()
    if revision is None:
        raise Conflict("the report has no submitted revision to recalculate")
    key = f"{revision.pk}:recalculation:{target.code}:{target.version}"
    job, created = VerificationJob.objects.get_or_create(
        key=key,
        defaults={
            "revision": revision,
            "verification_body_id": report.facility.verification_body_id,
            "kind": Job.Kind.RECALCULATION,
            "check_version": checks.CHECK_VERSION,
            "target_methodology": target.code,
            "target_methodology_version": target.version,
            "enqueued_at": timezone.now(),
        },
    )
    if created:
        audit_record(
            actor=by,
            action="job.recalculation",
            object_type="verification_job",
            object_id=job.pk,
            facility=report.facility,
            data={"revision": revision.number, "methodology": target.code, "version": target.version},
        )
        _enqueue(job)
    return job


# -- the automated run ---------------------------------------------------------------------------------------
def checks_run(*, job_id: int, retries: int = 0) -> str:
    """Run a job's automated checks; returns what happened (for logs). Safe to call any number of times.

    ``retries``: how many times the task was retried after a transient error; the runs started beyond
    those were deliveries that never finished (a killed worker), capped at ``MRV_JOB_MAX_ATTEMPTS``.
    """
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(of=("self",))
            .select_related("revision__report__facility")
            .get(pk=job_id)
        )
        if job.status not in (Status.QUEUED, Status.RUNNING):
            return f"skipped: job is {job.status}"
        if job.attempts - retries >= settings.MRV_JOB_MAX_ATTEMPTS:  # the redelivery cap
            job.status, job.failure_reason = Status.FAILED, gave_up(job.attempts)
            job.save(update_fields=["status", "failure_reason"])
            return "failed: gave up"
        now = timezone.now()
        job.status, job.started_at, job.progress, job.attempts = Status.RUNNING, now, 0, job.attempts + 1
        job.save(update_fields=["status", "started_at", "progress", "attempts"])
        if job.kind == Job.Kind.VERIFICATION and job.revision.status == RevisionStatus.SUBMITTED:
            revision_transition(revision=job.revision, status=RevisionStatus.CHECKS_RUNNING)
    try:
        findings, recalculation, plan = _evaluate(job)
    except (AccountingError, ServiceError) as error:  # frozen inputs that no longer calculate: not retried
        _fail(job_id, f"{error.code}: {error.detail}")
        return "failed"
    with transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("revision").get(pk=job_id)
        if job.status != Status.RUNNING:
            return f"skipped: job became {job.status}"
        job.findings.filter(source=Finding.Source.AUTOMATED).delete()
        Finding.objects.bulk_create(
            Finding(
                job=job,
                source=Finding.Source.AUTOMATED,
                code=f.code,
                severity=f.severity,
                detail=f.detail,
                pointer=f.pointer,
                line_ref=f.line_ref,
                value=f.value[:100],
                expected=f.expected[:100],
            )
            for f in _unique(findings)
        )
        job.status = Status.AWAITING_REVIEW if job.kind == Job.Kind.VERIFICATION else Status.COMPLETED
        job.checked_at, job.progress, job.recalculation = timezone.now(), 100, recalculation
        job.monitoring_plan_id = plan.id if plan is not None else None
        if job.kind == Job.Kind.RECALCULATION:
            job.completed_at = job.checked_at
        job.save(
            update_fields=[
                "status",
                "checked_at",
                "progress",
                "recalculation",
                "completed_at",
                "monitoring_plan",
            ]
        )
        if job.kind == Job.Kind.VERIFICATION and job.revision.status in (
            RevisionStatus.SUBMITTED,
            RevisionStatus.CHECKS_RUNNING,
        ):
            revision_transition(
                revision=job.revision,
                status=RevisionStatus.IN_VERIFICATION,
                data={"job": job.pk, "findings": len(findings)},
            )
        if job.status == Status.AWAITING_REVIEW:
            events.publish_awaiting_review(job, findings=len(findings))
    return f"done: {len(findings)} finding(s)"


def _unique(findings: Iterable[checks.Finding]) -> list[checks.Finding]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for finding in findings:
        if (finding.code, finding.pointer) not in seen:
            seen.add((finding.code, finding.pointer))
            unique.append(finding)
    return unique


def _fail(job_id: int, reason: str) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status == Status.RUNNING:
            job.status, job.failure_reason = Status.FAILED, reason[:2000]
            job.save(update_fields=["status", "failure_reason"])


def _evaluate(job: VerificationJob) -> tuple[list[checks.Finding], dict[str, Any], Plan | None]:
    revision = job.revision
    report = revision.report  # its sector is the one it was filed under, whatever the facility's now
    lines = revision_lines(revision=revision)
    if job.target_methodology:  # a recalculation under another methodology
        calculation = calculation_of(
            sector=report.sector,
            year=report.year,
            methodology=job.target_methodology,
            methodology_version=job.target_methodology_version or None,
            lines=lines,
        )
    else:  # the independent recalculation under the revision's own methodology version
        calculation = revision_calculation(report=report, revision=revision, lines=lines)
    total = calculation.totals.total
    stored_total = _stored_figure(revision, "total")
    recalculation = {
        "methodology": calculation.methodology.code,
        "methodology_version": calculation.methodology.version,
        "stored_methodology": revision.methodology,
        "stored_methodology_version": revision.methodology_version,
        "total": plain(present(total)),
        "stored_total": plain(stored_total),
        "difference": plain(present(total - stored_total)),
    }
    if job.kind == Job.Kind.RECALCULATION:
        return [], recalculation, None
    stored = [
        checks.StoredLine(*row)
        for row in ActivityLine.objects.filter(revision=revision)
        .order_by("index")
        .values_list("co2e", "co2", "cf4", "c2f6")
    ]
    previous = _previous_verified(report)
    monthly = _monthly_direct(report)
    data = checks.CheckInput(
        sector=report.sector,
        year=report.year,
        methodology=calculation.methodology,
        lines=lines,
        calculation=calculation,
        stored_lines=stored,
        stored_totals=revision.totals.get("totals") or {},
        previous_intensity=previous[0],
        previous_year=previous[1],
        monthly_direct=monthly[0],
        monthly_reports=monthly[1],
        peer_band=_peer_band(report.sector, report.year, report.facility_id),
        plan=plan_for_period(facility_id=report.facility_id, year=report.year, month=report.month),
        accepted_monthly=(
            accepted_monthly(facility_id=report.facility_id, year=report.year)
            if report.month is None
            else None
        ),
    )
    progress = _progress_reporter(job.pk)
    return checks.run_checks(data, progress), recalculation, data.plan


def _progress_reporter(job_id: int) -> Any:
    def report(percent: int) -> None:
        Job.objects.filter(pk=job_id, status=Status.RUNNING).update(progress=min(percent, 99))

    return report


def _previous_verified(report: Report) -> tuple[Decimal | None, int | None]:
    """Direct intensity of the facility's last verified annual report before this one's year."""
    revision = (
        ReportRevision.objects.filter(
            report__facility_id=report.facility_id,
            report__month__isnull=True,
            report__year__lt=report.year,
            status=RevisionStatus.VERIFIED,
        )
        .select_related("report")
        .order_by("-report__year", "-number")
        .first()
    )
    if revision is None:
        return None, None
    intensity = (revision.totals or {}).get("intensity") or {}
    value = intensity.get("direct")
    return (Decimal(value) if value else None), revision.report.year


def _monthly_direct(report: Report) -> tuple[Decimal | None, int]:
    """Sum of the direct totals of the facility's submitted monthly reports of the same year."""
    if report.month is not None:
        return None, 0
    total, count = Decimal(0), 0
    monthly = Report.objects.filter(facility_id=report.facility_id, year=report.year, month__isnull=False)
    for monthly_report in monthly:
        revision = monthly_report.revisions.exclude(status=RevisionStatus.DRAFT).order_by("-number").first()
        if revision is not None:
            total += _stored_figure(revision, "direct")
            count += 1
    return (total if count else None), count


def _peer_band(sector: str, year: int, facility_id: int) -> tuple[Decimal, Decimal] | None:
    """The sector's intensity range among other facilities (filled in by the regulator view's comparison)."""
    from mrv.selectors.comparison import peer_band

    return peer_band(sector=sector, year=year, exclude_facility=facility_id)


# -- the verifier's review -------------------------------------------------------------------------------------
def job_claim(*, job: VerificationJob, by: AbstractBaseUser) -> VerificationJob:
    """Take an awaiting job into review; atomic: of two verifiers claiming at once, one wins."""
    with transaction.atomic():
        claimed = Job.objects.filter(
            pk=job.pk, status=Status.AWAITING_REVIEW, claimed_by__isnull=True
        ).update(status=Status.IN_REVIEW, claimed_by=by, claimed_at=timezone.now())
        if not claimed:
            job.refresh_from_db()
            raise Conflict(
                f"the job is {job.status}" + (" and claimed by another verifier" if job.claimed_by_id else "")
            )
        job.refresh_from_db()
        audit_record(
            actor=by,
            action="job.claim",
            object_type="verification_job",
            object_id=job.pk,
            facility=job.revision.report.facility,
        )
    return job


def job_in_review_by(*, job: VerificationJob, by: AbstractBaseUser) -> VerificationJob:
    """The job locked FOR UPDATE, if it is in review and ``by`` claimed it (409 otherwise): what every
    action of the reviewing verifier needs (findings, answers, requests for information, the opinion)."""
    return _in_review_by(job, by)


def _in_review_by(job: VerificationJob, by: AbstractBaseUser) -> VerificationJob:
    locked = (
        Job.objects.select_for_update(of=("self",))
        .select_related("revision__report__facility")
        .get(pk=job.pk)
    )
    if locked.status != Status.IN_REVIEW:
        raise Conflict(f"the job is {locked.status}, not in review")
    if locked.claimed_by_id != by.pk:
        raise Conflict("only the verifier who claimed the job may do this")
    return locked


@transaction.atomic
def finding_add(
    *,
    job: VerificationJob,
    by: AbstractBaseUser,
    code: str,
    severity: str,
    detail: str,
    line_ref: str = "",
    misstatement_co2e: Decimal | None = None,
) -> Finding:
    job = _in_review_by(job, by)
    pointer = ""
    if line_ref:
        index = (
            ActivityLine.objects.filter(revision=job.revision, ref=line_ref)
            .values_list("index", flat=True)
            .first()
        )
        if index is None:
            raise InvalidRequest(
                "no line of the revision has this ref",
                [{"pointer": "/line_ref", "code": "does_not_exist", "detail": "unknown line ref"}],
            )
        pointer = f"/lines/{index}"
    finding = Finding.objects.create(
        job=job,
        source=Finding.Source.VERIFIER,
        code=code,
        severity=severity,
        detail=detail,
        pointer=pointer,
        line_ref=line_ref,
        misstatement_co2e=misstatement_co2e,
        created_by=by,
    )
    audit_record(
        actor=by,
        action="finding.add",
        object_type="verification_job",
        object_id=job.pk,
        facility=job.revision.report.facility,
        data={
            "finding": finding.pk,
            "code": code,
            "severity": severity,
            "misstatement_co2e": misstatement_co2e,
        },
    )
    return finding


@transaction.atomic
def finding_acknowledge(
    *,
    job: VerificationJob,
    finding_id: int,
    by: AbstractBaseUser,
    note: str,
    misstatement_co2e: Decimal | None = None,
) -> Finding:
    """Answer an automated warning (or info): acknowledged with the verifier's note and, when
    ``misstatement_co2e`` is given, turned into a misstatement that counts towards materiality.

    An error finding cannot be answered: it is a figure beyond physical limits, a stored figure that
    does not recalculate or a report without what its sector requires, and only a corrected revision
    removes it. Each answer is final and recorded in the audit trail.
    """
    job = _in_review_by(job, by)
    finding = job.findings.filter(pk=finding_id).first()
    if finding is None:
        raise InvalidRequest(
            "no such finding on this job",
            [{"pointer": "/finding", "code": "does_not_exist", "detail": "unknown finding"}],
        )
    if finding.source != Finding.Source.AUTOMATED:
        raise Conflict("only automated findings are answered; your own findings stand as you wrote them")
    if finding.severity == Finding.Severity.ERROR:
        raise Conflict(
            f"{finding.code} is an error: it cannot be acknowledged. Give the opinion not_verified so "
            "that the operator corrects the report and submits a new revision"
        )
    if finding.acknowledged:
        raise Conflict("the finding has already been answered")
    note = note.strip()
    if len(note) < MIN_NOTE:
        raise InvalidRequest(
            f"a note of at least {MIN_NOTE} characters is required",
            [{"pointer": "/note", "code": "too_short", "detail": "say what you checked"}],
        )
    finding.acknowledged, finding.acknowledgement_note = True, note
    finding.acknowledged_by, finding.acknowledged_at = by, timezone.now()
    finding.misstatement_co2e = misstatement_co2e
    finding.save(
        update_fields=[
            "acknowledged",
            "acknowledgement_note",
            "acknowledged_by",
            "acknowledged_at",
            "misstatement_co2e",
        ]
    )
    audit_record(
        actor=by,
        action="finding.acknowledge",
        object_type="verification_job",
        object_id=job.pk,
        facility=job.revision.report.facility,
        data={
            "finding": finding.pk,
            "code": finding.code,
            "severity": finding.severity,
            "note": note,
            "misstatement_co2e": misstatement_co2e,
        },
    )
    return finding


def materiality_figures(*, reported_total: Decimal, misstatements: Iterable[Decimal]) -> dict[str, Any]:
    """EU AVR Art. 23: the sum of misstatements against the reported total; material above 5 %,
    or above 2 % when the reported total exceeds 500 kt CO2e."""
    threshold = LARGE_THRESHOLD if reported_total > MATERIALITY_LARGE_EMITTER else SMALL_THRESHOLD
    misstatement = sum((abs(m) for m in misstatements), Decimal(0))
    percent = misstatement / abs(reported_total) * 100 if reported_total else Decimal(0)
    return {
        "reported_total_co2e": present(reported_total),
        "threshold_percent": threshold,
        "misstatement_co2e": present(misstatement),
        "percent": present(percent, 6),
        "material": percent > threshold,
    }


def _stored_figure(revision: ReportRevision, name: str) -> Decimal:
    """A stored total of a revision (``total``, ``direct``...): 0 where the revision stored none."""
    return Decimal(str(((revision.totals or {}).get("totals") or {}).get(name, "0")))


def materiality(job: VerificationJob) -> dict[str, Any]:
    """Materiality of a job's misstatements against the revision's reported total: those of the
    verifier's own findings and of the automated findings the verifier turned into misstatements."""
    total = _stored_figure(job.revision, "total")
    return materiality_figures(
        reported_total=total,
        misstatements=(f.misstatement_co2e for f in job.findings.all() if f.misstatement_co2e is not None),
    )


def blocking_findings(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that stand in the way of a positive opinion: every automated error, and every
    automated warning the verifier has not answered."""
    return [
        f
        for f in findings
        if f.source == Finding.Source.AUTOMATED
        and (
            f.severity == Finding.Severity.ERROR
            or (f.severity == Finding.Severity.WARNING and not f.acknowledged)
        )
    ]


@transaction.atomic
def opinion_issue(
    *, job: VerificationJob, by: AbstractBaseUser, opinion: str, statement: str
) -> VerificationJob:
    """Record the opinion; the revision becomes verified or returned. Every request for information
    of the job must be closed first (the job awaits no answer, and every answer was settled)."""
    job = _in_review_by(job, by)
    unsettled = list(job.information_requests.exclude(status="closed").values_list("pk", "status"))
    if unsettled:
        raise Conflict(
            f"{len(unsettled)} request(s) for information of this job are not closed: close each with POST "
            "/api/v1/requests/{id}/close/ before giving the opinion",
            [
                {
                    "pointer": "",
                    "code": f"request_{status}",
                    "detail": f"request {pk} is {status}",
                    "request": pk,
                }
                for pk, status in unsettled
            ],
        )
    figures = materiality(job)
    if opinion in VERIFYING_OPINIONS:
        if figures["material"]:
            raise Conflict("misstatements are material: the opinion can only be not_verified")
        blocking = blocking_findings(job.findings.all())
        if blocking:
            raise _opinion_refused(job, blocking)
    now = timezone.now()
    job.opinion, job.statement, job.status, job.completed_at = opinion, statement, Status.COMPLETED, now
    job.materiality = {
        key: plain(value) if isinstance(value, Decimal) else value for key, value in figures.items()
    }
    job.save(update_fields=["opinion", "statement", "status", "completed_at", "materiality"])
    status = RevisionStatus.VERIFIED if opinion in VERIFYING_OPINIONS else RevisionStatus.RETURNED
    revision = revision_transition(
        revision=job.revision,
        status=status,
        by=by,
        data={"job": job.pk, "opinion": opinion, "material": figures["material"]},
    )
    events.publish(
        "opinion.issued",
        organisation_ids=events.job_parties(job, revision.report.facility),
        data={
            **events.job_data(job),
            "opinion": opinion,
            "material": figures["material"],
            "revision_status": revision.status,
        },
    )
    return job


def _opinion_refused(job: VerificationJob, blocking: list[Finding]) -> Conflict:
    errors = sum(1 for f in blocking if f.severity == Finding.Severity.ERROR)
    warnings = len(blocking) - errors
    steps = []
    if errors:
        steps.append(
            f"{errors} error finding(s) cannot be set aside: give the opinion not_verified so that the "
            "operator corrects the report and submits a new revision"
        )
    if warnings:
        steps.append(
            f"{warnings} warning(s) are unanswered: answer each with POST /api/v1/verification-jobs/"
            f"{job.pk}/findings/{{finding}}/acknowledge/ and a note (add misstatement_co2e to turn it "
            "into a misstatement)"
        )
    return Conflict(
        "a positive opinion needs every automated finding settled; " + "; ".join(steps),
        [
            {
                "pointer": "",
                "code": "error_finding" if f.severity == Finding.Severity.ERROR else "unanswered_warning",
                "detail": f"{f.severity} {f.code} at {f.pointer or '/'}: {f.detail}",
                "finding": f.pk,
            }
            for f in blocking
        ],
    )


# -- nothing stuck: the sweeper, failures from outside the run, the regulator's re-run -----------------------
def gave_up(attempts: int) -> str:
    return (
        f"gave up: {attempts} run(s) started and none finished (its worker was killed or lost, for example "
        "out of memory); not run again until a regulator re-runs it"
    )


def jobs_requeue_stuck(*, older_than: timedelta, running_older_than: timedelta | None = None) -> int:
    """Publish again jobs left queued for longer than ``older_than`` (a lost message, a broker that was
    down at submit); end ``failed`` those still running ``running_older_than`` after their last run
    started (by default: the hard time limit, the broker's visibility timeout and MRV_JOB_STUCK_SECONDS),
    which no limit, redelivery or worker will ever finish. Returns how many jobs moved.

    A re-published job that runs twice is harmless (see :func:`checks_run`); every run counts against
    ``MRV_JOB_MAX_ATTEMPTS``, so nothing is published again forever.
    """
    now = timezone.now()
    running_older_than = running_older_than or running_cutoff(settings.MRV_TASK_TIME_LIMIT)
    queued = list(Job.objects.filter(status=Status.QUEUED, enqueued_at__lt=now - older_than))
    for job in queued:
        if Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(enqueued_at=now):
            _enqueue(job)
    seconds = int(running_older_than.total_seconds())
    reason = (
        f"timed out: no outcome {seconds} s after its run started, past its hard time limit "
        f"({settings.MRV_TASK_TIME_LIMIT} s); the run was stopped or its worker lost"
    )
    running = Job.objects.filter(status=Status.RUNNING, started_at__lt=now - running_older_than)
    failed = sum(job_fail(job_id=pk, reason=reason) for pk in running.values_list("pk", flat=True))
    return len(queued) + failed


def job_fail(*, job_id: int, reason: str, nowait: bool = False) -> bool:
    """End a queued or running job ``failed`` with ``reason`` (its task stopped from outside the run: a
    time limit, a lost worker). ``nowait``: give up at once if the row is locked (the sweeper ends it
    later) rather than wait. True if this call ended it."""
    try:
        with transaction.atomic():
            job = Job.objects.select_for_update(nowait=nowait).filter(pk=job_id).first()
            if job is None or job.status not in (Status.QUEUED, Status.RUNNING):
                return False
            job.status, job.failure_reason = Status.FAILED, reason[:2000]
            job.save(update_fields=["status", "failure_reason"])
            return True
    except DatabaseError:
        if not nowait:
            raise
        return False


@transaction.atomic
def job_rerun(*, job: VerificationJob, by: AbstractBaseUser) -> VerificationJob:
    """Run a failed job's automated checks again (a regulator's decision, after a time-out or a lost
    worker): queued afresh, its attempts counted from zero; the failure it replaces is kept in the
    audit trail (``job.rerun``)."""
    jobs = Job.objects.select_for_update(of=("self",)).select_related("revision__report__facility")
    locked = jobs.get(pk=job.pk)
    if locked.status != Status.FAILED:
        raise Conflict(f"only a failed job is run again; this one is {locked.status}")
    audit_record(
        actor=by,
        action="job.rerun",
        object_type="verification_job",
        object_id=locked.pk,
        facility=locked.revision.report.facility,
        data={"kind": locked.kind, "failure_reason": locked.failure_reason, "attempts": locked.attempts},
    )
    locked.status, locked.failure_reason, locked.attempts, locked.progress = Status.QUEUED, "", 0, 0
    locked.started_at, locked.enqueued_at = None, timezone.now()
    locked.save(
        update_fields=["status", "failure_reason", "attempts", "progress", "started_at", "enqueued_at"]
    )
    _enqueue(locked)
    return locked
