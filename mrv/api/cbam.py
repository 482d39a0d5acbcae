"""CBAM embedded emissions (SPEC §9): the stateless calculation and a stored report's communication.

``POST /api/v1/cbam/embedded-emissions/``: the body (parsed with exact decimals) goes to the engine
(:mod:`accounting.cbam`), whose field errors become a 400 problem with pointers. ``GET
/api/v1/reports/{id}/cbam-communication/?format=json|xlsx``: the operator's communication to importers for
the revision of the report the user may see (scoped like every report lookup: outside the scope, 404).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting import cbam
from mrv.api import schemas
from mrv.api import serializers as s
from mrv.api.lookups import report_for
from mrv.api.parsers import DecimalJSONParser
from mrv.api.permissions import HasOrganisation
from mrv.api.quotas import LineQuotaThrottle
from mrv.api.renderers import JSONRenderer, XLSXRenderer
from mrv.selectors import scoping
from mrv.selectors.cbam import cbam_communication, communication_table

#: The aggregated goods categories (enum of the schema).
CATEGORY_CODES = sorted(cbam.catalogue().categories)
PRECURSOR_ORIGINS = ["process", "given", "default_value"]


class CbamLines(LineQuotaThrottle):
    """The activity lines of every process of a CBAM request, charged to the user's line quota."""

    def lines(self, request: Any) -> int:
        data = request.data
        processes = data.get("processes") if isinstance(data, dict) else None
        if not isinstance(processes, list):
            return 0
        return sum(
            len(p["lines"]) for p in processes if isinstance(p, dict) and isinstance(p.get("lines"), list)
        )


# -- input (documentation; the engine validates, with pointers) ----------------------------------------------
class QuantityInput(serializers.Serializer):
    value = s.DecimalString(help_text="an exact decimal (JSON string or number)")
    unit = serializers.CharField()


class InstallationInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2, e.g. CN")
    unlocode = serializers.CharField(required=False, help_text="UN/LOCODE, e.g. CNSHA")
    address = serializers.CharField(required=False)


class HeatFlowInput(serializers.Serializer):
    quantity = QuantityInput(help_text="heat (GJ, TJ, MWh)")
    emission_factor = QuantityInput(help_text="tCO2/TJ or tCO2/GJ")


class HeatInput(serializers.Serializer):
    imported = HeatFlowInput(required=False)
    exported = HeatFlowInput(required=False)


class WasteGasFlowInput(serializers.Serializer):
    quantity = QuantityInput(help_text="energy (GJ), or mass/volume with ncv")
    ncv = QuantityInput(required=False, help_text="per the quantity's unit (GJ/t, GJ/10^4 Nm3)")
    emission_factor = QuantityInput(
        required=False, help_text="natural gas emission factor (default: the methodology's natural gas)"
    )
    correction = s.DecimalString(required=False, help_text="efficiency correction (default 0.667 [3P])")


class WasteGasesInput(serializers.Serializer):
    exported = WasteGasFlowInput(required=False)


class ElectricityInput(serializers.Serializer):
    consumed = QuantityInput(help_text="electricity consumed (MWh, kWh, GWh)")
    emission_factor = QuantityInput(help_text="tCO2/MWh (no verified default grid factor is shipped)")
    basis = serializers.ChoiceField(choices=list(cbam.ELECTRICITY_BASES))
    produced_emissions = QuantityInput(
        required=False, help_text="tCO2 attributed to electricity produced in the process (subtracted)"
    )


class GoodInput(serializers.Serializer):
    cn_code = serializers.CharField(help_text="8-digit CN code, spaces allowed: '2523 10 00'")
    quantity = QuantityInput(help_text="mass leaving the process (t)")


class PrecursorInput(serializers.Serializer):
    cn_code = serializers.CharField()
    quantity = QuantityInput(help_text="mass consumed, losses included (t)")
    country = serializers.CharField(required=False, help_text="ISO 3166-1 alpha-2; required unless process")
    see_direct = s.DecimalString(required=False, help_text="tCO2e/t (a number or {value, unit: tCO2/t})")
    see_indirect = s.DecimalString(required=False, help_text="tCO2e/t")
    basis = serializers.ChoiceField(
        choices=list(cbam.PRECURSOR_BASES), required=False, help_text="what the given SEE values are"
    )
    process = serializers.CharField(required=False, help_text="ref of the process of this installation")


class ProcessInput(serializers.Serializer):
    ref = serializers.CharField(max_length=64)
    category = serializers.ChoiceField(choices=CATEGORY_CODES)
    route = serializers.CharField(required=False)
    lines = s.ActivityLinesField(
        required=False, help_text="activity lines of the process's direct emissions (no electricity or heat)"
    )
    heat = HeatInput(required=False)
    waste_gases = WasteGasesInput(required=False)
    electricity = ElectricityInput(required=False)
    goods = GoodInput(many=True)
    precursors = PrecursorInput(many=True, required=False)


class EmbeddedEmissionsInput(serializers.Serializer):
    """Production processes of one installation for one calendar year."""

    installation = InstallationInput()
    year = serializers.IntegerField(min_value=2023, max_value=2100)
    methodology = serializers.CharField(required=False, help_text="for the lines (default eu-mrr-2018)")
    methodology_version = serializers.CharField(required=False)
    processes = ProcessInput(many=True)


# -- output ------------------------------------------------------------------------------------------------------
class ReportedSeeOutput(serializers.Serializer):
    see_direct = s.DecimalString(help_text="tCO2e/t, 5 decimals, half up")
    see_indirect = s.DecimalString()
    see_total = s.DecimalString()


class ReportedProcessOutput(ReportedSeeOutput):
    attributed_direct = s.DecimalString(help_text="whole tonnes, half up")
    attributed_indirect = s.DecimalString()


class DefaultValueOutput(serializers.Serializer):
    """A verified default value with the year's mark-up (none is shipped today)."""

    see_direct = s.DecimalString()
    see_indirect = s.DecimalString()
    see_total = s.DecimalString()
    markup_percent = s.DecimalString()
    markup_source = serializers.CharField(allow_null=True)
    see_total_with_markup = s.DecimalString()
    source = serializers.CharField()
    confidence = serializers.CharField()


class GoodOutput(serializers.Serializer):
    cn_code = serializers.CharField()
    quantity = s.DecimalString()
    see_direct = s.DecimalString()
    see_indirect = s.DecimalString()
    see_total = s.DecimalString(help_text="direct, plus indirect where the category counts it")
    reported = ReportedSeeOutput()
    default = DefaultValueOutput(allow_null=True, help_text="the verified default beside the actual figure")


class PrecursorOutput(serializers.Serializer):
    cn_code = serializers.CharField()
    category = serializers.CharField()
    quantity = s.DecimalString()
    country = serializers.CharField()
    process = serializers.CharField(allow_null=True)
    basis = serializers.ChoiceField(choices=list(cbam.PRECURSOR_BASES))
    origin = serializers.ChoiceField(choices=PRECURSOR_ORIGINS)
    see_direct = s.DecimalString()
    see_indirect = s.DecimalString()
    embedded_direct = s.DecimalString(help_text="quantity x see_direct (t)")
    embedded_indirect = s.DecimalString()
    default = DefaultValueOutput(allow_null=True)


class AttributionOutput(serializers.Serializer):
    direct_emissions = s.DecimalString(help_text="the lines' direct total (t CO2e)")
    heat_imported = s.DecimalString()
    heat_exported = s.DecimalString()
    waste_gases_exported = s.DecimalString()
    electricity_produced = s.DecimalString()


class ElectricityOutput(serializers.Serializer):
    consumed_mwh = s.DecimalString()
    emission_factor = s.DecimalString()
    unit = serializers.CharField()
    basis = serializers.ChoiceField(choices=list(cbam.ELECTRICITY_BASES))


class ProcessOutput(serializers.Serializer):
    ref = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    sector = serializers.CharField()
    route = serializers.CharField(allow_null=True)
    indirect_counted = serializers.BooleanField()
    activity_level = s.DecimalString(help_text="t of goods leaving the process")
    direct_emissions = s.DecimalString()
    attribution = AttributionOutput()
    attributed_direct = s.DecimalString()
    attributed_indirect = s.DecimalString()
    electricity = ElectricityOutput(allow_null=True)
    precursors = PrecursorOutput(many=True)
    embedded_direct = s.DecimalString()
    embedded_indirect = s.DecimalString()
    see_direct = s.DecimalString(help_text="tCO2e/t, exact (12 decimals)")
    see_indirect = s.DecimalString()
    see_total = s.DecimalString()
    reported = ReportedProcessOutput()
    default_share = s.DecimalString(help_text="share of the embedded emissions resting on default values")
    lines_default_share = s.DecimalString(help_text="share of the direct emissions on methodology defaults")
    goods = GoodOutput(many=True)
    lines = s.LineResultsField()


class CbamRoundingOutput(serializers.Serializer):
    see_places = serializers.IntegerField()
    emissions_places = serializers.IntegerField()
    mode = serializers.CharField()


class PeriodOutput(serializers.Serializer):
    start = serializers.CharField()
    end = serializers.CharField()


class InstallationOutput(serializers.Serializer):
    name = serializers.CharField()
    country = serializers.CharField()
    unlocode = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)


class EmbeddedEmissionsOutput(serializers.Serializer):
    installation = InstallationOutput()
    year = serializers.IntegerField()
    period = PeriodOutput()
    methodology = serializers.CharField()
    methodology_version = serializers.CharField()
    rounding = CbamRoundingOutput()
    defaults_shipped = serializers.IntegerField(help_text="verified default values in the bundle")
    processes = ProcessOutput(many=True)


EXAMPLE = {
    "installation": {"name": "Example Cement Works", "country": "CN"},
    "year": 2026,
    "processes": [
        {
            "ref": "kiln",
            "category": "cement_clinker",
            "lines": [
                {
                    "ref": "clinker",
                    "source": "clinker_carbonate",
                    "clinker": {"value": "100000", "unit": "t"},
                    "cao_fraction": "0.65",
                    "mgo_fraction": "0.02",
                }
            ],
            "electricity": {
                "consumed": {"value": "8000", "unit": "MWh"},
                "emission_factor": {"value": "0.5", "unit": "tCO2/MWh"},
                "basis": "supplier",
            },
            "goods": [{"cn_code": "2523 10 00", "quantity": {"value": "100000", "unit": "t"}}],
        },
        {
            "ref": "mill",
            "category": "cement",
            "goods": [{"cn_code": "2523 29 00", "quantity": {"value": "100000", "unit": "t"}}],
            "precursors": [
                {"cn_code": "2523 10 00", "quantity": {"value": "75000", "unit": "t"}, "process": "kiln"}
            ],
        },
    ],
}


class EmbeddedEmissionsView(APIView):
    """CBAM specific embedded emissions of an installation's goods; nothing is stored."""

    parser_classes = [DecimalJSONParser]
    throttle_classes = [*APIView.throttle_classes, CbamLines]

    @extend_schema(
        operation_id="cbam_embedded_emissions",
        summary="CBAM embedded emissions (stateless)",
        request=EmbeddedEmissionsInput,
        responses={
            200: EmbeddedEmissionsOutput,
            400: schemas.PROBLEM,
            401: schemas.PROBLEM,
            413: schemas.PROBLEM,
        },
        examples=[OpenApiExample("Clinker and cement", request_only=True, value=EXAMPLE)],
        tags=["cbam"],
    )
    def post(self, request: Request) -> Response:
        return Response(EmbeddedEmissionsOutput(cbam.embedded_emissions(request.data).as_json()).data)


# -- the communication --------------------------------------------------------------------------------------------
class CommunicationGoodPrecursorOutput(serializers.Serializer):
    cn_code = serializers.CharField()
    country = serializers.CharField()
    see_direct = s.DecimalString()
    see_indirect = s.DecimalString()
    basis = serializers.ChoiceField(choices=list(cbam.PRECURSOR_BASES))


class CommunicationGoodOutput(serializers.Serializer):
    process = serializers.CharField()
    cn_code = serializers.CharField()
    category = serializers.CharField()
    route = serializers.CharField(allow_null=True)
    quantity = s.DecimalString()
    see_direct = s.DecimalString(help_text="tCO2e/t, 5 decimals")
    see_indirect = s.DecimalString()
    see_total = s.DecimalString()
    see_direct_exact = s.DecimalString()
    see_indirect_exact = s.DecimalString()
    see_total_exact = s.DecimalString()
    indirect_counted = serializers.BooleanField()
    electricity_basis = serializers.CharField(allow_null=True)
    electricity_emission_factor = s.DecimalString(allow_null=True)
    default_share = s.DecimalString()
    default = DefaultValueOutput(allow_null=True)
    parameters = serializers.DictField(child=s.DecimalString(), help_text="cement: clinker_cement_ratio")
    precursors = CommunicationGoodPrecursorOutput(many=True)


class CommunicationPrecursorOutput(serializers.Serializer):
    process = serializers.CharField()
    cn_code = serializers.CharField()
    category = serializers.CharField()
    country = serializers.CharField()
    period = PeriodOutput()
    quantity = s.DecimalString()
    see_direct = s.DecimalString()
    see_indirect = s.DecimalString()
    basis = serializers.CharField()
    origin = serializers.CharField()
    made_in_process = serializers.CharField(allow_null=True)


class CommunicationProcessOutput(serializers.Serializer):
    ref = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    route = serializers.CharField(allow_null=True)
    activity_level = s.DecimalString()
    direct_emissions = s.DecimalString()
    attributed_direct = s.DecimalString()
    attributed_indirect = s.DecimalString()
    reported_attributed_direct = s.DecimalString()
    reported_attributed_indirect = s.DecimalString()
    heat_imported = s.DecimalString()
    heat_exported = s.DecimalString()
    waste_gases_exported = s.DecimalString()
    electricity_produced = s.DecimalString()


class OperatorOutput(serializers.Serializer):
    name = serializers.CharField()


class CommunicationOutput(serializers.Serializer):
    """The operator's communication to importers (2025/2547 Annex IV) for one report revision."""

    report = serializers.IntegerField()
    revision = serializers.IntegerField()
    status = serializers.CharField()
    verified = serializers.BooleanField()
    digest = serializers.CharField(allow_null=True)
    operator = OperatorOutput()
    installation = InstallationOutput()
    year = serializers.IntegerField()
    period = PeriodOutput()
    methodology = serializers.CharField()
    methodology_version = serializers.CharField()
    rounding = CbamRoundingOutput()
    processes = CommunicationProcessOutput(many=True)
    goods = CommunicationGoodOutput(many=True)
    precursors = CommunicationPrecursorOutput(many=True)


class CbamCommunicationView(APIView):
    """The communication to importers of the report's revision the user may see (``?format=json|xlsx``)."""

    permission_classes = [IsAuthenticated & HasOrganisation]
    renderer_classes = [JSONRenderer, XLSXRenderer]

    @extend_schema(
        operation_id="reports_cbam_communication",
        parameters=[OpenApiParameter("format", str, enum=["json", "xlsx"], required=False)],
        responses={
            (200, "application/json"): CommunicationOutput,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
            (404, "application/json"): schemas.PROBLEM,
            (409, "application/json"): schemas.PROBLEM,
        },
        tags=["cbam"],
    )
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        revision = scoping.revisions_visible_to(request.user, report=report).order_by("-number").first()
        assert revision is not None  # the scoping selector only finds reports with a visible revision
        communication = cbam_communication(report=report, revision=revision)
        if request.accepted_renderer.format == "xlsx":
            return Response(communication_table(communication))
        return Response(CommunicationOutput(communication).data)
