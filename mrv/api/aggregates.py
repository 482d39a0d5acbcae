"""``GET /api/v1/aggregates/``: verified totals for regulators, as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api import serializers as s
from mrv.api.lookups import CommaSeparated, query
from mrv.api.permissions import IsRegulator
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.domain.provinces import CHOICES as PROVINCES
from mrv.models import Facility
from mrv.selectors.aggregates import GROUPS, aggregate_totals, as_table, methodologies_of
from mrv.selectors.comparison import facility_comparison
from mrv.selectors.scoping import jurisdiction_of


class AggregateFilter(serializers.Serializer):
    """The aggregates query: lists take repeated or comma-separated values."""

    group_by = CommaSeparated(
        child=serializers.ChoiceField(choices=GROUPS), required=False, help_text=f"any of {', '.join(GROUPS)}"
    )
    year = CommaSeparated(child=serializers.IntegerField(min_value=1000, max_value=9999), required=False)
    sector = CommaSeparated(child=serializers.ChoiceField(choices=Facility.Sector.choices), required=False)
    province = CommaSeparated(
        child=serializers.ChoiceField(choices=PROVINCES), required=False, help_text="ISO 3166-2:CN codes"
    )
    status = serializers.ChoiceField(
        choices=["verified"],
        required=False,
        help_text="aggregates count verified revisions only; use /api/v1/reports/?status=... for others",
    )
    period = serializers.ChoiceField(
        choices=["annual", "monthly"],
        default="annual",
        help_text="annual reports (default) or monthly reports; never both added",
    )

    def validate_group_by(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("a group_by key is repeated")
        return value


class ComparisonFilter(serializers.Serializer):
    year = serializers.IntegerField(min_value=1000, max_value=9999, help_text="a four-digit year")
    sector = CommaSeparated(child=serializers.ChoiceField(choices=Facility.Sector.choices), required=False)


def parse_query(request: Request) -> tuple[list[str], dict[str, Any]]:
    """``group_by`` and the selector's filters from the aggregates query."""
    values = query(AggregateFilter, request)
    group_by = values.pop("group_by", [])
    values.pop("status", None)
    return group_by, values


class AggregatesView(APIView):
    """Totals of the latest verified revision of each report, grouped and filtered; ``?format=csv|xlsx``
    (CSV: the JSON's exact decimal strings; XLSX: numeric cells, a sheet of tonnes CO2e, one of tonnes of
    each gas, and one describing the query, its filters and the methodology versions added up)."""

    permission_classes = [IsAuthenticated & IsRegulator]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        operation_id="aggregates",
        parameters=[AggregateFilter],
        responses={
            (200, "application/json"): s.AggregatesOutput,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response:
        group_by, filters = parse_query(request)
        filters["jurisdiction"] = jurisdiction_of(request.user)  # a provincial authority: its provinces
        answer = aggregate_totals(group_by=group_by, filters=filters)
        if request.accepted_renderer.format == "csv":
            return Response(as_table(answer))
        if request.accepted_renderer.format == "xlsx":
            versions = methodologies_of(group_by=group_by, filters=filters)
            generated_at = timezone.now().isoformat(timespec="seconds")
            return Response(as_table(answer, versions=versions, generated_at=generated_at))
        return Response(s.AggregatesOutput(answer).data)


class ComparisonView(APIView):
    """Each facility's direct intensity against its sector: percentile and the sector's 5-95 % band."""

    permission_classes = [IsAuthenticated & IsRegulator]

    @extend_schema(
        operation_id="facility_comparison", parameters=[ComparisonFilter], responses={200: s.ComparisonOutput}
    )
    def get(self, request: Request) -> Response:
        filters = query(ComparisonFilter, request)
        year, sectors = filters["year"], filters.get("sector") or list(Facility.Sector.values)
        return Response(
            s.ComparisonOutput(
                {
                    "year": year,
                    "results": facility_comparison(
                        sectors=sectors, year=year, provinces=jurisdiction_of(request.user)
                    ),
                }
            ).data
        )
