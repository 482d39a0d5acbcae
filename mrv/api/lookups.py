"""Lookups and checks shared by the API views: scoped object lookups, role checks after them, filters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from mrv.errors import InvalidRequest
from mrv.models import Report
from mrv.selectors import scoping

#: Largest id a filter takes (PostgreSQL integer): a larger one could only find nothing.
MAX_ID = 2**31 - 1


def require(request: Request, permission: type[BasePermission]) -> None:
    """Check a role after the object was found in the user's scope: an object outside it is a 404
    (its existence never leaks), one inside it but out of the user's powers a 403."""
    checker = permission()
    if not checker.has_permission(request, None):
        raise PermissionDenied(getattr(checker, "message", None))


def report_for(request: Request, pk: int) -> Report:
    """The report ``pk`` if the user may see it; 404 otherwise."""
    return get_object_or_404(scoping.reports_visible_to(request.user), pk=pk)


def query(filters: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query string validated by the serializer ``filters``: its values, blanks left out.

    An invalid parameter is a 400 problem document with one error per fault, pointed at
    ``/query/<name>``. The same serializer documents the parameters in the OpenAPI schema.
    """
    data = filters(data=request.query_params)
    if not data.is_valid():
        errors = list(_query_errors(data.errors))
        names = ", ".join(dict.fromkeys(error["pointer"].removeprefix("/query/") for error in errors))
        raise InvalidRequest(f"invalid query parameter: {names}", errors)
    return {name: value for name, value in data.validated_data.items() if value not in (None, "", [])}


def _query_errors(detail: Any, name: str = "") -> Iterator[dict[str, str]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            # a list item's errors are keyed by index: they point at the parameter
            yield from _query_errors(value, name if isinstance(key, int) else str(key))
    elif isinstance(detail, list):
        for item in detail:
            yield from _query_errors(item, name)
    else:
        yield {
            "pointer": f"/query/{name}",
            "code": getattr(detail, "code", None) or "invalid",
            "detail": f"{name}: {detail}",
        }


class CommaSeparated(serializers.ListField):
    """A query parameter taking several values: repeated (``?year=2023&year=2024``), comma-separated
    (``?year=2023,2024``) or both."""

    def get_value(self, dictionary: Any) -> Any:
        if self.field_name not in dictionary:
            return serializers.empty
        values = [
            part.strip()
            for raw in dictionary.getlist(self.field_name)
            for part in str(raw).split(",")
            if part.strip()
        ]
        return values or serializers.empty
