"""The regulator's dashboard: a server-rendered page (inline SVG charts, no external assets)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from mrv import i18n
from mrv.models import Membership, Organisation
from mrv.selectors.allocation import allocation_panel
from mrv.selectors.dashboard import dashboard, deposit_panel
from mrv.selectors.scoping import (
    REGULATOR,
    MembershipNotFound,
    MembershipRequired,
    compliance_facilities_visible_to,
    jurisdiction_of,
    memberships_of,
    resolve_membership,
)

#: How each kind of organisation is named on the page that refuses its users.
KIND_NAMES = {
    Organisation.Kind.OPERATOR: gettext_noop("an operator"),
    Organisation.Kind.VERIFICATION_BODY: gettext_noop("a verification body"),
    Organisation.Kind.AUTHORITY: gettext_noop("an authority"),
    Organisation.Kind.CONSULTANT: gettext_noop("a consultant"),
}


def _acting(request: HttpRequest) -> Membership | None:
    """The membership the signed-in user acts for: the one named by ``?membership=`` (or the
    ``MRV-Membership`` header), else their only one, else their first regulator membership valid now."""
    user: Any = request.user
    cached = getattr(user, "_mrv_membership", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    requested = request.GET.get("membership") or request.META.get("HTTP_MRV_MEMBERSHIP")
    try:
        found = resolve_membership(user, requested=requested)
    except MembershipNotFound:
        found = None
    except MembershipRequired:
        now = timezone.now()
        regulators = [m for m in memberships_of(user) if m.role == REGULATOR and m.valid_at(now)]
        found = regulators[0] if regulators else None
    user._mrv_membership = found
    return found


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    found = _acting(request)
    if found is None or found.role != REGULATOR:
        return forbidden(request)
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else None
    context = dashboard(year=year, provinces=jurisdiction_of(request.user))
    if context.get("year") is not None:
        context["deposits"] = deposit_panel(user=request.user, year=context["year"])
    if context.get("precision"):
        context["precision"] = i18n.translate(context["precision"])
    if context.get("year"):
        context["allocation"] = allocation_panel(
            facilities=compliance_facilities_visible_to(request.user), year=context["year"]
        )
    return render(request, "mrv/dashboard.html", context)


def forbidden(request: HttpRequest) -> HttpResponse:
    """403, saying why: whose account this is and who the dashboard is for."""
    found = _acting(request)
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
