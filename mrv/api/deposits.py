"""Monthly deposits for the competent authority: the deposits past their due date and not made, the
review of a deposit (accept or return), and deposit compliance per province, sector or facility."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api import serializers as s
from mrv.api.lookups import CommaSeparated, query, report_for, require
from mrv.api.parsers import DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsRegulator
from mrv.api.renderers import CSVRenderer, JSONRenderer, XLSXRenderer
from mrv.api.retry import retrying
from mrv.selectors import deposits
from mrv.services import deposits as deposit_services


class OverdueDepositOutput(serializers.Serializer):
    facility = serializers.IntegerField()
    facility_name = serializers.CharField()
    sector = serializers.CharField()
    province = serializers.CharField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    due_date = serializers.DateField()
    days_overdue = serializers.IntegerField(
        help_text="days past due on the given date (late: at the deposit)"
    )
    deposit_status = serializers.ChoiceField(choices=["overdue", "late"])
    report = serializers.IntegerField(allow_null=True, help_text="the deposited report (late deposits)")
    deposited_at = serializers.DateTimeField(allow_null=True)


class OverdueDepositsOutput(serializers.Serializer):
    year = serializers.IntegerField()
    on = serializers.DateField()
    count = serializers.IntegerField()
    results = OverdueDepositOutput(many=True)


class OverdueDepositsView(APIView):
    """Monthly deposits past their due date and not made (a month without a submitted report), per
    facility and month; with ``include_late=true`` also those made after their due date."""

    permission_classes = [IsAuthenticated & HasOrganisation & IsRegulator]

    class FilterSerializer(serializers.Serializer):
        year = serializers.IntegerField(min_value=1990, max_value=2100)
        on = serializers.DateField(
            required=False, help_text="the date to judge on (default: today, Beijing time)"
        )
        include_late = serializers.BooleanField(required=False, default=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: OverdueDepositsOutput})
    def get(self, request: Request) -> Response:
        filters = query(self.FilterSerializer, request)
        on = filters.get("on") or deposits.today()
        rows = deposits.overdue_deposits(
            user=request.user, year=filters["year"], on=on, include_late=filters.get("include_late", False)
        )
        return Response(
            OverdueDepositsOutput(
                {"year": filters["year"], "on": on, "count": len(rows), "results": rows}
            ).data
        )


class ReviewInput(serializers.Serializer):
    comment = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=4000,
        help_text="required to return a deposit: what the operator must change",
    )


class DepositReviewView(APIView):
    """The competent authority accepts or returns a monthly report's deposited revision (instead of a
    verification body), once its automated checks have run; the report is returned as it then is."""

    permission_classes = [IsAuthenticated & HasOrganisation]
    parser_classes = [DecimalJSONParser]
    accept = True

    @extend_schema(request=ReviewInput, responses={200: s.ReportSummaryOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsRegulator)
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = deposit_services.deposit_review(
            by=request.user, report=report, accept=self.accept, comment=data.validated_data["comment"]
        )
        return Response(s.ReportSummaryOutput(s.report_summary(report, review.revision)).data)


class DepositAcceptView(DepositReviewView):
    accept = True


class DepositReturnView(DepositReviewView):
    accept = False


class ComplianceFilter(serializers.Serializer):
    year = serializers.IntegerField(min_value=1990, max_value=2100)
    group_by = CommaSeparated(
        child=serializers.ChoiceField(choices=deposits.COMPLIANCE_GROUPS),
        required=False,
        help_text=f"any of {', '.join(deposits.COMPLIANCE_GROUPS)} (none: one row)",
    )
    as_of = serializers.DateField(
        required=False, help_text="the date to judge on (default: today, Beijing time)"
    )

    def validate_group_by(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("a group_by key is repeated")
        return value


class ComplianceRowOutput(serializers.Serializer):
    province = serializers.CharField(required=False, help_text="grouped by province: ISO 3166-2:CN code")
    sector = serializers.CharField(required=False)
    facility = serializers.IntegerField(required=False)
    facility_name = serializers.CharField(required=False)
    expected = serializers.IntegerField(help_text="facility-months whose due date had passed")
    on_time = serializers.IntegerField(help_text="of the expected: deposited by the due date")
    late = serializers.IntegerField(help_text="of the expected: deposited after the due date")
    missing = serializers.IntegerField(help_text="of the expected: not deposited")
    accepted = serializers.IntegerField(help_text="deposits whose latest revision the regulator accepted")
    returned = serializers.IntegerField(help_text="deposits whose latest revision the regulator returned")


class ComplianceTotalsOutput(serializers.Serializer):
    expected = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    missing = serializers.IntegerField()
    accepted = serializers.IntegerField()
    returned = serializers.IntegerField()


class DepositComplianceOutput(serializers.Serializer):
    year = serializers.IntegerField()
    as_of = serializers.DateField()
    group_by = serializers.ListField(child=serializers.CharField())
    results = ComplianceRowOutput(many=True)
    totals = ComplianceTotalsOutput()


class DepositComplianceView(APIView):
    """Monthly deposit compliance for the competent authority: per province, sector or facility, the
    months due, deposited on time or late, missing, and accepted or returned; ``?format=csv|xlsx``."""

    permission_classes = [IsAuthenticated & HasOrganisation & IsRegulator]
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        operation_id="aggregates_deposits",
        parameters=[ComplianceFilter],
        responses={
            (200, "application/json"): DepositComplianceOutput,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSXRenderer.media_type): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response:
        filters = query(ComplianceFilter, request)
        answer = deposits.deposit_compliance(
            user=request.user,
            year=filters["year"],
            group_by=filters.get("group_by", []),
            on=filters.get("as_of"),
        )
        if request.accepted_renderer.format in ("csv", "xlsx"):
            generated_at = timezone.now().isoformat(timespec="seconds")
            return Response(deposits.compliance_table(answer, generated_at=generated_at))
        return Response(DepositComplianceOutput(answer).data)
