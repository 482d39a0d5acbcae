"""URLs for tests: the project's URLs plus views that exercise parsers, renderers and the exception handler.

Used with ``@pytest.mark.urls("tests.mrv.urls")``; handler404/handler500 are the project's.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.errors import FieldError, InvalidInput, MethodologyDataError
from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


class EchoView(APIView):
    """Answers the parsed body back: proves what the parser read and what the renderer writes."""

    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        return Response({"data": request.data})


class WhoAmIView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username()})


class LineSerializer(serializers.Serializer):
    ncv = serializers.DecimalField(max_digits=20, decimal_places=6)


class ReportSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000)
    lines = LineSerializer(many=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["year"] == 2001:
            raise serializers.ValidationError("no reports for 2001")
        return attrs


class ValidateView(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


RAISES: dict[str, Callable[[], Exception]] = {
    "accounting": lambda: InvalidInput(
        "1 invalid field(s)", [FieldError("/lines/0/quantity/unit", "unknown_unit", "'tons' is ambiguous")]
    ),
    "methodology-data": lambda: MethodologyDataError("cn-mee-2024: method electrode needs a default"),
    "http404": lambda: Http404("no such report"),
    "django-permission": lambda: DjangoPermissionDenied("not yours"),
    "django-validation": lambda: DjangoValidationError({"credit_code": ["bad check character"]}),
    "throttled": lambda: Throttled(wait=2.5),
    "crash": lambda: RuntimeError("a bug"),
}


class RaiseView(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request, kind: str) -> Response:
        raise RAISES[kind]()


urlpatterns = [
    path("api/test/echo/", EchoView.as_view()),
    path("api/test/whoami/", WhoAmIView.as_view()),
    path("api/test/validate/", ValidateView.as_view()),
    path("api/test/raise/<str:kind>/", RaiseView.as_view()),
    *project_urlpatterns,
]
