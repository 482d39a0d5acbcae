"""Monitoring plans: the operator drafts, edits and submits a version; the regulator approves or returns it.

Thin views: validate input → call a service or a selector → serialize. Lookups go through the scoping
selectors (``mrv.selectors.plans``): a plan outside the user's scope is a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.idempotency import idempotent
from mrv.api.lookups import MAX_ID, query, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import BoundedMultiPartParser, DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsOperator, IsPlanSubmitter, IsReadOnly, IsRegulator
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.api.reporting import AcceptHeaderNegotiation
from mrv.api.retry import retrying
from mrv.domain import linefiles
from mrv.domain import plans as plan_data
from mrv.errors import InvalidRequest
from mrv.models import MonitoringPlan
from mrv.selectors import plans as selectors
from mrv.selectors import scoping
from mrv.services import plans as services

SIGNED_IN = IsAuthenticated & HasOrganisation


# -- serializers ------------------------------------------------------------------------------------------
class PlanParameterOutput(serializers.Serializer):
    determination = serializers.ChoiceField(choices=plan_data.DETERMINATIONS, help_text="获取方式")
    method = serializers.CharField(help_text="how the value is obtained (standard, formula, source)")
    instrument = serializers.CharField(allow_blank=True)
    frequency = serializers.ChoiceField(choices=plan_data.FREQUENCIES)
    uncertainty_percent = serializers.CharField(allow_null=True, help_text="exact decimal, percent")
    tier = serializers.CharField(allow_null=True)
    missing_data_rule = serializers.CharField(allow_blank=True)


class PlanSourceOutput(serializers.Serializer):
    ref = serializers.CharField(help_text="the activity line ref this source is reported under")
    source = serializers.CharField(help_text="the line kind (fuel_combustion, clinker_carbonate, ...)")
    description = serializers.CharField(allow_blank=True)
    parameters = serializers.DictField(child=PlanParameterOutput())


class PlanOutput(serializers.Serializer):
    id = serializers.IntegerField()
    facility = serializers.IntegerField(source="facility_id")
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MonitoringPlan.Status.choices)
    valid_from = serializers.DateField()
    methodology = serializers.CharField()
    sources = PlanSourceOutput(many=True)
    quality_assurance = serializers.CharField(allow_blank=True)
    digest = serializers.CharField(
        allow_blank=True, help_text="SHA-256 of the canonical content, once submitted"
    )
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)


class PlanPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PlanOutput(many=True)


@extend_schema_field(PlanSourceOutput(many=True))
class PlanSourcesField(serializers.ListField):
    """The plan's sources as sent: validated field by field in :mod:`mrv.domain.plans` (with pointers);
    documented with the shape they are read back in."""

    child = serializers.DictField()


class PlanInput(serializers.Serializer):
    facility = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    valid_from = serializers.DateField()
    methodology = serializers.CharField(max_length=32)
    sources = PlanSourcesField(help_text="[{ref, source, description, parameters: {NAME: {...}}}]")
    quality_assurance = serializers.CharField(allow_blank=True, required=False, default="")


class PlanUpdateInput(serializers.Serializer):
    valid_from = serializers.DateField(required=False)
    methodology = serializers.CharField(max_length=32, required=False)
    sources = PlanSourcesField(required=False)
    quality_assurance = serializers.CharField(allow_blank=True, required=False)


class DecisionInput(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, required=False, default="", max_length=4000)


def _plan(request: Request, pk: int) -> MonitoringPlan:
    return get_object_or_404(
        selectors.plans_visible_to(request.user).select_related("created_by", "decided_by"), pk=pk
    )


def _out(plan: MonitoringPlan) -> dict[str, Any]:
    return dict(PlanOutput(plan).data)


# -- views ------------------------------------------------------------------------------------------------
class PlanListView(APIView):
    permission_classes = [SIGNED_IN & (IsReadOnly | IsOperator)]
    parser_classes = [DecimalJSONParser]

    class FilterSerializer(serializers.Serializer):
        facility = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        status = serializers.ChoiceField(choices=MonitoringPlan.Status.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: PlanPage}, operation_id="monitoring_plans_list"
    )
    def get(self, request: Request) -> Response:
        found = selectors.plan_list(user=request.user, filters=query(self.FilterSerializer, request))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            found.select_related("created_by", "decided_by"), request, view=self
        )
        return paginator.get_paginated_response(PlanOutput(page, many=True).data)

    @extend_schema(
        request=PlanInput,
        responses={201: PlanOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    @retrying
    def post(self, request: Request) -> Response:
        def perform() -> tuple[int, dict[str, Any]]:
            data = PlanInput(data=request.data)
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            facility = scoping.facility_visible_to(request.user, values.pop("facility"))
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
            plan = services.plan_create(by=request.user, facility=facility, **values)
            return 201, _out(plan)

        return idempotent(request, scope="monitoring-plans.create", perform=perform)


class PlanDetailView(APIView):
    permission_classes = [SIGNED_IN]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: PlanOutput}, operation_id="monitoring_plans_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(_out(_plan(request, pk)))

    @extend_schema(request=PlanUpdateInput, responses={200: PlanOutput})
    @retrying
    def patch(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsOperator)
        data = PlanUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_out(services.plan_update(by=request.user, plan=plan, **data.validated_data)))

    @extend_schema(responses={204: None})
    @retrying
    def delete(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsOperator)
        services.plan_delete(by=request.user, plan=plan)
        return Response(status=204)


class PlanSubmitView(APIView):
    permission_classes = [SIGNED_IN]

    @extend_schema(request=None, responses={200: PlanOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsOperator)
        require(request, IsPlanSubmitter)
        return Response(_out(services.plan_submit(by=request.user, plan=plan)))


class PlanDecisionView(APIView):
    """The regulator's decision on a submitted version: approve (it comes into force from its
    ``valid_from`` and is immutable) or return with a comment."""

    permission_classes = [SIGNED_IN]
    parser_classes = [DecimalJSONParser]
    approve = True

    @extend_schema(request=DecisionInput, responses={200: PlanOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsRegulator)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.plan_decide(
            by=request.user, plan=plan, approve=self.approve, comment=data.validated_data["comment"]
        )
        return Response(_out(plan))


class PlanApproveView(PlanDecisionView):
    approve = True


class PlanReturnView(PlanDecisionView):
    approve = False


class FacilityPlanView(APIView):
    """The approved plan version in force for a facility on a date (default: today)."""

    permission_classes = [SIGNED_IN]

    class FilterSerializer(serializers.Serializer):
        on = serializers.DateField(required=False, help_text="the date (default: today)")

    @extend_schema(
        parameters=[FilterSerializer], responses={200: PlanOutput}, operation_id="facility_monitoring_plan"
    )
    def get(self, request: Request, pk: int) -> Response:
        facility = get_object_or_404(scoping.facilities_visible_to(request.user), pk=pk)
        on = query(self.FilterSerializer, request).get("on") or date.today()
        plan = selectors.facility_plan(facility=facility, on=on)
        if plan is None:
            raise Http404(f"{facility} has no approved monitoring plan in force on {on.isoformat()}")
        return Response(_out(plan))


# -- the parameter table: import a draft's sources from CSV/XLSX, and the template ----------------------------
class PlanImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField(help_text="data rows read")
    sources = serializers.IntegerField()
    parameters = serializers.IntegerField()
    plan = PlanOutput(allow_null=True, help_text="the draft as stored (null on a dry run)")


class PlanParametersImportView(APIView):
    """Replace a DRAFT plan's sources with a parameter table (CSV: UTF-8, with or without BOM, or
    GB18030; XLSX), one row per source and parameter, columns as the template's. All or nothing: bad
    cells are a 400 problem with each error's ``row`` and ``column``; a submitted or approved version
    is a 409."""

    permission_classes = [SIGNED_IN]
    parser_classes = [BoundedMultiPartParser]
    content_negotiation_class = AcceptHeaderNegotiation

    class QuerySerializer(serializers.Serializer):
        format = serializers.ChoiceField(
            choices=linefiles.FORMATS,
            required=False,
            help_text="the file's format; by default the file name's extension (.csv or .xlsx)",
        )
        dry_run = serializers.BooleanField(required=False, help_text="check the file, store nothing")

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer("PlanParameterFile", {"file": serializers.FileField()})
        },
        parameters=[QuerySerializer],
        responses={200: PlanImportOutput},
    )
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
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
        dry_run = options.get("dry_run", False)
        summary = services.plan_parameters_import(
            by=request.user, plan=plan, content=upload.read(), file_format=file_format, dry_run=dry_run
        )
        summary["plan"] = None if dry_run else _plan(request, pk)
        return Response(PlanImportOutput(summary).data)


class PlanParametersTemplateView(APIView):
    """The parameter table's template (``?format=csv|xlsx``): its columns and two example rows."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [CSVRenderer, XLSXRenderer, JSONRenderer]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
            (200, "application/json"): inline_serializer(
                "PlanParameterTemplate",
                {
                    "columns": serializers.ListField(child=serializers.CharField()),
                    "rows": serializers.ListField(
                        child=serializers.DictField(child=serializers.CharField(allow_blank=True))
                    ),
                    "filename": serializers.CharField(),
                },
            ),
        },
        operation_id="monitoring_plan_parameters_template",
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "columns": list(plan_data.TABLE_COLUMNS),
                "rows": [dict(row) for row in plan_data.TEMPLATE_ROWS],
                "filename": "mrv-monitoring-plan-parameters",
            }
        )
