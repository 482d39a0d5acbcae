"""Demo data for the embedded mode (``manage.py seed_demo``), loaded from ``fixtures/demo.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from mrv.models import ApiToken, Facility, FacilityGrant, Membership, Organisation, Report, VerificationJob
from mrv.services.facilities import facility_create
from mrv.services.memberships import grant_create, jurisdiction_set, membership_create
from mrv.services.organisations import organisation_create, placeholder_credit_code
from mrv.services.reports import report_create, report_revise, report_submit, revision_transition
from mrv.services.templates import example_lines
from mrv.services.tokens import token_issue, token_revoke
from mrv.services.users import user_create_with_token
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"
DEMO_TOKEN_NAME = "demo (manage.py seed_demo)"


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    organisation: str
    token: str


@transaction.atomic
def demo_seed(*, path: Path = DEMO_FILE) -> list[DemoUser]:
    """Create the demo organisations and users that do not exist yet; return a token for each demo user.

    Idempotent for the data: running it again creates nothing. Tokens are stored only as digests, so
    each run issues every demo user a new token (named ``DEMO_TOKEN_NAME``) and revokes the previous one.
    """
    demo = json.loads(path.read_text(encoding="utf-8"))
    for organisation in demo["organisations"]:
        if not Organisation.objects.filter(name=organisation["name"]).exists():
            created = organisation_create(
                name=organisation["name"],
                kind=organisation["kind"],
                credit_code=organisation["credit_code"] or placeholder_credit_code(name=organisation["name"]),
            )
            if organisation.get("provinces"):
                jurisdiction_set(by=None, organisation=created, provinces=organisation["provinces"])
    users = []
    plain_users = [user for user in demo["users"] if not _acts_on_facilities(user)]
    for user in plain_users:
        users.append(_demo_user(user, facilities={}))
    facilities = _seed_facilities_and_reports(demo)
    # Users narrowed to some facilities (and second memberships) once the facilities exist.
    for user in demo["users"]:
        if _acts_on_facilities(user):
            users.append(_demo_user(user, facilities=facilities))
    for user in demo["users"]:
        for extra in user.get("also", []):
            account = get_user_model().objects.get(username=user["username"])
            organisation = Organisation.objects.get(name=extra["organisation"])
            if not Membership.objects.filter(user=account, organisation=organisation).exists():
                membership_create(
                    by=None,
                    user=account,
                    organisation=organisation,
                    role=extra["role"],
                    capability=extra.get("capability", ""),
                )
    for grant in demo.get("grants", []):
        facility, grantee = facilities[grant["facility"]], Organisation.objects.get(name=grant["grantee"])
        if not FacilityGrant.objects.filter(
            facility=facility, grantee=grantee, revoked_at__isnull=True
        ).exists():
            grant_create(
                by=get_user_model().objects.get(username=grant["by"]), facility=facility, grantee=grantee
            )
    _seed_allocation_plan()
    return users


def _acts_on_facilities(user: dict[str, Any]) -> bool:
    return bool(user.get("facilities"))


def _demo_user(user: dict[str, Any], *, facilities: dict[str, Facility]) -> DemoUser:
    """The demo user (created with their first membership if missing) and a new token bound to it."""
    existing = get_user_model().objects.filter(username=user["username"]).first()
    if existing is not None:
        for previous in ApiToken.objects.filter(user=existing, name=DEMO_TOKEN_NAME):
            token_revoke(user=existing, token=previous)
        first = Membership.objects.filter(user=existing).order_by("id").first()
        token = token_issue(user=existing, name=DEMO_TOKEN_NAME, membership=first)
    else:
        organisation = Organisation.objects.get(name=user["organisation"])
        _, token = user_create_with_token(
            username=user["username"],
            role=user["role"],
            organisation_name=user["organisation"],
            token_name=DEMO_TOKEN_NAME,
            capability=user.get("capability", ""),
            facilities=[facilities[name] for name in user.get("facilities", [])],
            consultant=organisation.kind == Organisation.Kind.CONSULTANT,
        )
    return DemoUser(user["role"], user["username"], user["organisation"], token.key)


def _seed_facilities_and_reports(demo: dict[str, Any]) -> dict[str, Facility]:
    """Facilities in all three sectors across provinces, and reports in every status."""
    regulator = get_user_model().objects.get(username="demo-regulator")
    organisations = {o.name: o for o in Organisation.objects.all()}
    facilities = {}
    for entry in demo["facilities"]:
        operator = organisations[entry["operator"]]
        facility = Facility.objects.filter(operator=operator, name=entry["name"]).first()
        if facility is None:
            facility = facility_create(
                by=regulator,
                name=entry["name"],
                operator=operator,
                sector=entry["sector"],
                province=entry["province"],
                verification_body=organisations[entry["verification_body"]],
            )
        facilities[entry["name"]] = facility
    # Each operator's reports are made by its first member (the demo operator user).
    operators = {
        m.organisation_id: m.user
        for m in Membership.objects.filter(role=Membership.Role.OPERATOR)
        .order_by("-id")
        .select_related("user")
    }
    verifier = get_user_model().objects.get(username="demo-verifier")
    for entry in demo["reports"]:
        facility = facilities[entry["facility"]]
        if Report.objects.filter(facility=facility, year=entry["year"], month__isnull=True).exists():
            continue
        operator = operators[facility.operator_id]
        report = report_create(
            by=operator,
            facility=facility,
            year=entry["year"],
            month=None,
            methodology=None,
            lines=example_lines()[facility.sector],
        ).report
        _walk(report, entry["path"], operator=operator, verifier=verifier)
    return facilities


def _walk(report: Report, path: str, *, operator: Any, verifier: Any) -> None:
    """Take a demo report along the real workflow, through the same services the API calls."""
    if path == "draft":
        return
    revision = report_submit(by=operator, report=report)
    job = VerificationJob.objects.get(revision=revision, kind="verification")
    if path == "submitted":
        return  # queued: the worker of `make run` checks it
    if path == "checks_running":
        VerificationJob.objects.filter(pk=job.pk).update(status="running")
        revision_transition(revision=revision, status="checks_running")
        return  # as if a worker were mid-run: the worker of `make run` finishes it
    checks_run(job_id=job.pk)
    if path == "in_verification":
        return
    job_claim(job=job, by=verifier)
    if path == "verified":
        for finding in job.findings.filter(source="automated", severity="warning"):
            finding_acknowledge(
                job=job,
                finding_id=finding.pk,
                by=verifier,
                note="demo data: reviewed against the plant's records and accepted",
            )
        opinion_issue(
            job=job,
            by=verifier,
            opinion="verified",
            statement="Demo: verified without material misstatement.",
        )
        return
    opinion_issue(job=job, by=verifier, opinion="not_verified", statement="Demo: returned for correction.")
    if path == "revised":
        report_revise(by=operator, report=report)


#: The demo's allocation plan: ILLUSTRATIVE. Its rule allocates each facility its verified direct
#: emissions (the method China used for the 2024 compliance year of the new sectors); it names no
#: benchmark, and its shares and due date are examples, not an authority's published figures.
ILLUSTRATIVE_PLAN = {
    "code": "ILLUSTRATIVE-2024",
    "year": 2024,
    "rules": {
        product: {"method": "verified_emissions"}
        for product in ("clinker", "crude_steel", "aluminium_liquid")
    },
    "preallocation_share": Decimal("0.7"),
    "offset_limit_share": Decimal("0.05"),
    "surrender_due": date(2025, 12, 31),
    "illustrative": True,
}


def _seed_allocation_plan() -> None:
    """The illustrative plan, published and finalised over the demo's verified reports (once)."""
    from mrv.models import AllocationPlan
    from mrv.services.allocation import plan_create, plan_publish, run_create, run_inline

    year = ILLUSTRATIVE_PLAN["year"]
    if (
        AllocationPlan.objects.filter(code=ILLUSTRATIVE_PLAN["code"]).exists()
        or AllocationPlan.objects.filter(year=year, status=AllocationPlan.Status.PUBLISHED).exists()
    ):
        return
    regulator = get_user_model().objects.get(username="demo-regulator")
    plan = plan_publish(by=regulator, plan=plan_create(by=regulator, **ILLUSTRATIVE_PLAN))  # type: ignore[arg-type]
    run_inline(run_id=run_create(by=regulator, plan=plan, kind="finalise", enqueue=False).pk)
