"""Monthly deposits for the competent authority: the deposits past their due date and not made, the
review of a deposit (accept or return), and deposit compliance per province, sector or facility."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api import serializers as s
from mrv.api.lookups import query, report_for, require
from mrv.api.parsers import DecimalJSONParser
from mrv.api.permissions import HasOrganisation, IsRegulator
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
