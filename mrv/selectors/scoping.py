"""What each user may see. Every list and every object lookup of the API goes through these.

- an operator sees its own organisation, its facilities and their reports;
- a verifier sees its own body, the facilities it verifies and their reports once submitted;
- a regulator (competent authority) sees everything;
- a user outside any organisation sees nothing.
Objects outside a user's scope are simply absent (404), so their existence does not leak.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Q, QuerySet

from mrv.models import AuditEvent, Facility, Membership, Organisation, Report, ReportRevision, VerificationJob
from mrv.selectors.plain import fetch_one

OPERATOR, VERIFIER, REGULATOR = Membership.Role.OPERATOR, Membership.Role.VERIFIER, Membership.Role.REGULATOR


def membership(user: AbstractBaseUser) -> Membership | None:
    """The user's membership, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_mrv_membership", False)
    if cached is False:
        cached = Membership.objects.select_related("organisation").filter(user_id=user.pk).first()
        user._mrv_membership = cached  # type: ignore[attr-defined]
    return cached


def role_of(user: AbstractBaseUser) -> str | None:
    found = membership(user)
    return found.role if found else None


def organisations_visible_to(user: AbstractBaseUser) -> QuerySet[Organisation]:
    found = membership(user)
    if found is None:
        return Organisation.objects.none()
    if found.role == REGULATOR:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk=found.organisation_id)


def _facility_scope(user: AbstractBaseUser) -> dict[str, int] | None:
    """The condition on the facilities ``user`` may see: ``{}`` for all of them, None for none."""
    found = membership(user)
    if found is None:
        return None
    if found.role == REGULATOR:
        return {}
    if found.role == OPERATOR:
        return {"operator_id": found.organisation_id}
    return {"verification_body_id": found.organisation_id}


def facilities_visible_to(user: AbstractBaseUser) -> QuerySet[Facility]:
    scope = _facility_scope(user)
    facilities = Facility.objects.select_related("operator", "verification_body")
    return facilities.none() if scope is None else facilities.filter(**scope)


def facility_visible_to(user: AbstractBaseUser, pk: int) -> Facility | None:
    """The facility ``pk`` if ``user`` may see it, else None: the rule of :func:`facilities_visible_to`
    in one plain SELECT (no queryset to compile), for the writes that look a facility up on every request."""
    scope = _facility_scope(user)
    low, high = connection.ops.integer_field_range(Facility._meta.pk.get_internal_type())
    if scope is None or not low <= pk <= high:  # as the ORM: an id out of the column's range finds nothing
        return None
    found: Facility | None = fetch_one(Facility, {"id": pk, **scope})
    return found


def reports_visible_to(user: AbstractBaseUser) -> QuerySet[Report]:
    reports = Report.objects.select_related("facility").filter(facility__in=facilities_visible_to(user))
    if role_of(user) == VERIFIER:
        # A verifier sees a report once a revision of it has been submitted, never a first draft.
        submitted = ReportRevision.objects.exclude(status=ReportRevision.Status.DRAFT).values("report_id")
        reports = reports.filter(pk__in=submitted)
    return reports


def revisions_visible_to(user: AbstractBaseUser, *, report: Report) -> QuerySet[ReportRevision]:
    revisions = report.revisions.all()
    if role_of(user) == VERIFIER:
        revisions = revisions.exclude(status=ReportRevision.Status.DRAFT)
    return revisions


def audit_events_visible_to(user: AbstractBaseUser) -> QuerySet[AuditEvent]:
    found = membership(user)
    if found is None:
        return AuditEvent.objects.none()
    if found.role == REGULATOR:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(
        Q(organisation_id=found.organisation_id) | Q(facility__in=facilities_visible_to(user))
    )


def jobs_visible_to(user: AbstractBaseUser) -> QuerySet[VerificationJob]:
    """Verification jobs: a verifier sees its body's, an operator its facilities' (read only), a regulator all."""
    found = membership(user)
    jobs = VerificationJob.objects.select_related("revision__report__facility", "claimed_by")
    if found is None:
        return jobs.none()
    if found.role == REGULATOR:
        return jobs.all()
    if found.role == VERIFIER:
        return jobs.filter(revision__report__facility__verification_body_id=found.organisation_id)
    return jobs.filter(revision__report__facility__operator_id=found.organisation_id)
