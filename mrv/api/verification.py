"""The verifier's queue: verification jobs, claim, findings, answers to automated findings, opinion;
recalculation jobs."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.lookups import choice_filter, report_for, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsRegulator, IsVerifier
from mrv.models import Finding, VerificationJob
from mrv.selectors import scoping
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
        "sector": revision.report.facility.sector,
        "year": revision.report.year,
        "digest": revision.digest,
        "status": job.status,
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


def _job(request: Request, pk: int) -> VerificationJob:
    return get_object_or_404(scoping.jobs_visible_to(request.user), pk=pk)


class JobListView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=VerificationJob.Status.values),
            OpenApiParameter("kind", str, enum=VerificationJob.Kind.values),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
        operation_id="verification_jobs_list",
    )
    def get(self, request: Request) -> Response:
        jobs = (
            scoping.jobs_visible_to(request.user).prefetch_related("findings").order_by("enqueued_at", "id")
        )
        status = choice_filter(request, "status", VerificationJob.Status.values)
        if status:
            jobs = jobs.filter(status=status)
        kind = choice_filter(request, "kind", VerificationJob.Kind.values)
        if kind:
            jobs = jobs.filter(kind=kind)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response([job_json(job, with_findings=False) for job in page or []])


class JobDetailView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="verification_jobs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(job_json(_job(request, pk)))


class JobClaimView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        return Response(job_json(services.job_claim(job=job, by=request.user)))


class JobFindingsView(APIView):
    permission_classes = [VIEWER]
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=FindingInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        data = FindingInput(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.finding_add(job=job, by=request.user, **data.validated_data)
        return Response(finding_json(finding), status=201)


class FindingAcknowledgeView(APIView):
    permission_classes = [VIEWER]
    parser_classes = [DecimalJSONParser]

    @extend_schema(request=AcknowledgeInput, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int, finding: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        data = AcknowledgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.finding_acknowledge(
            job=job, finding_id=finding, by=request.user, **data.validated_data
        )
        return Response(finding_json(result))


class JobOpinionView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(request=OpinionInput, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsVerifier)
        data = OpinionInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(job_json(services.opinion_issue(job=job, by=request.user, **data.validated_data)))


class ReportRecalculateView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(request=RecalculationInput, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsRegulator)
        data = RecalculationInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_create_recalculation(by=request.user, report=report, **data.validated_data)
        return Response(job_json(job), status=202)
