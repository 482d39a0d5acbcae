"""Allocation and compliance (SPEC §11): allocation plans and their runs (regulator), allocations, the
compliance balance per facility, surrenders (operator), and the regulator's aggregates with exports.

Thin views: validate input → call a service or a selector → serialize. Every lookup goes through the
scoping selectors (:mod:`mrv.selectors.scoping`): an object outside the user's scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.lookups import MAX_ID, query, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsOperator, IsRegulator
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.api.retry import retrying
from mrv.api.serializers import DecimalString
from mrv.domain import allocation as rules
from mrv.models import Allocation, AllocationPlan, AllocationRun, Facility
from mrv.selectors import allocation as selectors
from mrv.selectors import scoping
from mrv.services import allocation as services

SIGNED_IN = IsAuthenticated & HasOrganisation
YEAR = {"min_value": 2000, "max_value": 2100}


# -- serializers ------------------------------------------------------------------------------------------
class BenchmarkSerializer(serializers.Serializer):
    value = DecimalString(help_text="tCO2 per tonne of the product (exact decimal)")
    unit = serializers.ChoiceField(choices=rules.BENCHMARK_UNITS)


class RuleSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=rules.METHODS)
    benchmark = BenchmarkSerializer(required=False, help_text="intensity_benchmark only")
    factors = serializers.DictField(
        child=DecimalString(), required=False, help_text="intensity_benchmark only: NAME → factor, multiplied"
    )


class RulesField(serializers.DictField):
    """``{PRODUCT: rule}``: validated field by field in :mod:`mrv.domain.allocation` (with pointers)."""

    child = RuleSerializer()

    def to_internal_value(self, data: Any) -> Any:
        return data  # mrv.domain.allocation.validate_rules checks it, with a pointer per fault


class AllocationPlanInput(serializers.Serializer):
    code = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", help_text="the plan's reference")
    year = serializers.IntegerField(**YEAR, help_text="the compliance year")
    rules = RulesField(help_text="PRODUCT (clinker, crude_steel, aluminium_liquid) → rule")
    preallocation_share = serializers.DecimalField(max_digits=7, decimal_places=6, min_value=0, max_value=1)
    offset_limit_share = serializers.DecimalField(max_digits=7, decimal_places=6, min_value=0, max_value=1)
    surrender_due = serializers.DateField()
    illustrative = serializers.BooleanField(
        required=False, default=False, help_text="the values are examples, not an authority's figures"
    )


class AllocationPlanUpdate(serializers.Serializer):
    code = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", required=False)
    rules = RulesField(required=False)
    preallocation_share = serializers.DecimalField(
        max_digits=7, decimal_places=6, min_value=0, max_value=1, required=False
    )
    offset_limit_share = serializers.DecimalField(
        max_digits=7, decimal_places=6, min_value=0, max_value=1, required=False
    )
    surrender_due = serializers.DateField(required=False)
    illustrative = serializers.BooleanField(required=False)


class AllocationPlanOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    year = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AllocationPlan.Status.choices)
    rules = serializers.DictField(child=RuleSerializer())
    preallocation_share = DecimalString()
    offset_limit_share = DecimalString()
    surrender_due = serializers.DateField()
    illustrative = serializers.BooleanField()
    digest = serializers.CharField(
        allow_blank=True, help_text="SHA-256 of the canonical content, once published"
    )
    created_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)


class AllocationPlanPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AllocationPlanOutput(many=True)


class AllocationRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    plan = serializers.IntegerField(source="plan_id")
    kind = serializers.ChoiceField(choices=AllocationRun.Kind.choices)
    status = serializers.ChoiceField(choices=AllocationRun.Status.choices)
    facilities = serializers.IntegerField(help_text="facilities in the requester's scope")
    batches = serializers.SerializerMethodField()
    batches_done = serializers.SerializerMethodField()
    changed = serializers.IntegerField(help_text="allocation rows created or changed")
    failure_reason = serializers.CharField(allow_blank=True)
    enqueued_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_batches(self, run: AllocationRun) -> int:
        return len(run.ranges)

    def get_batches_done(self, run: AllocationRun) -> int:
        return len(run.done)


class AllocationBasisOutput(serializers.Serializer):
    """What an allocation was computed from: the verified revision and its figures, and the exact result."""

    year = serializers.IntegerField(help_text="the year of the verified report used")
    revision = serializers.IntegerField(help_text="the verified revision's id")
    direct = DecimalString(required=False, help_text="the unit's verified direct emissions, tCO2e")
    exact = DecimalString(required=False, help_text="the allocation before rounding to whole allowances")
    output = DecimalString(required=False, help_text="intensity_benchmark: the unit's output, t")
    benchmark = DecimalString(required=False, help_text="intensity_benchmark: tCO2/t")
    factors = serializers.DictField(child=DecimalString(), required=False)
    absent = serializers.BooleanField(required=False, help_text="the unit is absent from the verified report")


class AllocationOutput(serializers.Serializer):
    plan = serializers.CharField(source="plan.code")
    year = serializers.IntegerField(source="plan.year")
    facility = serializers.IntegerField(source="facility_id")
    unit = serializers.CharField(allow_blank=True, help_text="the production unit; empty: the whole facility")
    product = serializers.CharField()
    method = serializers.ChoiceField(choices=rules.METHODS)
    preallocated = DecimalString(allow_null=True, help_text="whole allowances")
    final = DecimalString(allow_null=True, help_text="whole allowances")
    adjustment = serializers.SerializerMethodField(help_text="final - preallocated (whole allowances)")
    preallocation_basis = AllocationBasisOutput(allow_null=True)
    final_basis = AllocationBasisOutput(allow_null=True)

    @extend_schema_field(OpenApiTypes.STR)
    def get_adjustment(self, row: Allocation) -> str | None:
        return None if row.final is None else f"{row.final - (row.preallocated or 0):f}"


class AllocationPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AllocationOutput(many=True)


class ComplianceOutput(serializers.Serializer):
    facility = serializers.IntegerField()
    name = serializers.CharField()
    sector = serializers.CharField()
    province = serializers.CharField()
    year = serializers.IntegerField()
    plan = serializers.CharField(allow_null=True)
    surrender_due = serializers.DateField(allow_null=True)
    allocated = DecimalString(help_text="whole allowances: final, else pre-allocated")
    verified_direct = DecimalString(allow_null=True, help_text="tCO2e, exact; null before verification")
    obligation = DecimalString(allow_null=True, help_text="verified_direct in whole allowances (half up)")
    surrendered_allowances = DecimalString()
    surrendered_offsets = DecimalString()
    balance = DecimalString(allow_null=True, help_text="surrendered - obligation (negative: still owed)")
    status = serializers.ChoiceField(choices=rules.STATUSES)


class CompliancePage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ComplianceOutput(many=True)


class SurrenderInput(serializers.Serializer):
    allowances = serializers.DecimalField(max_digits=20, decimal_places=0, min_value=0, default=0)
    offsets = serializers.DecimalField(
        max_digits=20, decimal_places=0, min_value=0, default=0, help_text="CCER, within offset_limit_share"
    )


class SurrenderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    facility = serializers.IntegerField(source="facility_id")
    year = serializers.IntegerField()
    plan = serializers.CharField(source="plan.code")
    allowances = DecimalString()
    offsets = DecimalString()
    late = serializers.BooleanField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()


class SurrenderAnswer(serializers.Serializer):
    surrender = SurrenderOutput()
    compliance = ComplianceOutput()


class AllocationAggregateRow(serializers.Serializer):
    sector = serializers.CharField()
    province = serializers.CharField()
    facilities = serializers.IntegerField()
    allocated = DecimalString()
    verified_direct = DecimalString()
    obligation = DecimalString()
    surrendered = DecimalString()
    difference = DecimalString(help_text="allocated - verified_direct")
    deficit = serializers.IntegerField(help_text="facilities in deficit")


class AllocationAggregatesOutput(serializers.Serializer):
    year = serializers.IntegerField()
    results = AllocationAggregateRow(many=True)
    deficit = ComplianceOutput(many=True)


class YearFilter(serializers.Serializer):
    year = serializers.IntegerField(**YEAR)


class AllocationFilter(serializers.Serializer):
    year = serializers.IntegerField(**YEAR, required=False)
    facility = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


# -- helpers ----------------------------------------------------------------------------------------------
def _plan(request: Request, pk: int) -> AllocationPlan:
    return get_object_or_404(scoping.allocation_plans_visible_to(request.user), pk=pk)


def _plan_out(plan: AllocationPlan) -> dict[str, Any]:
    return dict(AllocationPlanOutput(plan).data)


def _run_out(run: AllocationRun) -> dict[str, Any]:
    return dict(AllocationRunOutput(run).data)


# -- views ------------------------------------------------------------------------------------------------
class AllocationPlanListView(APIView):
    permission_classes = [SIGNED_IN & IsRegulator]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: AllocationPlanPage}, operation_id="allocation_plans_list")
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            scoping.allocation_plans_visible_to(request.user).order_by("year", "code"), request, view=self
        )
        return paginator.get_paginated_response(AllocationPlanOutput(page, many=True).data)

    @extend_schema(request=AllocationPlanInput, responses={201: AllocationPlanOutput})
    @retrying
    def post(self, request: Request) -> Response:
        data = AllocationPlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.plan_create(by=request.user, **data.validated_data)
        return Response(_plan_out(plan), status=201)


class AllocationPlanDetailView(APIView):
    permission_classes = [SIGNED_IN]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: AllocationPlanOutput}, operation_id="allocation_plans_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(_plan_out(_plan(request, pk)))

    @extend_schema(request=AllocationPlanUpdate, responses={200: AllocationPlanOutput})
    @retrying
    def patch(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsRegulator)
        data = AllocationPlanUpdate(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_plan_out(services.plan_update(by=request.user, plan=plan, **data.validated_data)))

    @extend_schema(responses={204: None})
    @retrying
    def delete(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsRegulator)
        services.plan_delete(by=request.user, plan=plan)
        return Response(status=204)


class AllocationPlanPublishView(APIView):
    permission_classes = [SIGNED_IN]

    @extend_schema(request=None, responses={200: AllocationPlanOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsRegulator)
        return Response(_plan_out(services.plan_publish(by=request.user, plan=plan)))


class AllocationRunCreateView(APIView):
    """Pre-allocate or finalise the plan over the facilities in the regulator's scope: a Celery job,
    answered 202 with the run to follow at ``/api/v1/allocation-runs/{id}/``."""

    permission_classes = [SIGNED_IN]
    kind = AllocationRun.Kind.FINALISE

    @extend_schema(request=None, responses={202: AllocationRunOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        require(request, IsRegulator)
        run = services.run_create(by=request.user, plan=plan, kind=self.kind)
        return Response(_run_out(run), status=202)


class AllocationPreallocateView(AllocationRunCreateView):
    kind = AllocationRun.Kind.PREALLOCATE


class AllocationFinaliseView(AllocationRunCreateView):
    kind = AllocationRun.Kind.FINALISE


class AllocationRunDetailView(APIView):
    permission_classes = [SIGNED_IN]

    @extend_schema(responses={200: AllocationRunOutput}, operation_id="allocation_runs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(_run_out(get_object_or_404(scoping.allocation_runs_visible_to(request.user), pk=pk)))


class AllocationListView(APIView):
    """Allocations per facility and production unit under published plans: an operator its facilities',
    a regulator those it oversees."""

    permission_classes = [SIGNED_IN]

    @extend_schema(
        parameters=[AllocationFilter], responses={200: AllocationPage}, operation_id="allocations_list"
    )
    def get(self, request: Request) -> Response:
        filters = query(AllocationFilter, request)
        found = scoping.allocations_visible_to(request.user)
        if "year" in filters:
            found = found.filter(plan__year=filters["year"])
        if "facility" in filters:
            found = found.filter(facility_id=filters["facility"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            found.order_by("plan__year", "facility_id", "unit"), request, view=self
        )
        return paginator.get_paginated_response(AllocationOutput(page, many=True).data)


class ComplianceListView(APIView):
    """Each facility's compliance for a year: allocated, verified direct emissions, surrendered, balance."""

    permission_classes = [SIGNED_IN]

    @extend_schema(parameters=[YearFilter], responses={200: CompliancePage}, operation_id="compliance_list")
    def get(self, request: Request) -> Response:
        year = query(YearFilter, request)["year"]
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            scoping.compliance_facilities_visible_to(request.user).order_by("id"), request, view=self
        )
        rows = selectors.compliance_rows(facilities=page, year=year, today=timezone.localdate())
        return paginator.get_paginated_response(ComplianceOutput(rows, many=True).data)


def _facility(request: Request, pk: int) -> Facility:
    return get_object_or_404(scoping.compliance_facilities_visible_to(request.user), pk=pk)


class SurrenderView(APIView):
    """The surrenders of a facility's compliance year; the operator records one (allowances and offsets)."""

    permission_classes = [SIGNED_IN]
    parser_classes = [DecimalJSONParser]

    @extend_schema(responses={200: SurrenderOutput(many=True)}, operation_id="surrenders_list")
    def get(self, request: Request, facility: int, year: int) -> Response:
        found = _facility(request, facility)
        rows = scoping.surrenders_visible_to(request.user).filter(facility=found, year=year)
        return Response(SurrenderOutput(rows.select_related("plan", "recorded_by"), many=True).data)

    @extend_schema(request=SurrenderInput, responses={201: SurrenderAnswer}, operation_id="surrenders_create")
    @retrying
    def post(self, request: Request, facility: int, year: int) -> Response:
        found = _facility(request, facility)
        require(request, IsOperator)
        data = SurrenderInput(data=request.data)
        data.is_valid(raise_exception=True)
        surrender = services.surrender_record(
            by=request.user, facility=found, year=year, **data.validated_data
        )
        row = selectors.compliance_rows(facilities=[found], year=year, today=timezone.localdate())[0]
        return Response(
            {"surrender": SurrenderOutput(surrender).data, "compliance": ComplianceOutput(row).data},
            status=201,
        )


def allocation_table(answer: dict[str, Any]) -> dict[str, Any]:
    """The aggregate as a table for CSV/XLSX: a row per sector and province, then the facilities in deficit."""
    columns = [
        "sector",
        "province",
        "facilities",
        "allocated",
        "verified_direct",
        "obligation",
        "surrendered",
        "difference",
        "deficit",
        "facility",
        "name",
        "balance",
        "status",
    ]
    rows: list[dict[str, Any]] = [{**row, "facility": None, "name": None} for row in answer["results"]]
    for row in answer["deficit"]:
        rows.append(
            {
                "sector": row["sector"],
                "province": row["province"],
                "facility": row["facility"],
                "name": row["name"],
                "allocated": row["allocated"],
                "verified_direct": row["verified_direct"],
                "obligation": row["obligation"],
                "balance": row["balance"],
                "status": row["status"],
            }
        )
    return {"columns": columns, "rows": rows, "filename": f"allocation-{answer['year']}"}


class AllocationAggregatesView(APIView):
    """Allocated against verified direct emissions by sector and province, and the facilities in deficit,
    over the regulator's scope; ``?format=csv|xlsx`` (text that a spreadsheet would evaluate is kept inert)."""

    permission_classes = [IsAuthenticated & IsRegulator]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        operation_id="allocation_aggregates",
        parameters=[YearFilter],
        responses={
            (200, "application/json"): AllocationAggregatesOutput,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response:
        year = query(YearFilter, request)["year"]
        answer = selectors.allocation_aggregates(
            facilities=scoping.compliance_facilities_visible_to(request.user),
            year=year,
            today=timezone.localdate(),
        )
        if request.accepted_renderer.format in ("csv", "xlsx"):
            return Response(allocation_table(answer))
        return Response(AllocationAggregatesOutput(answer).data)
