"""Demo data for the embedded mode (``manage.py seed_demo``), loaded from ``fixtures/demo.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from mrv.models import Facility, Membership, Organisation, Report
from mrv.services.facilities import facility_create
from mrv.services.organisations import organisation_create, placeholder_credit_code
from mrv.services.reports import report_create, report_revise, report_submit, revision_transition
from mrv.services.templates import example_lines
from mrv.services.users import user_create_with_token

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    organisation: str
    token: str


@transaction.atomic
def demo_seed(*, path: Path = DEMO_FILE) -> list[DemoUser]:
    """Create the demo organisations and users that do not exist yet; return every demo user's token.

    Idempotent: running it again creates nothing and returns the same tokens.
    """
    demo = json.loads(path.read_text(encoding="utf-8"))
    for organisation in demo["organisations"]:
        if not Organisation.objects.filter(name=organisation["name"]).exists():
            organisation_create(
                name=organisation["name"],
                kind=organisation["kind"],
                credit_code=organisation["credit_code"] or placeholder_credit_code(name=organisation["name"]),
            )
    users = []
    for user in demo["users"]:
        existing = get_user_model().objects.filter(username=user["username"]).first()
        if existing is not None:
            token, _ = Token.objects.get_or_create(user=existing)
        else:
            _, token = user_create_with_token(
                username=user["username"], role=user["role"], organisation_name=user["organisation"]
            )
        users.append(DemoUser(user["role"], user["username"], user["organisation"], token.key))
    _seed_facilities_and_reports(demo)
    return users


def _seed_facilities_and_reports(demo: dict[str, Any]) -> None:
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
    operators = {m.organisation_id: m.user for m in Membership.objects.filter(role="operator")}
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
        for step in entry["path"]:
            if step == "submitted":
                report_submit(by=operator, report=report)
            elif step == "revise":
                report_revise(by=operator, report=report)
            else:
                revision = report.revisions.order_by("-number").first()
                assert revision is not None
                revision_transition(revision=revision, status=step, by=regulator)
