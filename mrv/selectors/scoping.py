"""What each user may see. Every list and every object lookup of the API goes through these.

- an operator sees its own organisation, its facilities and their reports;
- a verifier sees its own body, the facilities it verifies and their reports once submitted, and the
  verification jobs recorded for its body (``VerificationJob.verification_body``: open jobs move with
  the facility, a completed job stays with the body that gave its opinion);
- a regulator (competent authority) sees everything that has been submitted within its jurisdiction
  (a national authority: everywhere; a provincial one: the facilities of its provinces and their
  reports, jobs, plans, audit events and figures);
- a consultant (role operator in a consultant organisation) sees the facilities an operator granted
  its organisation, as long as the grant is not revoked;
- a user outside any organisation sees nothing.

Requests for information follow their verification job (the report's operator, the job's verification
body, the regulator); notifications are their user's alone.
A user may hold several memberships; each request acts for one (:func:`membership`: the token's, the
``MRV-Membership`` header's, or the only one) and sees only what that membership sees.

Drafts are the operator's alone until submitted: a verifier or a regulator sees neither a report that
has never been submitted, nor a draft revision (nor its evidence files), nor import jobs (and their
dry-run figures), nor the audit events of draft work (until the revision they concern is submitted).
Objects outside a user's scope are simply absent (404), so their existence does not leak.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from mrv.errors import ServiceError
from mrv.models import (
    Allocation,
    AllocationPlan,
    AllocationRun,
    AuditEvent,
    Evidence,
    Facility,
    FacilityGrant,
    ImportJob,
    InformationRequest,
    Membership,
    MonitoringPlan,
    Notification,
    Organisation,
    Report,
    ReportRevision,
    Surrender,
    VerificationJob,
    WebhookDelivery,
    WebhookSubscription,
)
from mrv.selectors.plain import fetch_one

OPERATOR, VERIFIER, REGULATOR = Membership.Role.OPERATOR, Membership.Role.VERIFIER, Membership.Role.REGULATOR
PREPARER, SUBMITTER = Membership.Capability.PREPARER, Membership.Capability.SUBMITTER
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


class MembershipRequired(ServiceError):
    """The user holds several memberships and the request names none of them."""

    code = "membership_required"
    title = "Say which membership this request acts for"


class MembershipNotFound(ServiceError):
    """The request names a membership that is not the user's (or not the token's)."""

    status = 404
    code = "membership_not_found"
    title = "No such membership of yours"


def _annotated(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Memberships with their organisation and ``restricted`` (some facilities are listed), one query."""
    listed = Membership.facilities.through.objects.filter(membership_id=OuterRef("pk"))
    return memberships.select_related("organisation").annotate(restricted=Exists(listed))


def memberships_of(user: AbstractBaseUser) -> QuerySet[Membership]:
    """All of ``user``'s memberships (valid now or not), oldest first."""
    return _annotated(Membership.objects.filter(user_id=user.pk)).order_by("id")


def resolve_membership(
    user: AbstractBaseUser, *, requested: str | None = None, bound: Membership | None = None
) -> Membership | None:
    """The membership a request of ``user`` acts for.

    ``bound``: the membership the request's token is bound to (then ``requested`` may only name it).
    ``requested``: the ``MRV-Membership`` header. Without either, the user's only membership valid now;
    several and none named is :class:`MembershipRequired`; a named one not theirs (or not valid now) is
    :class:`MembershipNotFound`. A membership outside its validity acts for nobody (None).
    """
    now = timezone.now()
    if requested is not None:
        requested = requested.strip()
    if bound is not None:
        if requested and requested != str(bound.pk):
            raise MembershipNotFound(
                f"this token acts for membership {bound.pk} only; send no MRV-Membership header with it, "
                "or use a token of the membership you named"
            )
        return bound if bound.valid_at(now) else None
    found = [m for m in memberships_of(user) if m.valid_at(now)]
    if requested:
        chosen = next((m for m in found if str(m.pk) == requested), None)
        if chosen is None:
            shown = requested if requested.isdigit() and len(requested) <= 19 else "(not an id)"
            raise MembershipNotFound(
                f"MRV-Membership {shown} is not one of your memberships valid now; "
                "GET /api/v1/auth/memberships/ lists yours"
            )
        return chosen
    if len(found) > 1:
        raise MembershipRequired(
            f"you hold {len(found)} memberships: name the one this request acts for with the header "
            "MRV-Membership: <id> (GET /api/v1/auth/memberships/ lists them), or use a token bound to one"
        )
    return found[0] if found else None


def membership(user: AbstractBaseUser) -> Membership | None:
    """The membership the user acts for in this request, cached on the user object for the request: the
    token's binding or the ``MRV-Membership`` header (noted by authentication), else the only one. Raises
    :class:`MembershipRequired` (400) or :class:`MembershipNotFound` (404), answered as problems."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_mrv_membership", False)
    if cached is False:
        cached = resolve_membership(
            user,
            requested=getattr(user, "_mrv_requested_membership", None),
            bound=getattr(user, "_mrv_bound_membership", None),
        )
        user._mrv_membership = cached  # type: ignore[attr-defined]
    return cached


def role_of(user: AbstractBaseUser) -> str | None:
    found = membership(user)
    return found.role if found else None


def capability_of(user: AbstractBaseUser) -> str | None:
    """``preparer`` or ``submitter`` for an operator-side membership, else None."""
    found = membership(user)
    if found is None or found.role != OPERATOR:
        return None
    return found.capability or None


def may_submit(user: AbstractBaseUser) -> bool:
    """Only an operator-side ``submitter`` submits (certifying the report) and answers requests."""
    return capability_of(user) == SUBMITTER


def may_grant(user: AbstractBaseUser) -> bool:
    """Only the operator organisation's own submitters grant consultants access to its facilities."""
    found = membership(user)
    return found is not None and may_submit(user) and not is_consultant(found)


def jurisdiction_of(user: AbstractBaseUser) -> list[str] | None:
    """A regulator's provinces (ISO 3166-2:CN); None for a national authority (and for other roles)."""
    found = membership(user)
    if found is None or found.role != REGULATOR:
        return None
    return list(found.organisation.provinces) or None


def within_jurisdiction(user: AbstractBaseUser, province: str) -> bool:
    """Whether a regulator's jurisdiction covers ``province`` (always, for a national one)."""
    provinces = jurisdiction_of(user)
    return provinces is None or province in provinces


def is_consultant(found: Membership) -> bool:
    return found.organisation.kind == Organisation.Kind.CONSULTANT


def organisations_visible_to(user: AbstractBaseUser) -> QuerySet[Organisation]:
    """A national regulator: all. A provincial one: itself, every verification body and consultant, and the
    operators with a facility in its provinces. Others: their own organisation."""
    found = membership(user)
    if found is None:
        return Organisation.objects.none()
    if found.role == REGULATOR:
        provinces = jurisdiction_of(user)
        if provinces is None:
            return Organisation.objects.all()
        operators = Facility.objects.filter(province__in=provinces).values("operator_id")
        return Organisation.objects.filter(
            Q(pk=found.organisation_id)
            | Q(kind__in=[Organisation.Kind.VERIFICATION_BODY, Organisation.Kind.CONSULTANT])
            | Q(pk__in=operators)
        )
    return Organisation.objects.filter(pk=found.organisation_id)


def _facility_scope(user: AbstractBaseUser) -> dict[str, Any] | None:
    """The condition on the facilities ``user`` may see: ``{}`` for all of them, None for none.

    A regulator: its jurisdiction's provinces (national: all). A verifier: its body's facilities. An
    operator: its organisation's, narrowed to the membership's facilities when it lists some. A
    consultant: the facilities granted to its organisation and not revoked (a subquery: evaluated by
    each statement, so a revocation applies to the next request), narrowed the same way.
    """
    found = membership(user)
    if found is None:
        return None
    if found.role == REGULATOR:
        provinces = list(found.organisation.provinces)
        return {"province__in": provinces} if provinces else {}
    if found.role == VERIFIER:
        return {"verification_body_id": found.organisation_id}
    scope: dict[str, Any]
    if is_consultant(found):
        granted = FacilityGrant.objects.filter(grantee_id=found.organisation_id, revoked_at__isnull=True)
        scope = {"pk__in": granted.values("facility_id")}
    else:
        scope = {"operator_id": found.organisation_id}
    restricted = getattr(found, "restricted", None)
    if restricted is None:
        restricted = found.facilities.exists()
    if restricted:
        listed = Membership.facilities.through.objects.filter(membership_id=found.pk)
        scope["id__in"] = listed.values("facility_id")
    return scope


def _prefixed(scope: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The facility scope as conditions on a related facility (``revision__report__facility``)."""
    return {f"{prefix}__{key}": value for key, value in scope.items()}


def facilities_visible_to(user: AbstractBaseUser) -> QuerySet[Facility]:
    scope = _facility_scope(user)
    facilities = Facility.objects.select_related("operator", "verification_body")
    return facilities.none() if scope is None else facilities.filter(**scope)


def facility_visible_to(user: AbstractBaseUser, pk: int) -> Facility | None:
    """The facility ``pk`` if ``user`` may see it, else None: the rule of :func:`facilities_visible_to`
    in one plain SELECT (no queryset to compile) when it is made of equalities, for the writes that look
    a facility up on every request."""
    scope = _facility_scope(user)
    low, high = connection.ops.integer_field_range(Facility._meta.pk.get_internal_type())
    if scope is None or not low <= pk <= high:  # as the ORM: an id out of the column's range finds nothing
        return None
    if any("__" in key for key in scope):
        return Facility.objects.filter(pk=pk, **scope).first()
    found: Facility | None = fetch_one(Facility, {"id": pk, **scope})
    return found


def memberships_managed_by(user: AbstractBaseUser) -> QuerySet[Membership]:
    """The memberships ``user`` may change: a national regulator, anyone's; a provincial regulator or an
    operator-side submitter (a consultant's too), their own organisation's; others, none."""
    found = membership(user)
    memberships = _annotated(Membership.objects.all()).select_related("user").prefetch_related("facilities")
    if found is None:
        return memberships.none()
    if found.role == REGULATOR:
        if jurisdiction_of(user) is None:
            return memberships
        return memberships.filter(organisation_id=found.organisation_id)
    if may_submit(user):
        return memberships.filter(organisation_id=found.organisation_id)
    return memberships.none()


def grants_visible_to(user: AbstractBaseUser, *, facility: Facility) -> QuerySet[FacilityGrant]:
    """The grants of ``facility`` (which the caller found through :func:`facilities_visible_to`): its
    operator's members and the regulators see them all; a consultant sees its own organisation's."""
    found = membership(user)
    grants = FacilityGrant.objects.select_related("grantee", "granted_by", "revoked_by").filter(
        facility=facility
    )
    if found is None or found.role == VERIFIER:
        return grants.none()
    if found.role == OPERATOR and is_consultant(found):
        return grants.filter(grantee_id=found.organisation_id)
    return grants


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
    """Background imports (and their dry-run figures) go into drafts: the operator's only (of the
    facilities its membership acts on)."""
    found = membership(user)
    scope = _facility_scope(user)
    if found is None or found.role != OPERATOR or scope is None:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(**_prefixed(scope, "report__facility"))


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
        scope = _facility_scope(user) or {}
        if set(scope) != {"operator_id"}:  # a consultant, or a membership narrowed to some facilities
            ours &= Q(facility__isnull=True)
        return AuditEvent.objects.filter(ours | Q(**_prefixed(scope, "facility")))
    events = _without_unsubmitted_draft_work(AuditEvent.objects.all())
    if found.role == REGULATOR:
        provinces = jurisdiction_of(user)
        if provinces is None:
            return events
        return events.filter(ours | Q(facility__province__in=provinces))
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
    if found.role == VERIFIER:
        return jobs.filter(verification_body_id=found.organisation_id)
    scope = _facility_scope(user)
    if scope is None:
        return jobs.none()
    return jobs.filter(**_prefixed(scope, "revision__report__facility"))


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


# -- allocation and compliance (SPEC §11) ------------------------------------------------------------
def allocation_plans_visible_to(user: AbstractBaseUser) -> QuerySet[AllocationPlan]:
    """Allocation plans are the competent authority's working data: a regulator sees them, nobody else."""
    return AllocationPlan.objects.all() if role_of(user) == REGULATOR else AllocationPlan.objects.none()


def allocation_runs_visible_to(user: AbstractBaseUser) -> QuerySet[AllocationRun]:
    """The pre-allocation and finalisation runs requested within the regulator's own organisation."""
    found = membership(user)
    if found is None or found.role != REGULATOR:
        return AllocationRun.objects.none()
    colleagues = Membership.objects.filter(organisation_id=found.organisation_id).values("user_id")
    return AllocationRun.objects.select_related("plan").filter(requested_by_id__in=colleagues)


def allocation_facilities_in_scope(user: AbstractBaseUser) -> QuerySet[Facility]:
    """The facilities a pre-allocation or finalisation requested by ``user`` runs over: those the user
    sees (a provincial regulator's province, once scoped)."""
    return facilities_visible_to(user) if role_of(user) == REGULATOR else Facility.objects.none()


def compliance_facilities_visible_to(user: AbstractBaseUser) -> QuerySet[Facility]:
    """Whose allocations, compliance balance and surrenders ``user`` sees: an operator its facilities', a
    regulator those it oversees; a verifier none (compliance is not part of verification)."""
    if role_of(user) not in (OPERATOR, REGULATOR):
        return Facility.objects.none()
    return facilities_visible_to(user)


def allocations_visible_to(user: AbstractBaseUser) -> QuerySet[Allocation]:
    return Allocation.objects.select_related("plan").filter(
        facility__in=compliance_facilities_visible_to(user), plan__status=AllocationPlan.Status.PUBLISHED
    )


def surrenders_visible_to(user: AbstractBaseUser) -> QuerySet[Surrender]:
    return Surrender.objects.filter(facility__in=compliance_facilities_visible_to(user))
