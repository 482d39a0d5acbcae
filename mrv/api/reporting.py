"""Organisations, facilities, reports, revisions, line imports and the audit trail.

Thin views: validate input → call a service or a selector → serialize. Lookups go through the
scoping selectors, so an object outside the user's scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.errors import FieldError, InvalidInput
from mrv.api import serializers as s
from mrv.api.idempotency import idempotent
from mrv.api.lookups import choice_filter, int_filter, report_for, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import BoundedMultiPartParser, DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsOperator, IsReadOnly, IsRegulator
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.domain import linefiles
from mrv.domain.provinces import PROVINCES
from mrv.errors import InvalidRequest
from mrv.models import AuditEvent, Facility, ImportJob, Organisation, Report, ReportRevision
from mrv.selectors import scoping
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

    @extend_schema(parameters=[OpenApiParameter("sector", str), OpenApiParameter("province", str)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Facility]:
        facilities = scoping.facilities_visible_to(self.request.user).order_by("name", "id")
        for name, choices in (("sector", Facility.Sector.values), ("province", list(PROVINCES))):
            value = choice_filter(self.request, name, choices)
            if value:
                facilities = facilities.filter(**{name: value})
        return facilities

    @extend_schema(request=s.FacilityInput, responses={201: s.FacilityOutput})
    def post(self, request: Request) -> Response:
        data = s.FacilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        facility = facility_services.facility_create(by=request.user, **data.validated_data)
        return Response(s.FacilityOutput(facility).data, status=201)


class FacilityDetailView(generics.RetrieveAPIView):
    serializer_class = s.FacilityOutput
    permission_classes = [IsAuthenticated & HasOrganisation]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Facility]:
        return scoping.facilities_visible_to(self.request.user)

    @extend_schema(request=s.FacilityInput, responses={200: s.FacilityOutput})
    def patch(self, request: Request, pk: int) -> Response:
        facility = self.get_object()
        require(request, IsRegulator)
        data = s.FacilityInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
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


REPORT_OBJECT = OpenApiTypes.OBJECT


class ReportListView(APIView):
    permission_classes = [READ_OR_OPERATOR]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("facility", int),
            OpenApiParameter("year", int),
            OpenApiParameter("status", str, enum=ReportRevision.Status.values),
            OpenApiParameter("sector", str, enum=Facility.Sector.values),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: REPORT_OBJECT},
    )
    def get(self, request: Request) -> Response:
        reports = scoping.reports_visible_to(request.user).prefetch_related("revisions__verification_jobs")
        for name, field in (("facility", "facility_id"), ("year", "year")):
            value = int_filter(request, name)
            if value is not None:
                reports = reports.filter(**{field: value})
        status = choice_filter(request, "status", ReportRevision.Status.values)
        if status:
            reports = reports.filter(status=status)
        sector = choice_filter(request, "sector", Facility.Sector.values)
        if sector:
            reports = reports.filter(facility__sector=sector)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            reports.order_by("-year", "facility_id", "month", "id"), request, view=self
        )
        verifier = scoping.role_of(request.user) == scoping.VERIFIER
        rows = []
        for report in page or []:
            revisions = sorted(report.revisions.all(), key=lambda r: r.number, reverse=True)
            shown = next(r for r in revisions if not verifier or r.status != ReportRevision.Status.DRAFT)
            rows.append(s.report_summary(report, shown))
        return paginator.get_paginated_response(rows)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: REPORT_OBJECT},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request) -> Response:
        def perform() -> tuple[int, dict[str, Any]]:
            data = s.ReportInput(
                data={k: v for k, v in request.data.items() if k != "lines"}
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
            draft = report_services.report_create(
                by=request.user,
                facility=facility,
                year=values["year"],
                month=values.get("month"),
                methodology=values.get("methodology"),
                methodology_version=values.get("methodology_version"),
                lines=_lines(request, required=True),
            )
            return 201, s.report_detail(
                draft.report,
                draft.revision,
                lines=_lines(request, required=True),
                calculation=draft.calculation,
            )

        return idempotent(request, scope="reports.create", perform=perform)


class ReportDetailView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: REPORT_OBJECT}, operation_id="reports_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        return Response(s.report_detail(report, _shown_revision(request, report)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: REPORT_OBJECT})
    def patch(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        data = s.ReportUpdateInput(
            data={k: v for k, v in request.data.items() if k != "lines"}
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
        )
        return Response(s.report_detail(draft.report, draft.revision, calculation=draft.calculation))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        report_services.report_delete(by=request.user, report=report)
        return Response(status=204)


class ReportSubmitView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        request=None,
        responses={202: REPORT_OBJECT},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)

        def perform() -> tuple[int, dict[str, Any]]:
            revision = report_services.report_submit(by=request.user, report=report)
            return 202, s.report_summary(report, revision)

        return idempotent(request, scope=f"reports.{report.pk}.submit", perform=perform)


class ReportReviseView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(request=None, responses={201: REPORT_OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        revision = report_services.report_revise(by=request.user, report=report)
        return Response(s.report_summary(report, revision), status=201)


class ReportRevisionListView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(responses={200: s.RevisionOutput(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        revisions = scoping.revisions_visible_to(request.user, report=report).order_by("number")
        return Response(
            {
                "count": len(revisions),
                "next": None,
                "previous": None,
                "results": s.RevisionOutput(revisions, many=True).data,
            }
        )


class ReportLinesImportView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [BoundedMultiPartParser]

    @extend_schema(
        request={"multipart/form-data": inline_serializer("LineFile", {"file": serializers.FileField()})},
        parameters=[
            OpenApiParameter("dry_run", bool),
            OpenApiParameter(
                "background", bool, description="import as a job; follow it at /api/v1/import-jobs/{id}/"
            ),
            OpenApiParameter("mode", str, enum=["replace", "append"]),
            OpenApiParameter("format", str, enum=list(linefiles.FORMATS)),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None or not hasattr(upload, "read"):
            raise InvalidRequest(
                "upload the file as multipart form field 'file'",
                [{"pointer": "/file", "code": "required", "detail": "a CSV or XLSX file"}],
            )
        file_format = (request.query_params.get("file_format") or upload.name.rsplit(".", 1)[-1]).lower()
        if file_format not in linefiles.FORMATS:
            raise InvalidRequest(
                "the file must be .csv or .xlsx",
                [{"pointer": "/file", "code": "unsupported_format", "detail": "csv or xlsx"}],
            )
        if request.query_params.get("background", "").lower() in ("1", "true", "yes"):
            job = import_job_create(
                by=request.user,
                report=report,
                content=upload.read(),
                file_format=file_format,
                dry_run=request.query_params.get("dry_run", "").lower() in ("1", "true", "yes"),
                append=request.query_params.get("mode") == "append",
            )
            return Response(import_job_json(job), status=202)
        summary = report_services.lines_import(
            by=request.user,
            report=report,
            content=upload.read(),
            file_format=file_format,
            dry_run=request.query_params.get("dry_run", "").lower() in ("1", "true", "yes"),
            append=request.query_params.get("mode") == "append",
        )
        return Response(summary)


class LineTemplateView(APIView):
    """The CSV/XLSX template of a sector's activity lines (``?format=csv|xlsx``), with example rows."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [CSVRenderer, XLSXRenderer, JSONRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("sector", str, enum=list(linefiles.SECTOR_KINDS), required=True)],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request) -> Response:
        sector = request.query_params.get("sector", "")
        if sector not in linefiles.SECTOR_KINDS:
            raise InvalidRequest(
                "choose a sector: cement, steel or aluminium",
                [{"pointer": "/query/sector", "code": "invalid", "detail": "unknown sector"}],
            )
        return Response(template_table(sector=sector))


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

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="import_jobs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        jobs = ImportJob.objects.filter(report__in=scoping.reports_visible_to(request.user))
        return Response(import_job_json(get_object_or_404(jobs, pk=pk)))


# -- audit trail ---------------------------------------------------------------------------------------
class AuditEventListView(generics.ListAPIView):
    serializer_class = s.AuditEventOutput
    permission_classes = [IsAuthenticated & HasOrganisation]

    @extend_schema(
        parameters=[
            OpenApiParameter("object_type", str),
            OpenApiParameter("object_id", str),
            OpenApiParameter("action", str),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        events = scoping.audit_events_visible_to(self.request.user).order_by("-sequence")
        for name in ("object_type", "object_id", "action"):
            value = self.request.query_params.get(name)
            if value:
                events = events.filter(**{name: value})
        return events
