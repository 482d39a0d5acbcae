"""The report create path, written in few statements: what it stores and whom it lets through."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from mrv.models import ActivityLine, AuditEvent, Facility, Report, ReportRevision
from mrv.selectors import scoping
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

pytestmark = pytest.mark.django_db

ROLES = ("operator_a", "operator_b", "verifier_a", "verifier_b", "regulator")


@pytest.mark.parametrize("role", ROLES)
def test_the_facility_lookup_of_a_write_follows_the_scoping_rule(world: World, role: str) -> None:
    user = getattr(world, role).user
    visible = set(scoping.facilities_visible_to(user).values_list("pk", flat=True))
    for facility in Facility.objects.all():
        found = scoping.facility_visible_to(user, facility.pk)
        assert (found is not None) == (facility.pk in visible), (role, facility.pk)
        if found is not None:
            assert (found.pk, found.name, found.sector, found.operator_id) == (
                facility.pk,
                facility.name,
                facility.sector,
                facility.operator_id,
            )


def test_the_facility_lookup_finds_nothing_for_an_unknown_id_or_a_user_without_organisation(
    world: World,
) -> None:
    regulator = world.regulator.user
    assert scoping.facility_visible_to(regulator, world.facility_a.pk) is not None
    assert scoping.facility_visible_to(regulator, 2**31) is None
    assert scoping.facility_visible_to(regulator, 2**80) is None  # beyond any id column
    outsider = get_user_model().objects.create_user(username="no-organisation")
    assert scoping.facility_visible_to(outsider, world.facility_a.pk) is None


def test_a_report_for_a_facility_of_another_operator_is_refused_with_its_pointer(world: World) -> None:
    response = world.client("operator_b").post(
        "/api/v1/reports/", report_body(world.facility_a), format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [error["pointer"] for error in response.json()["errors"]] == ["/facility"]
    assert not Report.objects.exists()


def test_a_created_report_stores_its_revision_lines_and_one_chained_audit_event(world: World) -> None:
    body = report_body(world.facility_a)
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201
    created = response.json()
    report = Report.objects.get(pk=created["id"])
    assert (report.facility_id, report.year, report.revision, report.status) == (
        world.facility_a.pk,
        body["year"],
        1,
        "draft",
    )
    assert report.created_by_id == world.operator_a.user.pk and report.created_at is not None
    revision = ReportRevision.objects.get(report=report)
    assert (revision.number, revision.status, revision.line_count) == (1, "draft", len(body["lines"]))
    assert revision.created_at is not None and revision.status_changed_at is not None
    assert Decimal(revision.totals["totals"]["total"]) == Decimal(created["totals"]["total"])
    stored_lines = list(ActivityLine.objects.filter(revision=revision).order_by("index"))
    assert [line.inputs for line in stored_lines] == created["lines"]
    event = AuditEvent.objects.get(action="report.create")
    assert (event.object_type, event.object_id, event.facility_id, event.organisation_id) == (
        "report",
        str(report.pk),
        world.facility_a.pk,
        world.facility_a.operator_id,
    )
    assert event.data == {"revision": 1, "lines": len(body["lines"])}
    assert event.actor_id == world.operator_a.user.pk
    call_command("verify_audit_chain")


def test_fetch_one_loads_what_select_related_loads(world: World) -> None:
    from mrv.models import ApiToken, Certification, Membership, ReportRevision
    from mrv.selectors.plain import fetch_one
    from mrv.services.reports import report_create, report_submit

    paths = ("user", "membership__organisation")  # a token and the membership it is bound to
    for token in ApiToken.objects.all():
        expected = ApiToken.objects.select_related(*paths).get(pk=token.pk)
        found = fetch_one(ApiToken, {"digest": token.digest}, related=paths)
        assert found is not None and found.pk == expected.pk and found.digest == expected.digest
        assert (found.user.pk, found.user.username) == (expected.user.pk, expected.user.username)
        membership = found.membership
        assert (membership.role, membership.organisation.name) == (
            expected.membership.role,
            expected.membership.organisation.name,
        )
    assert fetch_one(ApiToken, {"digest": "no such digest"}, related=paths) is None
    token = ApiToken.objects.first()
    assert token is not None
    Membership.objects.filter(user_id=token.user_id).delete()  # the token is bound to none now
    found = fetch_one(ApiToken, {"digest": token.digest}, related=paths)
    assert found is not None and found.membership is None

    # A reverse one-to-one (a revision's certification): missing raises, as after select_related.
    draft = report_create(
        by=world.operator_b.user, facility=world.facility_b, year=2024, month=None, methodology=None, lines=[]
    ).revision
    found = fetch_one(ReportRevision, {"id": draft.pk}, related=("certification",))
    assert found is not None
    with pytest.raises(Certification.DoesNotExist):
        _ = found.certification
    facility_a_draft = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=report_body(world.facility_a)["lines"],
    ).report
    submitted = report_submit(
        by=world.operator_a.user,
        report=facility_a_draft,
        certified_for=Membership.objects.get(user=world.operator_a.user),
    )
    found = fetch_one(ReportRevision, {"id": submitted.pk}, related=("certification",))
    assert found is not None
    assert found.certification.revision is found
    assert found.certification.name == world.operator_a.user.username

    # A nullable forward relation: None when unset, loaded when set.
    facility = Facility.objects.filter(verification_body__isnull=False).first()
    assert facility is not None
    loaded = fetch_one(Facility, {"id": facility.pk}, related=("verification_body", "operator"))
    assert loaded is not None
    assert loaded.verification_body.pk == facility.verification_body_id
    assert loaded.operator.name == facility.operator.name
    Facility.objects.filter(pk=facility.pk).update(verification_body=None)
    loaded = fetch_one(Facility, {"id": facility.pk}, related=("verification_body",))
    assert loaded is not None and loaded.verification_body is None


def test_fetch_one_reads_values_as_the_orm_does(world: World) -> None:
    from mrv.selectors.plain import fetch_one

    response = world.client("operator_a").post(
        "/api/v1/reports/", report_body(world.facility_a), format="json"
    )
    revision = ReportRevision.objects.get(report_id=response.json()["id"])
    found = fetch_one(ReportRevision, {"id": revision.pk}, related=("report__facility",))
    assert found is not None
    assert found.totals == revision.totals and isinstance(found.totals, dict)  # JSON decoded
    assert found.created_at == revision.created_at and found.created_at.tzinfo is not None
    assert found.report.facility.created_at == world.facility_a.created_at
