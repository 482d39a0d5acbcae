"""Calculation endpoints (placeholder until the calculation views land: every one answers 501)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

_NOT_YET = {"detail": "Not implemented yet."}


class CalculateView(APIView):
    @extend_schema(request=None, responses={501: None})
    def post(self, request: Request) -> Response:
        return Response(_NOT_YET, status=501)


class MethodologyListView(APIView):
    @extend_schema(responses={501: None})
    def get(self, request: Request) -> Response:
        return Response(_NOT_YET, status=501)


class MethodologyDetailView(APIView):
    @extend_schema(responses={501: None})
    def get(self, request: Request, code: str) -> Response:
        return Response(_NOT_YET, status=501)


class UnitListView(APIView):
    @extend_schema(responses={501: None})
    def get(self, request: Request) -> Response:
        return Response(_NOT_YET, status=501)
