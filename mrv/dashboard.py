"""The regulator's dashboard: a server-rendered page (inline SVG charts, no external assets)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_noop

from mrv import i18n
from mrv.models import Organisation
from mrv.selectors.allocation import allocation_panel
from mrv.selectors.dashboard import dashboard
from mrv.selectors.scoping import REGULATOR, compliance_facilities_visible_to, membership

#: How each kind of organisation is named on the page that refuses its users.
KIND_NAMES = {
    Organisation.Kind.OPERATOR: gettext_noop("an operator"),
    Organisation.Kind.VERIFICATION_BODY: gettext_noop("a verification body"),
    Organisation.Kind.AUTHORITY: gettext_noop("an authority"),
}


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    found = membership(request.user)
    if found is None or found.role != REGULATOR:
        return forbidden(request)
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else None
    context = dashboard(year=year)
    if context.get("precision"):
        context["precision"] = i18n.translate(context["precision"])
    if context.get("year"):
        context["allocation"] = allocation_panel(
            facilities=compliance_facilities_visible_to(request.user), year=context["year"]
        )
    return render(request, "mrv/dashboard.html", context)


def forbidden(request: HttpRequest) -> HttpResponse:
    """403, saying why: whose account this is and who the dashboard is for."""
    found = membership(request.user)
    if found is None:
        reason = gettext("your account belongs to no organisation, so it has no role in this service")
    else:
        kind = gettext(KIND_NAMES.get(found.organisation.kind, found.organisation.kind))
        reason = gettext("your account belongs to {kind} ({organisation})").format(
            kind=kind, organisation=found.organisation.name
        )
    context = {
        "reason": reason,
        "username": request.user.get_username(),
        "role": found.role if found else None,
    }
    return render(request, "mrv/forbidden.html", context, status=403)
