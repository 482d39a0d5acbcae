"""The verifier's queue: verification jobs, claim, findings, answers to automated findings, opinion;
recalculation jobs."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api import serializers as out
from mrv.api.lookups import query, report_for, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsRegulator, IsVerifier
from mrv.api.retry import retrying
from mrv.i18n import translate_finding
from mrv.models import AWAITING_OPERATOR, JOB_STATUSES_SHOWN, Finding, InformationRequest, VerificationJob
from mrv.selectors import listing, scoping
from mrv.services import verification as services

VIEWER = IsAuthenticated & HasOrganisation


class FindingInput(serializers.Serializer):
    code = serializers.RegexField(r"^[a-z][a-z0-9_]{1,63}$", max_length=64)
    severity = serializers.ChoiceField(choices=Finding.Severity.choices)
    detail = serializers.CharField(max_length=4000)
    line_ref = serializers.CharField(max_length=64, required=False, allow_blank=True)
    misstatement_co2e = serializers.DecimalField(
        max_digits=28, decimal_places=9, required=False, allow_null=True
    )


class AcknowledgeInput(serializers.Serializer):
    """The verifier's answer to an automated warning: a note, and the misstatement it amounts to if any."""

    note = serializers.CharField(max_length=4000)
    misstatement_co2e = serializers.DecimalField(
        max_digits=28, decimal_places=9, required=False, allow_null=True
    )


class OpinionInput(serializers.Serializer):
    opinion = serializers.ChoiceField(choices=VerificationJob.Opinion.choices)
    statement = serializers.CharField(max_length=20000)


class RecalculationInput(serializers.Serializer):
    methodology = serializers.CharField(max_length=32)


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding as the API shows it: an automated finding's texts in the request's language (stored in
    English with its code; :func:`mrv.i18n.translate_finding`)."""
    return translate_finding(_finding_fields(finding))


def _finding_fields(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "source": finding.source,
        "code": finding.code,
        "severity": finding.severity,
        "detail": finding.detail,
        "pointer": finding.pointer,
        "line_ref": finding.line_ref or None,
        "value": finding.value or None,
        "expected": finding.expected or None,
        "misstatement_co2e": finding.misstatement_co2e,
        "acknowledged": finding.acknowledged,
        "acknowledgement_note": finding.acknowledgement_note or None,
        "acknowledged_at": finding.acknowledged_at,
        "awaiting_answer": finding.source == Finding.Source.AUTOMATED
        and finding.severity == Finding.Severity.WARNING
        and not finding.acknowledged,
        "created_at": finding.created_at,
    }


def job_json(job: VerificationJob, *, with_findings: bool = True) -> dict[str, Any]:
    revision = job.revision
    findings = list(job.findings.all())
    body: dict[str, Any] = {
        "id": job.pk,
        "kind": job.kind,
        "report": revision.report_id,
        "revision": revision.number,
        "facility": revision.report.facility_id,
        "sector": revision.report.sector,
        "year": revision.report.year,
        "month": revision.report.month,
        "digest": revision.digest,
        "status": shown_status(job),
        "progress": job.progress,
        "attempts": job.attempts,
        "failure_reason": job.failure_reason or None,
        "check_version": job.check_version,
        "target_methodology": job.target_methodology or None,
        "claimed_by": job.claimed_by.get_username() if job.claimed_by else None,
        "claimed_at": job.claimed_at,
        "opinion": job.opinion or None,
        "statement": job.statement or None,
        "materiality": job.materiality or services.materiality(job),
        "recalculation": job.recalculation,
        "monitoring_plan": job.monitoring_plan_id,
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "checked_at": job.checked_at,
        "completed_at": job.completed_at,
        "finding_counts": {
            s: sum(1 for f in findings if f.severity == s and not f.acknowledged)
            for s in Finding.Severity.values
        },
    }
    if with_findings:
        body["findings"] = [finding_json(f) for f in findings]
    return body


def shown_status(job: VerificationJob) -> str:
    """The job's status, ``awaiting_operator`` while in review with a request awaiting the operator
    (annotated by the job list, else one query for a job in review)."""
    if job.status != VerificationJob.Status.IN_REVIEW:
        return job.status
    awaiting = getattr(job, "awaiting_operator", None)
    if awaiting is None:
        awaiting = job.information_requests.filter(status=InformationRequest.Status.OPEN).exists()
    return AWAITING_OPERATOR if awaiting else job.status


def _job(request: Request, pk: int) -> VerificationJob:
    return get_object_or_404(scoping.jobs_visible_to(request.user), pk=pk)


class JobListView(APIView):
    permission_classes = [VIEWER]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=JOB_STATUSES_SHOWN, required=False)
        kind = serializers.ChoiceField(choices=VerificationJob.Kind.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: out.VerificationJobPage},
        operation_id="verification_jobs_list",
    )
    def get(self, request: Request) -> Response:
        jobs = listing.job_list(user=request.user, filters=query(self.FilterSerializer, request))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        rows = [job_json(job, with_findings=False) for job in page or []]
        return paginator.get_paginated_response(out.VerificationJobOutput(rows, many=True).data)


class JobDetailView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(responses={200: out.VerificationJobOutput}, operation_id="verification_jobs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(out.VerificationJobOutput(job_json(_job(request, pk))).data)


class JobClaimView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(request=None, responses={200: out.VerificationJobOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        return Response(
            out.VerificationJobOutput(job_json(services.job_claim(job=job, by=request.user))).data
        )


class JobFindingsView(APIView):
    permission_classes = [VIEWER]
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=FindingInput, responses={201: out.FindingOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        data = FindingInput(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.finding_add(job=job, by=request.user, **data.validated_data)
        return Response(out.FindingOutput(finding_json(finding)).data, status=201)


class FindingAcknowledgeView(APIView):
    permission_classes = [VIEWER]
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=AcknowledgeInput, responses={200: out.FindingOutput})
    @retrying
    def post(self, request: Request, pk: int, finding: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        data = AcknowledgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.finding_acknowledge(
            job=job, finding_id=finding, by=request.user, **data.validated_data
        )
        return Response(out.FindingOutput(finding_json(result)).data)


class JobOpinionView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(request=OpinionInput, responses={200: out.VerificationJobOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        data = OpinionInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.opinion_issue(job=job, by=request.user, **data.validated_data)
        return Response(out.VerificationJobOutput(job_json(job)).data)


class JobRerunView(APIView):
    """A regulator runs a failed job again (timed out, its worker lost, gave up): 202, queued afresh."""

    permission_classes = [VIEWER]

    @extend_schema(request=None, responses={202: out.VerificationJobOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsRegulator)
        job = services.job_rerun(job=job, by=request.user)
        return Response(out.VerificationJobOutput(job_json(job)).data, status=202)


class ReportRecalculateView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(request=RecalculationInput, responses={202: out.VerificationJobOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsRegulator)
        data = RecalculationInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_create_recalculation(by=request.user, report=report, **data.validated_data)
        return Response(out.VerificationJobOutput(job_json(job)).data, status=202)
