"""Lookups and checks shared by the API views: scoped object lookups, role checks after them, filters."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from mrv.errors import InvalidRequest
from mrv.models import Report
from mrv.selectors import scoping


def require(request: Request, permission: type[BasePermission]) -> None:
    """Check a role after the object was found in the user's scope: an object outside it is a 404
    (its existence never leaks), one inside it but out of the user's powers a 403."""
    checker = permission()
    if not checker.has_permission(request, None):
        raise PermissionDenied(getattr(checker, "message", None))


def choice_filter(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise InvalidRequest(
            f"{name} must be one of {', '.join(choices)}",
            [{"pointer": f"/query/{name}", "code": "invalid_choice", "detail": "unknown value"}],
        )
    return value


def int_filter(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 9:
        raise InvalidRequest(
            f"{name} must be a whole number",
            [{"pointer": f"/query/{name}", "code": "invalid", "detail": "a whole number"}],
        )
    return int(raw)


def report_for(request: Request, pk: int) -> Report:
    """The report ``pk`` if the user may see it; 404 otherwise."""
    return get_object_or_404(scoping.reports_visible_to(request.user), pk=pk)
