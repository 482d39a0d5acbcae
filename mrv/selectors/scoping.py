"""What each user may see. Every list and every object lookup of the API goes through these.

- an operator sees its own organisation, its facilities and their reports;
- a verifier sees its own body, the facilities it verifies and their reports once submitted, and the
  verification jobs recorded for its body (``VerificationJob.verification_body``: open jobs move with
  the facility, a completed job stays with the body that gave its opinion);
- a regulator (competent authority) sees everything that has been submitted;
- a user outside any organisation sees nothing.

Requests for information follow their verification job (the report's operator, the job's verification
body, the regulator); notifications are their user's alone.

Drafts are the operator's alone until submitted: a verifier or a regulator sees neither a report that
has never been submitted, nor a draft revision (nor its evidence files), nor import jobs (and their
dry-run figures), nor the audit events of draft work (until the revision they concern is submitted).
Objects outside a user's scope are simply absent (404), so their existence does not leak.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat

from mrv.models import (
    AuditEvent,
    Evidence,
    Facility,
    ImportJob,
    InformationRequest,
    Membership,
    MonitoringPlan,
    Notification,
    Organisation,
    Report,
    ReportRevision,
    VerificationJob,
    WebhookDelivery,
    WebhookSubscription,
)
from mrv.selectors.plain import fetch_one

OPERATOR, VERIFIER, REGULATOR = Membership.Role.OPERATOR, Membership.Role.VERIFIER, Membership.Role.REGULATOR
DRAFT = ReportRevision.Status.DRAFT
#: Audit actions of draft work; each names its draft revision in ``data.revision``.
DRAFT_ACTIONS = (
    "report.create",
    "report.update",
    "report.import",
    "report.delete",
    "report.revise",
    "revision.discard",
    "evidence.upload",
    "evidence.delete",
    "evidence.integrity_failed",
)
#: Audit actions of a monitoring plan's draft: shown to others once that plan version is submitted.
PLAN_DRAFT_ACTIONS = ("plan.create", "plan.update", "plan.delete")


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


def sees_drafts(user: AbstractBaseUser) -> bool:
    """Only an operator sees drafts (of its own facilities): they are its alone until submitted."""
    return role_of(user) == OPERATOR


def reports_visible_to(user: AbstractBaseUser) -> QuerySet[Report]:
    reports = Report.objects.select_related("facility").filter(facility__in=facilities_visible_to(user))
    if not sees_drafts(user):
        # A verifier or regulator sees a report once a revision of it was submitted, never a first draft.
        submitted = ReportRevision.objects.exclude(status=DRAFT).values("report_id")
        reports = reports.filter(pk__in=submitted)
    return reports


def revisions_visible_to(user: AbstractBaseUser, *, report: Report) -> QuerySet[ReportRevision]:
    revisions = report.revisions.all()
    if not sees_drafts(user):
        revisions = revisions.exclude(status=DRAFT)
    return revisions


def evidence_visible_to(user: AbstractBaseUser) -> QuerySet[Evidence]:
    """Evidence files follow their revision: an operator sees those of its facilities' reports, drafts
    included; a verifier (of the facility) and a regulator only those of submitted revisions. A file
    uploaded for a request for information follows its request (:func:`requests_visible_to`: the report's
    operator, the job's verification body, the regulator)."""
    own = Q(request__isnull=True, revision__report__in=reports_visible_to(user))
    if not sees_drafts(user):
        own &= ~Q(revision__status=DRAFT)
    for_requests = Q(request__isnull=False, request__in=requests_visible_to(user).values("pk"))
    return Evidence.objects.select_related("revision__report__facility", "uploaded_by").filter(
        own | for_requests
    )


def import_jobs_visible_to(user: AbstractBaseUser) -> QuerySet[ImportJob]:
    """Background imports (and their dry-run figures) go into drafts: the operator's only."""
    found = membership(user)
    if found is None or found.role != OPERATOR:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(report__facility__operator_id=found.organisation_id)


def _without_unsubmitted_draft_work(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """Events of draft work only once the revision they concern has been submitted (never for a draft
    deleted or discarded): the key ``"<report id>:<revision number>"`` is looked up in one hashed set."""
    submitted = (
        ReportRevision.objects.exclude(status=DRAFT)
        .annotate(key=Concat(Cast("report_id", CharField()), Value(":"), Cast("number", CharField())))
        .values("key")
    )
    draft_key = Concat(
        "object_id", Value(":"), KeyTextTransform("revision", "data"), output_field=CharField()
    )
    submitted_plans = (
        MonitoringPlan.objects.exclude(status=MonitoringPlan.Status.DRAFT)
        .annotate(key=Cast("id", CharField()))
        .values("key")
    )
    return events.alias(draft_key=draft_key).filter(
        ~Q(action__in=DRAFT_ACTIONS) | Q(object_type="report", draft_key__in=submitted),
        ~Q(action__in=PLAN_DRAFT_ACTIONS) | Q(object_type="monitoring_plan", object_id__in=submitted_plans),
    )


def audit_events_visible_to(user: AbstractBaseUser) -> QuerySet[AuditEvent]:
    """An operator: its organisation's and its facilities' events. A regulator: all but unsubmitted
    draft work. A verifier: its own body's actions and events about its body, and the events of the
    facilities it verifies now, except unsubmitted draft work and what verifiers of another body did
    there (their claims, findings, answers and opinions stay with the body that gave them)."""
    found = membership(user)
    if found is None:
        return AuditEvent.objects.none()
    ours = Q(organisation_id=found.organisation_id)
    if found.role == OPERATOR:
        return AuditEvent.objects.filter(ours | Q(facility__in=facilities_visible_to(user)))
    events = _without_unsubmitted_draft_work(AuditEvent.objects.all())
    if found.role == REGULATOR:
        return events
    members = Membership.objects.values("user_id")
    colleagues = members.filter(organisation_id=found.organisation_id)
    other_verifiers = members.filter(role=VERIFIER).exclude(organisation_id=found.organisation_id)
    verified_by_us_now = Q(facility__in=facilities_visible_to(user)) & ~Q(actor_id__in=other_verifiers)
    return events.filter(ours | Q(actor_id__in=colleagues) | verified_by_us_now)


def jobs_visible_to(user: AbstractBaseUser) -> QuerySet[VerificationJob]:
    """Verification jobs: a verifier sees those recorded for its body (not decided by the facility's current
    body: a completed job and its opinion stay with the body that gave it), an operator its facilities'
    (read only), a regulator all."""
    found = membership(user)
    jobs = VerificationJob.objects.select_related("revision__report__facility", "claimed_by")
    if found is None:
        return jobs.none()
    if found.role == REGULATOR:
        return jobs.all()
    if found.role == VERIFIER:
        return jobs.filter(verification_body_id=found.organisation_id)
    return jobs.filter(revision__report__facility__operator_id=found.organisation_id)


def webhooks_visible_to(user: AbstractBaseUser) -> QuerySet[WebhookSubscription]:
    """Webhooks are their organisation's: any member sees and manages them, nobody else; a deleted one
    is gone."""
    found = membership(user)
    if found is None:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(organisation_id=found.organisation_id, deleted_at__isnull=True)


def webhook_deliveries_visible_to(
    user: AbstractBaseUser, *, subscription: WebhookSubscription
) -> QuerySet[WebhookDelivery]:
    """The deliveries of one of the user's organisation's webhooks, newest first, with their tries."""
    if not webhooks_visible_to(user).filter(pk=subscription.pk).exists():
        return WebhookDelivery.objects.none()
    return subscription.deliveries.order_by("-created_at", "-id").prefetch_related("tries")


def requests_visible_to(user: AbstractBaseUser) -> QuerySet[InformationRequest]:
    """Requests for information: those of the verification jobs ``user`` sees (:func:`jobs_visible_to`):
    the report's operator, the job's verification body and the regulator."""
    return InformationRequest.objects.select_related(
        "job__revision__report__facility", "finding", "opened_by", "closed_by"
    ).filter(job__in=jobs_visible_to(user))


def notifications_visible_to(user: AbstractBaseUser) -> QuerySet[Notification]:
    """A user's own notifications, nobody else's."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk)


def operator_users_of(facility: Facility) -> QuerySet[AbstractBaseUser]:
    """The users who act for the operator of ``facility`` (told of requests and deadlines)."""
    members = Membership.objects.filter(organisation_id=facility.operator_id, role=OPERATOR)
    return get_user_model().objects.filter(pk__in=members.values("user_id"), is_active=True).order_by("pk")


def body_users_of(organisation_id: int | None) -> QuerySet[AbstractBaseUser]:
    """The verifiers of the verification body ``organisation_id`` (none when the facility has no body)."""
    members = Membership.objects.filter(organisation_id=organisation_id, role=VERIFIER)
    return get_user_model().objects.filter(pk__in=members.values("user_id"), is_active=True).order_by("pk")
