"""``GET /api/v1/aggregates/``: verified totals for regulators, as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.permissions import IsRegulator
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.domain.provinces import PROVINCES
from mrv.errors import InvalidRequest
from mrv.models import Facility
from mrv.selectors.aggregates import GROUPS, aggregate_totals, as_table
from mrv.selectors.comparison import facility_comparison


def _invalid(name: str, detail: str) -> InvalidRequest:
    return InvalidRequest(detail, [{"pointer": f"/query/{name}", "code": "invalid", "detail": detail}])


def _list(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def parse_query(request: Request) -> tuple[list[str], dict[str, Any]]:
    group_by = _list(request, "group_by")
    unknown = [g for g in group_by if g not in GROUPS]
    if unknown:
        raise _invalid("group_by", f"group_by takes {', '.join(GROUPS)}; not {', '.join(unknown)[:80]}")
    if len(set(group_by)) != len(group_by):
        raise _invalid("group_by", "a group_by key is repeated")
    status = request.query_params.get("status", "verified")
    if status != "verified":
        raise _invalid(
            "status",
            "aggregates count verified revisions only (status=verified); "
            "use /api/v1/reports/?status=... for reports in other states",
        )
    filters: dict[str, Any] = {}
    period = request.query_params.get("period", "annual")
    if period not in ("annual", "monthly"):
        raise _invalid("period", "period takes annual (default) or monthly")
    filters["period"] = period
    years = _list(request, "year")
    if years:
        if not all(y.isdigit() and len(y) == 4 for y in years):
            raise _invalid("year", "year takes four-digit years, comma-separated")
        filters["year"] = [int(y) for y in years]
    for name, choices in (("sector", Facility.Sector.values), ("province", list(PROVINCES))):
        values = _list(request, name)
        if any(v not in choices for v in values):
            raise _invalid(name, f"{name} takes {', '.join(choices)}")
        if values:
            filters[name] = values
    return group_by, filters


class AggregatesView(APIView):
    """Totals of the latest verified revision of each report, grouped and filtered; ``?format=csv|xlsx``."""

    permission_classes = [IsAuthenticated & IsRegulator]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        operation_id="aggregates",
        parameters=[
            OpenApiParameter("group_by", str, description=f"comma-separated: {', '.join(GROUPS)}"),
            OpenApiParameter("year", str, description="year or comma-separated years"),
            OpenApiParameter("sector", str, description="sector or comma-separated sectors"),
            OpenApiParameter("province", str, description="ISO 3166-2:CN code(s), comma-separated"),
            OpenApiParameter("status", str, enum=["verified"]),
            OpenApiParameter(
                "period",
                str,
                enum=["annual", "monthly"],
                description="annual reports (default) or monthly reports; never both added",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response:
        group_by, filters = parse_query(request)
        answer = aggregate_totals(group_by=group_by, filters=filters)
        if request.accepted_renderer.format in ("csv", "xlsx"):
            return Response(as_table(answer))
        return Response(answer)


class ComparisonView(APIView):
    """Each facility's direct intensity against its sector: percentile and the sector's 5-95 % band."""

    permission_classes = [IsAuthenticated & IsRegulator]

    @extend_schema(
        operation_id="facility_comparison",
        parameters=[
            OpenApiParameter("year", int, required=True),
            OpenApiParameter("sector", str, enum=Facility.Sector.values),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("year", "")
        if not (raw.isdigit() and len(raw) == 4):
            raise _invalid("year", "year is required: a four-digit year")
        sectors = _list(request, "sector") or list(Facility.Sector.values)
        if any(s not in Facility.Sector.values for s in sectors):
            raise _invalid("sector", f"sector takes {', '.join(Facility.Sector.values)}")
        return Response({"year": int(raw), "results": facility_comparison(sectors=sectors, year=int(raw))})
