"""Stateless calculation endpoints: ``POST /calculate/``, methodologies and units.

Views are thin: the request body (already parsed with exact Decimals) goes to the engine, whose
domain errors become problem documents in the exception handler.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import accounting
from accounting import methodologies, units
from accounting.compare import compare
from mrv.api import schemas
from mrv.api import serializers as s
from mrv.api.quotas import CalculationLines


class CalculateView(APIView):
    """Calculate emissions for a list of activity lines; nothing is stored."""

    throttle_classes = [*APIView.throttle_classes, CalculationLines]  # lines per minute per user

    @extend_schema(
        operation_id="calculate",
        summary="Calculate emissions (stateless)",
        request={"application/json": schemas.CALCULATION_REQUEST},
        responses={
            200: s.CalculationOutput,
            400: schemas.PROBLEM,
            401: schemas.PROBLEM,
            413: schemas.PROBLEM,
        },
        examples=[OpenApiExample("One coal line", request_only=True, value=schemas.CALCULATE_EXAMPLE)],
        tags=["calculation"],
    )
    def post(self, request: Request) -> Response:
        return Response(s.CalculationOutput(accounting.calculate(request.data).as_json()).data)


class ComparedTotals(serializers.Serializer):
    """One methodology's totals in a comparison (tonnes CO2e, exact and as reported)."""

    direct = s.DecimalString()
    indirect = s.DecimalString()
    total = s.DecimalString()
    reported = serializers.DictField(child=s.DecimalString(), help_text="direct, indirect, total as reported")
    default_share = s.DecimalString(help_text="share of the total resting on default values")
    difference_from_first = s.DecimalString(help_text="this total minus the first methodology's")
    uncertainty_percent = s.PercentString(
        required=False, help_text="±% at 95 % of the total (present when a line states an uncertainty)"
    )
    uncertainty = s.TotalsUncertaintyOutput(
        required=False, help_text="present when a line states an uncertainty"
    )


class ComparedRounding(serializers.Serializer):
    places = serializers.IntegerField(help_text="decimal places of reported figures")
    mode = serializers.CharField(help_text="rounding mode, e.g. half_up")


class ComparedMethodology(serializers.Serializer):
    """One methodology version of a comparison."""

    key = serializers.CharField(help_text="code@version")
    code = serializers.CharField()
    version = serializers.CharField()
    c_to_co2 = s.DecimalString(help_text="carbon to CO2 factor")
    gwp = serializers.CharField(help_text="GWP set (AR5, ...)")
    rounding = ComparedRounding()


class CompareOutput(serializers.Serializer):
    """The same lines under several methodologies: per line the figures side by side (keyed by
    ``code@version``) and the parameters that differ with why (measured, each regime's default with its
    table and confidence, or not used by that regime's method); totals per methodology; and each
    methodology's full result."""

    methodologies = ComparedMethodology(many=True)
    sector = serializers.CharField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    lines = s.LineResultsField(
        help_text="per line: ref, source, figures by methodology (with uncertainty_percent when the line "
        "states an uncertainty), differences"
    )
    totals = serializers.DictField(child=ComparedTotals())
    intensity = s.LineResultsField(help_text="the intensity under each methodology (null without production)")
    results = s.CalculationOutput(many=True)


class CompareView(APIView):
    """The same activity lines under several methodologies, side by side; nothing is stored."""

    throttle_classes = [*APIView.throttle_classes, CalculationLines]

    @extend_schema(
        operation_id="calculate_compare",
        summary="Compare methodologies on the same lines (stateless)",
        request={
            "application/json": {
                **schemas.CALCULATION_REQUEST,
                "properties": {
                    **{
                        k: v
                        for k, v in schemas.CALCULATION_REQUEST.get("properties", {}).items()
                        if k != "methodology"
                    },
                    "methodologies": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                        "maxItems": 6,
                        "description": "methodology codes (latest version) or code@version",
                    },
                },
                "required": ["methodologies", "lines"],
            }
        },
        responses={200: CompareOutput, 400: schemas.PROBLEM, 401: schemas.PROBLEM, 413: schemas.PROBLEM},
        tags=["calculation"],
    )
    def post(self, request: Request) -> Response:
        return Response(CompareOutput(compare(request.data)).data)


class MethodologyListView(APIView):
    """Every published methodology version, oldest first per code, each with what it changed against the
    version it supersedes (summaries; the detail has every factor table)."""

    @extend_schema(
        operation_id="methodologies_list",
        responses={200: schemas.METHODOLOGY_LIST, 401: schemas.PROBLEM},
        tags=["calculation"],
    )
    def get(self, request: Request) -> Response:
        results = [m.describe(with_tables=False) for m in methodologies.available(all_versions=True)]
        return Response({"count": len(results), "next": None, "previous": None, "results": results})


class MethodologyDetailView(APIView):
    """One methodology version (the latest, or ``?version=``; ``code@version`` also works): method per line
    kind, factor tables with provenance, GWP set, rounding, and what changed against the previous version."""

    @extend_schema(
        operation_id="methodologies_retrieve",
        parameters=[
            OpenApiParameter(
                "version", str, description="a published version (default: the latest)", required=False
            )
        ],
        responses={200: schemas.METHODOLOGY, 401: schemas.PROBLEM, 404: schemas.PROBLEM},
        tags=["calculation"],
    )
    def get(self, request: Request, code: str) -> Response:
        try:
            methodology = methodologies.get(code, request.query_params.get("version"))
        except accounting.UnknownMethodology as error:
            raise NotFound(error.detail) from error
        return Response(methodology.describe())


class UnitListView(APIView):
    """Accepted unit spellings by what they measure."""

    @extend_schema(
        operation_id="units_list", responses={200: schemas.UNITS, 401: schemas.PROBLEM}, tags=["calculation"]
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "dimensions": units.accepted_units(),
                "refused": units.refused_spellings(),
                "notes": [
                    "Any pint expression of the right dimension is accepted as well (e.g. 'MJ/kg', 'kgCO2/GJ').",
                    "'10^4 Nm3' is ten thousand normal cubic metres; 'Nm3' never converts into actual 'm3'.",
                    "'t' and 'tonne' are metric tonnes, 'kt' the kilotonne, 'Mt' the megatonne.",
                    "'kcal' is the international-table kilocalorie (4.1868 kJ); 'tce' is 29.3076 GJ.",
                    "A fraction may be a plain value ('0.65') or {'value': '65', 'unit': '%'}.",
                ],
            }
        )
