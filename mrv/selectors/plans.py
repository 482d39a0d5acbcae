"""Reads of monitoring plans: what a user may see, and the plan in force on a date.

Scoping as for reports: an operator sees its facilities' plans, drafts included (drafts are its
alone); a verifier sees the submitted versions of the facilities it verifies; a regulator every
submitted version. Anything else is absent (404).
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from mrv.domain import plans
from mrv.models import Facility, MonitoringPlan
from mrv.selectors.scoping import facilities_visible_to, sees_drafts

Status = MonitoringPlan.Status


def plans_visible_to(user: AbstractBaseUser) -> QuerySet[MonitoringPlan]:
    found = MonitoringPlan.objects.select_related("facility").filter(facility__in=facilities_visible_to(user))
    return found if sees_drafts(user) else found.exclude(status=Status.DRAFT)


def plan_list(*, user: AbstractBaseUser, filters: dict) -> QuerySet[MonitoringPlan]:  # type: ignore[type-arg]
    found = plans_visible_to(user)
    if "facility" in filters:
        found = found.filter(facility_id=filters["facility"])
    if "status" in filters:
        found = found.filter(status=filters["status"])
    return found.order_by("facility_id", "version")


def plan_in_force(*, facility_id: int, on: date) -> MonitoringPlan | None:
    """The approved version in force on ``on``: the latest ``valid_from`` not after it (of two versions
    valid from the same day, the later one)."""
    return (
        MonitoringPlan.objects.filter(facility_id=facility_id, status=Status.APPROVED, valid_from__lte=on)
        .order_by("-valid_from", "-version")
        .first()
    )


def period_start(year: int, month: int | None) -> date:
    return date(year, month or 1, 1)


def plan_for_period(*, facility_id: int, year: int, month: int | None) -> plans.Plan | None:
    """The plan a report of this period is checked against: the one in force on the period's first
    day, as the checks see it (None: no approved plan covers the period)."""
    found = plan_in_force(facility_id=facility_id, on=period_start(year, month))
    if found is None:
        return None
    return plans.plan_of(
        id=found.pk, version=found.version, valid_from=found.valid_from, sources=found.sources
    )


def facility_plan(*, facility: Facility, on: date) -> MonitoringPlan | None:
    return plan_in_force(facility_id=facility.pk, on=on)
