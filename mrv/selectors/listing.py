"""Lists of the API with their filters: what a user may see (``scoping``), narrowed by validated filters.

Each takes ``filters``, the validated query of the view (absent keys are not filtered on).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from mrv.models import AWAITING_OPERATOR, AuditEvent, Facility, InformationRequest, VerificationJob
from mrv.selectors import scoping


def _narrowed(rows: QuerySet[Any], filters: Mapping[str, Any], names: tuple[str, ...]) -> QuerySet[Any]:
    wanted = {name: filters[name] for name in names if name in filters}
    return rows.filter(**wanted) if wanted else rows


def facility_list(*, user: AbstractBaseUser, filters: Mapping[str, Any]) -> QuerySet[Facility]:
    """Facilities by name; ``sector``, ``province``."""
    facilities = scoping.facilities_visible_to(user).order_by("name", "id")
    return _narrowed(facilities, filters, ("sector", "province"))


def awaiting_operator() -> Exists:
    """Whether a job in review has a request for information awaiting the operator's answer."""
    return Exists(
        InformationRequest.objects.filter(job=OuterRef("pk"), status=InformationRequest.Status.OPEN)
    ) & Q(status=VerificationJob.Status.IN_REVIEW)


def job_list(*, user: AbstractBaseUser, filters: Mapping[str, Any]) -> QuerySet[VerificationJob]:
    """Verification jobs, oldest first (the queue order); ``status`` (``awaiting_operator``: in review,
    a request for information awaiting the operator; ``in_review``: the others in review), ``kind``."""
    jobs = (
        scoping.jobs_visible_to(user)
        .prefetch_related("findings")
        .annotate(awaiting_operator=awaiting_operator())
        .order_by("enqueued_at", "id")
    )
    status = filters.get("status")
    if status == AWAITING_OPERATOR:
        jobs = jobs.filter(awaiting_operator=True)
    elif status == VerificationJob.Status.IN_REVIEW:
        jobs = jobs.filter(awaiting_operator=False)
    return _narrowed(
        jobs,
        {k: v for k, v in filters.items() if k != "status" or v != AWAITING_OPERATOR},
        ("status", "kind"),
    )


def audit_event_list(*, user: AbstractBaseUser, filters: Mapping[str, Any]) -> QuerySet[AuditEvent]:
    """Audit events, newest first (by id: ``sequence`` counts within each chain); ``object_type``,
    ``object_id``, ``action``."""
    events = scoping.audit_events_visible_to(user).order_by("-id")
    return _narrowed(events, filters, ("object_type", "object_id", "action"))
