"""The regulator's dashboard: a server-rendered page (inline SVG charts, no external assets)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mrv.selectors.dashboard import dashboard
from mrv.selectors.scoping import REGULATOR, role_of


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    if role_of(request.user) != REGULATOR:
        raise PermissionDenied("The dashboard is for the competent authority.")
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else None
    return render(request, "mrv/dashboard.html", dashboard(year=year))
