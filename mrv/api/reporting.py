"""Organisations, facilities, reports, revisions, line imports and the audit trail.

Thin views: validate input → call a service or a selector → serialize. Lookups go through the
scoping selectors, so an object outside the user's scope is a 404.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.errors import FieldError, InvalidInput
from mrv import i18n
from mrv.api import serializers as s
from mrv.api.idempotency import idempotent
from mrv.api.lookups import MAX_ID, query, report_for, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import BoundedMultiPartParser, DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsOperator, IsReadOnly, IsRegulator, IsSubmitter
from mrv.api.quotas import ImportedRows
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.api.retry import retrying
from mrv.domain import certification, linefiles
from mrv.domain.provinces import CHOICES as PROVINCE_CHOICES
from mrv.errors import Conflict, InvalidRequest
from mrv.models import AuditEvent, Facility, ImportJob, Organisation, Report, ReportRevision
from mrv.selectors import listing, scoping
from mrv.selectors import reports as report_selectors
from mrv.selectors.checks import draft_checks
from mrv.services import facilities as facility_services
from mrv.services import reports as report_services
from mrv.services.imports import import_job_create
from mrv.services.organisations import organisation_create
from mrv.services.templates import template_table

READ_OR_REGULATOR = IsAuthenticated & HasOrganisation & (IsReadOnly | IsRegulator)
READ_OR_OPERATOR = IsAuthenticated & HasOrganisation & (IsReadOnly | IsOperator)


# -- organisations -----------------------------------------------------------------------------------
class OrganisationListView(generics.ListAPIView):
    serializer_class = s.OrganisationOutput
    permission_classes = [READ_OR_REGULATOR]

    def get_queryset(self) -> QuerySet[Organisation]:
        return scoping.organisations_visible_to(self.request.user).order_by("name", "id")

    @extend_schema(request=s.OrganisationInput, responses={201: s.OrganisationOutput})
    @retrying
    def post(self, request: Request) -> Response:
        data = s.OrganisationInput(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = organisation_create(by=request.user, **data.validated_data)
        return Response(s.OrganisationOutput(organisation).data, status=201)


class OrganisationDetailView(generics.RetrieveAPIView):
    serializer_class = s.OrganisationOutput
    permission_classes = [IsAuthenticated & HasOrganisation]

    def get_queryset(self) -> QuerySet[Organisation]:
        return scoping.organisations_visible_to(self.request.user)


# -- facilities ----------------------------------------------------------------------------------------
class FacilityListView(generics.ListAPIView):
    serializer_class = s.FacilityOutput
    permission_classes = [READ_OR_REGULATOR]

    class FilterSerializer(serializers.Serializer):
        sector = serializers.ChoiceField(choices=Facility.Sector.choices, required=False)
        province = serializers.ChoiceField(choices=PROVINCE_CHOICES, required=False)

    @extend_schema(parameters=[FilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Facility]:
        filters = query(self.FilterSerializer, self.request)
        return listing.facility_list(user=self.request.user, filters=filters)

    @extend_schema(request=s.FacilityInput, responses={201: s.FacilityOutput})
    @retrying
    def post(self, request: Request) -> Response:
        data = s.FacilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        _within_jurisdiction(request, data.validated_data.get("province"))
        facility = facility_services.facility_create(by=request.user, **data.validated_data)
        return Response(s.FacilityOutput(facility).data, status=201)


def _within_jurisdiction(request: Request, province: str | None) -> None:
    """A provincial authority registers and moves facilities within its provinces only."""
    if province is not None and not scoping.within_jurisdiction(request.user, province):
        provinces = ", ".join(scoping.jurisdiction_of(request.user) or [])
        detail = f"{province} is outside your authority's jurisdiction ({provinces})"
        raise InvalidRequest(
            detail, [{"pointer": "/province", "code": "outside_jurisdiction", "detail": detail}]
        )


class FacilityDetailView(generics.RetrieveAPIView):
    serializer_class = s.FacilityOutput
    permission_classes = [IsAuthenticated & HasOrganisation]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Facility]:
        return scoping.facilities_visible_to(self.request.user)

    @extend_schema(request=s.FacilityInput, responses={200: s.FacilityOutput})
    @retrying
    def patch(self, request: Request, pk: int) -> Response:
        facility = self.get_object()
        require(request, IsRegulator)
        data = s.FacilityInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        _within_jurisdiction(request, data.validated_data.get("province"))
        facility = facility_services.facility_update(
            by=request.user, facility=facility, **data.validated_data
        )
        return Response(s.FacilityOutput(facility).data)


# -- reports ----------------------------------------------------------------------------------------------
def _lines(request: Request, *, required: bool) -> Any:
    lines = request.data.get("lines") if isinstance(request.data, dict) else None
    if lines is None and not required:
        return None
    if not isinstance(lines, list):
        raise InvalidInput(
            "lines must be a list", [FieldError("/lines", "required", "a list of activity lines")]
        )
    return lines


def _shown_revision(request: Request, report: Report) -> ReportRevision:
    revision = scoping.revisions_visible_to(request.user, report=report).order_by("-number").first()
    assert revision is not None  # the scoping selector only finds reports with a visible revision
    return revision


class ReportListView(APIView):
    permission_classes = [READ_OR_OPERATOR]
    parser_classes = [DecimalJSONParser]

    class FilterSerializer(serializers.Serializer):
        facility = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        year = serializers.IntegerField(min_value=1990, max_value=2100, required=False)
        status = serializers.ChoiceField(
            choices=ReportRevision.Status.choices,
            required=False,
            help_text="status of the revision each report shows (for a verifier: the latest submitted)",
        )
        sector = serializers.ChoiceField(choices=Facility.Sector.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: s.ReportPage},
    )
    def get(self, request: Request) -> Response:
        filters = query(self.FilterSerializer, request)
        reports = report_selectors.report_list(user=request.user, filters=filters)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(reports, request, view=self)
        rows = [
            s.report_summary(report, report_selectors.shown_revision(user=request.user, report=report))
            for report in page or []
        ]
        return paginator.get_paginated_response(s.ReportSummaryOutput(rows, many=True).data)

    @extend_schema(
        request=s.ReportCreate,
        responses={201: s.ReportDetailOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    @retrying
    def post(self, request: Request) -> Response:
        def perform() -> tuple[int, dict[str, Any]]:
            data = s.ReportInput(
                data={k: v for k, v in request.data.items() if k not in ("lines", "cbam")}
                if isinstance(request.data, dict)
                else request.data
            )
            data.is_valid(raise_exception=True)
            values = data.validated_data
            facility = scoping.facility_visible_to(request.user, values["facility"])
            if facility is None:
                raise InvalidRequest(
                    "unknown facility",
                    [
                        {
                            "pointer": "/facility",
                            "code": "does_not_exist",
                            "detail": "no facility of yours has this id",
                        }
                    ],
                )
            lines = _lines(request, required=False) or []  # none: an empty draft, filled by import
            draft = report_services.report_create(
                by=request.user,
                facility=facility,
                year=values["year"],
                month=values.get("month"),
                methodology=values.get("methodology"),
                methodology_version=values.get("methodology_version"),
                lines=lines,
                cbam=request.data.get("cbam"),
            )
            return 201, s.ReportDetailOutput(
                s.report_detail(draft.report, draft.revision, lines=lines, calculation=draft.calculation)
            ).data

        return idempotent(request, scope="reports.create", perform=perform)


class ReportDetailView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: s.ReportDetailOutput}, operation_id="reports_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        return Response(s.ReportDetailOutput(s.report_detail(report, _shown_revision(request, report))).data)

    @extend_schema(request=s.ReportUpdate, responses={200: s.ReportDetailOutput})
    @retrying
    def patch(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        data = s.ReportUpdateInput(
            data={k: v for k, v in request.data.items() if k not in ("lines", "cbam")}
            if isinstance(request.data, dict)
            else request.data
        )
        data.is_valid(raise_exception=True)
        draft = report_services.report_update(
            by=request.user,
            report=report,
            methodology=data.validated_data.get("methodology"),
            methodology_version=data.validated_data.get("methodology_version"),
            lines=_lines(request, required=False),
            cbam=request.data["cbam"]
            if isinstance(request.data, dict) and "cbam" in request.data
            else report_services.UNCHANGED,
        )
        return Response(
            s.ReportDetailOutput(
                s.report_detail(draft.report, draft.revision, calculation=draft.calculation)
            ).data
        )

    @extend_schema(responses={204: None})
    @retrying
    def delete(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        report_services.report_delete(by=request.user, report=report)
        return Response(status=204)


class SubmitInput(serializers.Serializer):
    certify = serializers.BooleanField(
        required=False, help_text="true: I confirm the certification statement (GET this URL shows it)"
    )
    statement = serializers.CharField(
        required=False, help_text="or the statement itself, exactly as GET this URL shows it"
    )


class SubmitStatementOutput(serializers.Serializer):
    statement = serializers.CharField(help_text="what the submitter certifies")
    may_submit = serializers.BooleanField(help_text="whether the membership this request acts for may submit")
    capability = serializers.CharField(allow_null=True, help_text="preparer or submitter")


class ReportSubmitView(APIView):
    """GET: the certification statement a submitter confirms. POST ``{"certify": true}``: a submitter
    submits the draft, certifying it (a preparer: 403)."""

    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: SubmitStatementOutput}, operation_id="reports_submit_statement")
    def get(self, request: Request, pk: int) -> Response:
        report_for(request, pk)
        require(request, IsOperator)
        document = {
            "statement": certification.STATEMENT,
            "may_submit": scoping.may_submit(request.user),
            "capability": scoping.capability_of(request.user),
        }
        return Response(SubmitStatementOutput(document).data)

    @extend_schema(
        request=SubmitInput,
        responses={202: s.ReportSummaryOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        require(request, IsSubmitter)
        data = SubmitInput(data=request.data if isinstance(request.data, dict) else {})
        data.is_valid(raise_exception=True)
        certified = data.validated_data.get("certify") is True or (
            data.validated_data.get("statement", "").strip() == certification.STATEMENT
        )
        if not certified:
            detail = (
                'Confirm the certification statement to submit: send {"certify": true} '
                "(GET this URL shows the statement)"
            )
            raise InvalidRequest(
                detail, [{"pointer": "/certify", "code": "certification_required", "detail": detail}]
            )
        acting = scoping.membership(request.user)

        def perform() -> tuple[int, dict[str, Any]]:
            revision = report_services.report_submit(by=request.user, report=report, certified_for=acting)
            return 202, s.ReportSummaryOutput(s.report_summary(report, revision)).data

        return idempotent(request, scope=f"reports.{report.pk}.submit", perform=perform)


class ReportChecksView(APIView):
    """The automated checks a draft can run before it is submitted (completeness, physical limits,
    plausibility, unit slips, monthly coverage, share of defaults): its findings, nothing stored."""

    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(
        responses={
            200: s.DraftChecksOutput,
            409: OpenApiResponse(description="The report has no draft: its latest revision was submitted."),
        },
        operation_id="reports_checks",
    )
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        revision = _shown_revision(request, report)
        if revision.status != ReportRevision.Status.DRAFT:
            raise Conflict(
                f"revision {revision.number} is {revision.status}: the checks run on a draft; a submitted "
                "revision's findings are those of its verification job"
            )
        return Response(s.DraftChecksOutput(draft_checks(report=report, revision=revision)).data)


class ReportReviseView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(request=None, responses={201: s.ReportSummaryOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        revision = report_services.report_revise(by=request.user, report=report)
        return Response(s.ReportSummaryOutput(s.report_summary(report, revision)).data, status=201)


class ReportRevisionListView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(responses={200: s.RevisionPage})
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        revisions = scoping.revisions_visible_to(request.user, report=report).order_by("number")
        page = {"count": len(revisions), "next": None, "previous": None, "results": revisions}
        return Response(s.RevisionPage(page).data)


class AcceptHeaderNegotiation(DefaultContentNegotiation):
    """Content negotiation by the ``Accept`` header only: where ``?format=`` is a parameter of the view
    (the uploaded file's format), it must not select a renderer (DRF's URL format override)."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


class ReportLinesImportView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [BoundedMultiPartParser]
    content_negotiation_class = AcceptHeaderNegotiation
    throttle_classes = [*APIView.throttle_classes, ImportedRows]  # lines per minute per user

    class QuerySerializer(serializers.Serializer):
        format = serializers.ChoiceField(
            choices=linefiles.FORMATS,
            required=False,
            help_text="the file's format; by default the file name's extension (.csv or .xlsx)",
        )
        dry_run = serializers.BooleanField(required=False, help_text="check the file, store nothing")
        background = serializers.BooleanField(
            required=False, help_text="import as a job; follow it at /api/v1/import-jobs/{id}/"
        )
        mode = serializers.ChoiceField(
            choices=["replace", "append"],
            required=False,
            help_text="replace the draft's lines (default) or append to them",
        )

    @extend_schema(
        request={"multipart/form-data": inline_serializer("LineFile", {"file": serializers.FileField()})},
        parameters=[QuerySerializer],
        responses={200: s.ImportSummaryOutput, 202: s.ImportJobOutput},
    )
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        options = query(self.QuerySerializer, request)
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None or not hasattr(upload, "read"):
            raise InvalidRequest(
                "upload the file as multipart form field 'file'",
                [{"pointer": "/file", "code": "required", "detail": "a CSV or XLSX file"}],
            )
        file_format = options.get("format") or (upload.name or "").rsplit(".", 1)[-1].lower()
        if file_format not in linefiles.FORMATS:
            raise InvalidRequest(
                "the file must be .csv or .xlsx (or say which with ?format=csv|xlsx)",
                [{"pointer": "/file", "code": "unsupported_format", "detail": "csv or xlsx"}],
            )
        arguments = {
            "by": request.user,
            "report": report,
            "content": upload.read(),
            "file_format": file_format,
            "dry_run": options.get("dry_run", False),
            "append": options.get("mode") == "append",
        }
        if options.get("background"):
            job = import_job_create(**arguments)
            return Response(s.ImportJobOutput(import_job_json(job)).data, status=202)
        return Response(s.ImportSummaryOutput(report_services.lines_import(**arguments)).data)


class LineTemplateView(APIView):
    """The CSV/XLSX template of a sector's activity lines (``?format=csv|xlsx``), with example rows."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [CSVRenderer, XLSXRenderer, JSONRenderer]

    class FilterSerializer(serializers.Serializer):
        sector = serializers.ChoiceField(
            choices=list(linefiles.SECTOR_KINDS), help_text="the sector's line kinds"
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
            (200, "application/json"): s.LineTemplateOutput,
        },
    )
    def get(self, request: Request) -> Response:
        sector = query(self.FilterSerializer, request)["sector"]
        return Response(template_table(sector=sector, chinese=i18n.chinese()))  # headers in the language


def import_job_json(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "report": job.report_id,
        "status": job.status,
        "progress": job.progress,
        "file_format": job.file_format,
        "dry_run": job.dry_run,
        "append": job.append,
        "outcome": job.outcome,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


class ImportJobDetailView(APIView):
    """A background import: status, progress, and the summary or the bad cells."""

    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(responses={200: s.ImportJobOutput}, operation_id="import_jobs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(scoping.import_jobs_visible_to(request.user), pk=pk)
        return Response(s.ImportJobOutput(import_job_json(job)).data)


# -- audit trail ---------------------------------------------------------------------------------------
class AuditEventListView(generics.ListAPIView):
    serializer_class = s.AuditEventOutput
    permission_classes = [IsAuthenticated & HasOrganisation]

    class FilterSerializer(serializers.Serializer):
        object_type = serializers.CharField(max_length=32, required=False, help_text="e.g. report, facility")
        object_id = serializers.CharField(max_length=64, required=False)
        action = serializers.CharField(max_length=64, required=False, help_text="e.g. report.submit")

    @extend_schema(parameters=[FilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        filters = query(self.FilterSerializer, self.request)
        return listing.audit_event_list(user=self.request.user, filters=filters)
