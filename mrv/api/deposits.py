"""Monthly deposits for the competent authority: the deposits past their due date and not made."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.lookups import query
from mrv.api.permissions import HasOrganisation, IsRegulator
from mrv.selectors import deposits


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
