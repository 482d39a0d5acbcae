"""Who may act for whom (issue 16): provincial and national authorities, several memberships per user,
consultants granted facilities by the operator, and the submitter's certified sign-off."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from knox.crypto import hash_token

from mrv.domain.certification import STATEMENT
from mrv.models import ApiToken, AuditEvent, Certification, FacilityGrant, Membership, Organisation, Report
from mrv.services.facilities import facility_create
from mrv.services.memberships import membership_create
from mrv.services.reports import report_create, report_submit
from mrv.services.tokens import token_issue
from mrv.services.users import user_create_with_token
from mrv.services.verification import checks_run, finding_acknowledge, job_claim, opinion_issue
from tests.mrv import factories
from tests.mrv.factories import ApiUser, World, client_for
from tests.mrv.reporting_helpers import report_body
from tests.mrv.test_query_counts import assert_same_count, results
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db

CERTIFY = {"certify": True}


def organisation_of(user: ApiUser) -> Organisation:
    return Membership.objects.get(user=user.user).organisation


@dataclass
class Authorities:
    """The world, a CN-AH facility of operator A (verified by verifier A) and a CN-JS authority."""

    world: World
    facility_ah: Any
    jiangsu: ApiUser

    def client(self, name: str) -> Any:
        return client_for(self.jiangsu) if name == "jiangsu" else self.world.client(name)


@pytest.fixture
def authorities(world: World) -> Authorities:
    facility_ah = facility_create(
        by=world.regulator.user,
        name="Cement plant Anhui",
        operator=organisation_of(world.operator_a),
        sector="cement",
        province="CN-AH",
        verification_body=organisation_of(world.verifier_a),
    )
    user, token = user_create_with_token(
        username="jiangsu-regulator", role="regulator", organisation_name="Jiangsu EEB", provinces=["CN-JS"]
    )
    return Authorities(world=world, facility_ah=facility_ah, jiangsu=ApiUser(user=user, token=token.key))


def verified_report(world: World, facility: Any, *, year: int = 2024) -> Report:
    """Operator A's annual report of ``facility``, submitted, checked and verified by verifier A."""
    report = report_create(
        by=world.operator_a.user,
        facility=facility,
        year=year,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    job = report_submit(by=world.operator_a.user, report=report).verification_jobs.get()
    checks_run(job_id=job.pk)
    job = job_claim(job=job, by=world.verifier_a.user)
    for finding in job.findings.filter(source="automated", severity="warning"):
        finding_acknowledge(job=job, finding_id=finding.pk, by=world.verifier_a.user, note="checked")
    opinion_issue(job=job, by=world.verifier_a.user, opinion="verified", statement="fairly stated")
    return report


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    document = response.json()
    assert document["code"] == code, document
    return document


# -- 1. jurisdictions ------------------------------------------------------------------------------------------
def test_a_provincial_regulator_finds_nothing_outside_its_province_and_the_national_one_sees_both(
    authorities: Authorities,
) -> None:
    world = authorities.world
    in_js, in_ah = verified_report(world, world.facility_a), verified_report(world, authorities.facility_ah)
    job_js = in_js.revisions.get().verification_jobs.get()
    job_ah = in_ah.revisions.get().verification_jobs.get()
    jiangsu, national = authorities.client("jiangsu"), authorities.client("regulator")

    for url in (
        f"/api/v1/facilities/{authorities.facility_ah.pk}/",
        f"/api/v1/reports/{in_ah.pk}/",
        f"/api/v1/verification-jobs/{job_ah.pk}/",
        f"/api/v1/reports/{in_ah.pk}/revisions/",
    ):
        problem(jiangsu.get(url), 404, "not_found")
        assert national.get(url).status_code == 200, url
    for url in (
        f"/api/v1/facilities/{world.facility_a.pk}/",
        f"/api/v1/reports/{in_js.pk}/",
        f"/api/v1/verification-jobs/{job_js.pk}/",
    ):
        assert jiangsu.get(url).status_code == 200, url

    facilities = {row["province"] for row in jiangsu.get("/api/v1/facilities/").json()["results"]}
    assert facilities == {"CN-JS"}
    everywhere = {row["province"] for row in national.get("/api/v1/facilities/").json()["results"]}
    assert everywhere == {"CN-JS", "CN-AH", "CN-NM"}
    assert {row["id"] for row in jiangsu.get("/api/v1/reports/").json()["results"]} == {in_js.pk}
    assert {row["id"] for row in national.get("/api/v1/reports/").json()["results"]} == {in_js.pk, in_ah.pk}
    assert {row["id"] for row in jiangsu.get("/api/v1/verification-jobs/").json()["results"]} == {job_js.pk}

    # Overdue monthly deposits: every facility deposited nothing monthly in 2024.
    def overdue(client: Any) -> set[int]:
        answer = client.get("/api/v1/deposits/overdue/", {"year": 2024, "on": "2024-04-10"})
        assert answer.status_code == 200, answer.content
        return {row["facility"] for row in answer.json()["results"]}

    assert overdue(jiangsu) == {world.facility_a.pk}
    assert overdue(national) == {world.facility_a.pk, authorities.facility_ah.pk, world.facility_b.pk}

    # Audit events: the Anhui facility's are absent for Jiangsu, present for the ministry.
    def facilities_in_events(client: Any) -> set[int | None]:
        return {
            row.get("facility") for row in client.get("/api/v1/audit-events/?page_size=500").json()["results"]
        }

    assert authorities.facility_ah.pk not in facilities_in_events(jiangsu)
    assert world.facility_a.pk in facilities_in_events(jiangsu)
    assert authorities.facility_ah.pk in facilities_in_events(national)
    ah_events = AuditEvent.objects.filter(facility=authorities.facility_ah).count()
    assert ah_events > 0


def test_aggregates_exports_comparison_and_dashboard_of_a_provincial_regulator_hold_its_province_only(
    authorities: Authorities, client: Any
) -> None:
    world = authorities.world
    verified_report(world, world.facility_a)
    verified_report(world, authorities.facility_ah)
    jiangsu, national = authorities.client("jiangsu"), authorities.client("regulator")

    provincial = jiangsu.get("/api/v1/aggregates/?group_by=province").json()
    assert [row["province"] for row in provincial["results"]] == ["CN-JS"]
    assert provincial["totals"]["reports"] == 1
    both = national.get("/api/v1/aggregates/?group_by=province").json()
    assert sorted(row["province"] for row in both["results"]) == ["CN-AH", "CN-JS"]
    assert both["totals"]["reports"] == 2
    # Jiangsu's figures are the national CN-JS row's, exactly (the same report).
    [jiangsu_row] = [row for row in both["results"] if row["province"] == "CN-JS"]
    assert provincial["results"][0]["total"] == jiangsu_row["total"] == provincial["totals"]["total"]

    exported = jiangsu.get("/api/v1/aggregates/?group_by=province", HTTP_ACCEPT="text/csv").content.decode()
    assert "CN-JS" in exported and "CN-AH" not in exported

    compared = jiangsu.get("/api/v1/aggregates/comparison/?year=2024").json()["results"]
    assert {row["facility"] for row in compared} == {world.facility_a.pk}
    assert {
        row["facility"] for row in national.get("/api/v1/aggregates/comparison/?year=2024").json()["results"]
    } == {
        world.facility_a.pk,
        authorities.facility_ah.pk,
    }

    client.force_login(authorities.jiangsu.user)
    page = client.get("/dashboard/?year=2024", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Jiangsu" in page and "Anhui" not in page
    client.force_login(world.regulator.user)
    page = client.get("/dashboard/?year=2024", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Jiangsu" in page and "Anhui" in page


def test_a_provincial_regulator_writes_only_within_its_province(authorities: Authorities) -> None:
    world = authorities.world
    jiangsu = authorities.client("jiangsu")
    body = {"verification_body": organisation_of(world.verifier_b).pk}
    problem(
        jiangsu.patch(f"/api/v1/facilities/{authorities.facility_ah.pk}/", body, format="json"),
        404,
        "not_found",
    )
    assert jiangsu.patch(f"/api/v1/facilities/{world.facility_a.pk}/", body, format="json").status_code == 200
    moved = jiangsu.patch(f"/api/v1/facilities/{world.facility_a.pk}/", {"province": "CN-AH"}, format="json")
    assert problem(moved, 400, "invalid_request")["errors"][0]["pointer"] == "/province"
    created = jiangsu.post(
        "/api/v1/facilities/",
        {
            "name": "Kiln",
            "operator": organisation_of(world.operator_b).pk,
            "sector": "cement",
            "province": "CN-AH",
        },
        format="json",
    )
    assert problem(created, 400, "invalid_request")["errors"][0]["code"] == "outside_jurisdiction"

    report = report_create(
        by=world.operator_a.user,
        facility=authorities.facility_ah,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    job = report_submit(by=world.operator_a.user, report=report).verification_jobs.get()
    checks_run(job_id=job.pk)
    job_claim(job=job, by=world.verifier_a.user)
    problem(jiangsu.post(f"/api/v1/verification-jobs/{job.pk}/release/", {}, format="json"), 404, "not_found")
    assert (
        authorities.client("regulator").post(f"/api/v1/verification-jobs/{job.pk}/release/", {}).status_code
        == 200
    )


def test_create_api_user_makes_a_provincial_authority(world: World, capsys: Any) -> None:
    call_command(
        "create_api_user", "su", "--role", "regulator", "--organisation", "Su EEB", "--province", "CN-JS"
    )
    call_command(
        "create_api_user", "wan", "--role", "regulator", "--organisation", "Wan EEB", "--province", "CN-AH",
        "--province", "CN-JS",
    )  # fmt: skip
    assert Organisation.objects.get(name="Su EEB").provinces == ["CN-JS"]
    assert Organisation.objects.get(name="Wan EEB").provinces == ["CN-AH", "CN-JS"]
    token = capsys.readouterr().out.strip().splitlines()[-1]
    seen = factories.client_for(ApiUser(user=None, token=token)).get("/api/v1/facilities/").json()["results"]  # type: ignore[arg-type]
    assert {row["province"] for row in seen} == {"CN-JS"}  # the world has CN-JS and CN-NM facilities


def test_a_national_regulator_sets_a_jurisdiction_a_provincial_one_may_not(authorities: Authorities) -> None:
    authority = Organisation.objects.get(name="Jiangsu EEB")
    url = f"/api/v1/organisations/{authority.pk}/jurisdiction/"
    problem(
        authorities.client("jiangsu").put(url, {"provinces": []}, format="json"), 403, "permission_denied"
    )
    answer = authorities.client("regulator").put(url, {"provinces": ["CN-JS", "CN-AH"]}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "id": authority.pk,
        "name": "Jiangsu EEB",
        "provinces": ["CN-AH", "CN-JS"],
        "national": False,
    }
    # Effective on the next request: Jiangsu now sees the Anhui facility.
    assert (
        authorities.client("jiangsu").get(f"/api/v1/facilities/{authorities.facility_ah.pk}/").status_code
        == 200
    )
    assert AuditEvent.objects.filter(action="organisation.jurisdiction", object_id=str(authority.pk)).exists()


# -- 2. several memberships ----------------------------------------------------------------------------------
def test_a_user_with_two_memberships_acts_for_each_in_turn_and_sees_only_its_data(world: World) -> None:
    """operator_a's user also joins operator B: each request acts for one organisation only."""
    user = world.operator_a.user
    first = Membership.objects.get(user=user)
    second = membership_create(
        by=None, user=user, organisation=organisation_of(world.operator_b), role="operator"
    )
    # The token of the single-membership days stays bound to the first membership: no header needed.
    bound = world.client("operator_a")
    assert [f["id"] for f in bound.get("/api/v1/facilities/").json()["results"]] == [world.facility_a.pk]
    problem(bound.get("/api/v1/facilities/", HTTP_MRV_MEMBERSHIP=str(second.pk)), 404, "membership_not_found")

    unbound = client_for(ApiUser(user=user, token=token_issue(user=user).key))
    assert ApiToken.objects.filter(user=user, membership__isnull=True).count() == 1
    missing = problem(unbound.get("/api/v1/facilities/"), 400, "membership_required")
    assert "MRV-Membership" in missing["detail"]
    listed = unbound.get("/api/v1/auth/memberships/").json()
    assert [(m["id"], m["acting"]) for m in listed] == [(first.pk, False), (second.pk, False)]

    as_a = unbound.get("/api/v1/facilities/", HTTP_MRV_MEMBERSHIP=str(first.pk)).json()["results"]
    as_b = unbound.get("/api/v1/facilities/", HTTP_MRV_MEMBERSHIP=str(second.pk)).json()["results"]
    assert [f["id"] for f in as_a] == [world.facility_a.pk]
    assert [f["id"] for f in as_b] == [world.facility_b.pk]
    # A draft made for B is B's: not found when acting for A in the next call.
    created = unbound.post(
        "/api/v1/reports/", report_body(world.facility_b), format="json", HTTP_MRV_MEMBERSHIP=str(second.pk)
    )
    assert created.status_code == 201, created.content
    report = created.json()["id"]
    problem(unbound.get(f"/api/v1/reports/{report}/", HTTP_MRV_MEMBERSHIP=str(first.pk)), 404, "not_found")
    assert unbound.get(f"/api/v1/reports/{report}/", HTTP_MRV_MEMBERSHIP=str(second.pk)).status_code == 200
    events = unbound.get("/api/v1/audit-events/?page_size=500", HTTP_MRV_MEMBERSHIP=str(first.pk)).json()
    assert all(row.get("facility") != world.facility_b.pk for row in events["results"])

    problem(unbound.get("/api/v1/facilities/", HTTP_MRV_MEMBERSHIP="first"), 404, "membership_not_found")
    other = Membership.objects.get(user=world.operator_b.user)
    problem(
        unbound.get("/api/v1/facilities/", HTTP_MRV_MEMBERSHIP=str(other.pk)), 404, "membership_not_found"
    )
    # A token created while acting for B is bound to B.
    made = unbound.post(
        "/api/v1/auth/tokens/", {"name": "for B"}, format="json", HTTP_MRV_MEMBERSHIP=str(second.pk)
    )
    assert made.json()["membership"] == second.pk
    for_b = client_for(ApiUser(user=user, token=made.json()["token"]))
    assert [f["id"] for f in for_b.get("/api/v1/facilities/").json()["results"]] == [world.facility_b.pk]


def test_a_preparer_drafts_a_monitoring_plan_and_only_a_submitter_submits_it(world: World) -> None:
    user, token = user_create_with_token(
        username="plan-clerk",
        role="operator",
        organisation_name=organisation_of(world.operator_a).name,
        capability="preparer",
    )
    clerk = client_for(ApiUser(user=user, token=token.key))
    body = {
        "facility": world.facility_a.pk,
        "valid_from": "2024-01-01",
        "methodology": "cn-mee-2024",
        "sources": [
            {
                "ref": "grid",
                "source": "electricity",
                "parameters": {
                    "quantity": {"determination": "measured", "method": "meter", "frequency": "monthly"}
                },
            }
        ],
        "quality_assurance": "monthly meter reading",
    }
    created = clerk.post("/api/v1/monitoring-plans/", body, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/monitoring-plans/{created.json()['id']}/submit/"
    refused = problem(clerk.post(url), 403, "permission_denied")
    assert "a submitter of the organisation must submit this monitoring plan" in refused["detail"]
    assert world.client("operator_a").post(url).status_code == 200  # the organisation's submitter


def test_a_membership_outside_its_validity_acts_for_nobody(world: World) -> None:
    membership = Membership.objects.get(user=world.operator_a.user)
    membership.valid_until = timezone.now() - timedelta(days=1)
    membership.save()
    problem(world.client("operator_a").get("/api/v1/facilities/"), 403, "permission_denied")


def test_a_membership_narrowed_to_some_facilities_sees_only_those(world: World) -> None:
    second = facility_create(
        by=world.regulator.user,
        name="Second kiln",
        operator=organisation_of(world.operator_a),
        sector="cement",
        province="CN-JS",
    )
    user, token = user_create_with_token(
        username="kiln-clerk",
        role="operator",
        organisation_name=organisation_of(world.operator_a).name,
        facilities=[second],
        capability="preparer",
    )
    clerk = client_for(ApiUser(user=user, token=token.key))
    assert [f["id"] for f in clerk.get("/api/v1/facilities/").json()["results"]] == [second.pk]
    problem(clerk.get(f"/api/v1/facilities/{world.facility_a.pk}/"), 404, "not_found")


# -- 3. consultants ------------------------------------------------------------------------------------------
@dataclass
class Consultancy:
    world: World
    other_facility: Any
    preparer: Any
    submitter: Any
    consultant: Organisation


@pytest.fixture
def consultancy(world: World) -> Consultancy:
    other = facility_create(
        by=world.regulator.user,
        name="Operator A's other plant",
        operator=organisation_of(world.operator_a),
        sector="cement",
        province="CN-JS",
    )
    preparer, preparer_token = user_create_with_token(
        username="consultant-preparer",
        role="operator",
        organisation_name="Carbon Advisers",
        consultant=True,
        capability="preparer",
    )
    submitter, submitter_token = user_create_with_token(
        username="consultant-submitter", role="operator", organisation_name="Carbon Advisers", consultant=True
    )
    return Consultancy(
        world=world,
        other_facility=other,
        preparer=client_for(ApiUser(user=preparer, token=preparer_token.key)),
        submitter=client_for(ApiUser(user=submitter, token=submitter_token.key)),
        consultant=Organisation.objects.get(name="Carbon Advisers"),
    )


def test_a_consultant_granted_one_facility_prepares_there_and_finds_nothing_else(
    consultancy: Consultancy,
) -> None:
    world, preparer = consultancy.world, consultancy.preparer
    url = f"/api/v1/facilities/{world.facility_a.pk}/grants/"
    assert consultancy.consultant.kind == "consultant"
    problem(preparer.get(f"/api/v1/facilities/{world.facility_a.pk}/"), 404, "not_found")  # before the grant

    granted = world.client("operator_a").post(url, {"grantee": consultancy.consultant.pk}, format="json")
    assert granted.status_code == 201, granted.content
    assert granted.json()["active"] is True and granted.json()["grantee_name"] == "Carbon Advisers"
    assert [g["id"] for g in world.client("operator_a").get(url).json()] == [granted.json()["id"]]

    assert [f["id"] for f in preparer.get("/api/v1/facilities/").json()["results"]] == [world.facility_a.pk]
    created = preparer.post("/api/v1/reports/", report_body(world.facility_a), format="json")
    assert created.status_code == 201, created.content
    report = created.json()["id"]
    refused = problem(
        preparer.post(f"/api/v1/reports/{report}/submit/", CERTIFY, format="json"), 403, "permission_denied"
    )
    assert "submitter" in refused["detail"]
    statement = preparer.get(f"/api/v1/reports/{report}/submit/").json()
    assert statement == {"statement": STATEMENT, "may_submit": False, "capability": "preparer"}

    for url_elsewhere in (
        f"/api/v1/facilities/{consultancy.other_facility.pk}/",
        f"/api/v1/facilities/{world.facility_b.pk}/",
    ):
        problem(preparer.get(url_elsewhere), 404, "not_found")
    elsewhere = preparer.post("/api/v1/reports/", report_body(consultancy.other_facility), format="json")
    assert problem(elsewhere, 400, "invalid_request")["errors"][0]["pointer"] == "/facility"
    # A consultant grants nothing itself.
    problem(
        preparer.post(url, {"grantee": consultancy.consultant.pk}, format="json"), 403, "permission_denied"
    )


def test_revoking_a_grant_ends_the_consultants_access_at_once_with_the_same_token(
    consultancy: Consultancy,
) -> None:
    world, preparer = consultancy.world, consultancy.preparer
    operator = world.client("operator_a")
    url = f"/api/v1/facilities/{world.facility_a.pk}/grants/"
    grant = operator.post(url, {"grantee": consultancy.consultant.pk}, format="json").json()
    report = preparer.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    assert preparer.get(f"/api/v1/reports/{report}/").status_code == 200

    revoked = operator.delete(f"{url}{grant['id']}/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    problem(preparer.get(f"/api/v1/facilities/{world.facility_a.pk}/"), 404, "not_found")
    problem(preparer.get(f"/api/v1/reports/{report}/"), 404, "not_found")
    assert preparer.get("/api/v1/facilities/").json()["results"] == []
    problem(operator.delete(f"{url}{grant['id']}/"), 409, "conflict")
    actions = list(
        AuditEvent.objects.filter(object_type="facility_grant", object_id=str(grant["id"]))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["grant.create", "grant.revoke"]
    assert FacilityGrant.objects.get(pk=grant["id"]).revoked_by == world.operator_a.user


def test_a_grant_goes_to_a_consultant_only(consultancy: Consultancy) -> None:
    world = consultancy.world
    url = f"/api/v1/facilities/{world.facility_a.pk}/grants/"
    refused = world.client("operator_a").post(
        url, {"grantee": organisation_of(world.operator_b).pk}, format="json"
    )
    assert problem(refused, 400, "invalid_input")["errors"][0]["pointer"] == "/grantee"
    problem(
        world.client("operator_b").post(url, {"grantee": consultancy.consultant.pk}, format="json"),
        404,
        "not_found",
    )


# -- 4. sign-off ---------------------------------------------------------------------------------------------
def test_a_submitter_certifies_and_the_digest_covers_the_certification(consultancy: Consultancy) -> None:
    world = consultancy.world
    url = f"/api/v1/facilities/{world.facility_a.pk}/grants/"
    world.client("operator_a").post(url, {"grantee": consultancy.consultant.pk}, format="json")
    body = report_body(world.facility_a)
    report = consultancy.preparer.post("/api/v1/reports/", body, format="json").json()["id"]
    submitter = consultancy.submitter

    uncertified = problem(
        submitter.post(f"/api/v1/reports/{report}/submit/", {}, format="json"), 400, "invalid_request"
    )
    assert uncertified["errors"][0]["pointer"] == "/certify"
    wrong = submitter.post(f"/api/v1/reports/{report}/submit/", {"statement": "I agree"}, format="json")
    problem(wrong, 400, "invalid_request")
    submitted = submitter.post(f"/api/v1/reports/{report}/submit/", {"statement": STATEMENT}, format="json")
    assert submitted.status_code == 202, submitted.content

    signed = Certification.objects.get(revision__report_id=report)
    assert (signed.statement, signed.name, signed.organisation, signed.capability) == (
        STATEMENT,
        "consultant-submitter",
        consultancy.consultant,
        "submitter",
    )
    detail = submitter.get(f"/api/v1/reports/{report}/").json()
    assert detail["certification"]["name"] == "consultant-submitter"
    assert detail["certification"]["statement"] == STATEMENT
    # The digest, by hand: canonical JSON (sorted keys, no spaces) of the inputs and the certification.
    inputs = {
        "facility": world.facility_a.pk,
        "year": 2024,
        "month": None,
        "methodology": detail["methodology"],
        "methodology_version": detail["methodology_version"],
        "lines": body["lines"],
        "certification": {
            "statement": STATEMENT,
            "name": "consultant-submitter",
            "organisation": consultancy.consultant.pk,
            "at": signed.at.isoformat(),
        },
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert detail["digest"] == hashlib.sha256(canonical).hexdigest()
    event = AuditEvent.objects.get(action="revision.submit", object_id=str(report))
    assert event.data["certification"]["name"] == "consultant-submitter"
    assert event.after_digest == detail["digest"]


def test_a_revision_submitted_without_certification_keeps_its_old_digest(world: World) -> None:
    """The services' submit without a sign-off (as before issue 16): the digest of the inputs alone."""
    body = report_body(world.facility_a)
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=body["lines"],
    ).report
    revision = report_submit(by=world.operator_a.user, report=report)
    inputs = {
        "facility": world.facility_a.pk,
        "year": 2024,
        "month": None,
        "methodology": revision.methodology,
        "methodology_version": revision.methodology_version,
        "lines": body["lines"],
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert revision.digest == hashlib.sha256(canonical).hexdigest()
    assert not Certification.objects.filter(revision=revision).exists()


# -- query counts: jurisdiction and grants add no query per row -----------------------------------------------
@pytest.mark.parametrize("path", ["facilities", "reports", "verification-jobs", "audit-events"])
def test_a_provincial_regulators_lists_make_as_many_queries_for_one_row_as_for_many(
    authorities: Authorities, django_assert_num_queries: Any, path: str
) -> None:
    world = authorities.world
    verified_report(world, world.facility_a, year=2020)

    def grow() -> None:
        for number in range(1, 4):
            facility = facility_create(
                by=world.regulator.user,
                name=f"Jiangsu kiln {number}",
                operator=organisation_of(world.operator_a),
                sector="cement",
                province="CN-JS",
                verification_body=organisation_of(world.verifier_a),
            )
            verified_report(world, facility, year=2020)
            verified_report(world, authorities.facility_ah, year=2020 + number)  # outside: not listed

    if path == "audit-events":
        url = "/api/v1/audit-events/?action=revision.submit&page_size="
    else:
        url = f"/api/v1/{path}/?page_size="
    assert_same_count(
        django_assert_num_queries,
        authorities.client("jiangsu"),
        one=url + "1",
        many=url + "4",
        listed=results,
        grow=grow,
    )


def test_a_consultants_facility_list_makes_as_many_queries_for_one_row_as_for_many(
    consultancy: Consultancy, django_assert_num_queries: Any
) -> None:
    world = consultancy.world
    operator = world.client("operator_a")
    grants = f"/api/v1/facilities/{world.facility_a.pk}/grants/"
    operator.post(grants, {"grantee": consultancy.consultant.pk}, format="json")

    def grow() -> None:
        for number in range(3):
            facility = facility_create(
                by=world.regulator.user,
                name=f"Granted kiln {number}",
                operator=organisation_of(world.operator_a),
                sector="cement",
                province="CN-JS",
            )
            operator.post(
                f"/api/v1/facilities/{facility.pk}/grants/",
                {"grantee": consultancy.consultant.pk},
                format="json",
            )

    assert_same_count(
        django_assert_num_queries,
        consultancy.preparer,
        one="/api/v1/facilities/?page_size=1",
        many="/api/v1/facilities/?page_size=4",
        listed=results,
        grow=grow,
    )


# -- 5. managing memberships ----------------------------------------------------------------------------------
def test_a_submitter_makes_a_colleague_a_preparer_and_the_next_request_follows(world: World) -> None:
    user, token = user_create_with_token(
        username="colleague", role="operator", organisation_name=organisation_of(world.operator_a).name
    )
    colleague = client_for(ApiUser(user=user, token=token.key))
    membership = Membership.objects.get(user=user)
    assert colleague.get("/api/v1/reports/0/submit/").status_code == 404  # (no report 0: scoped first)
    url = f"/api/v1/memberships/{membership.pk}/"
    problem(
        world.client("operator_b").patch(url, {"capability": "preparer"}, format="json"), 404, "not_found"
    )
    changed = world.client("operator_a").patch(url, {"capability": "preparer"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["capability"] == "preparer"
    report = colleague.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    problem(
        colleague.post(f"/api/v1/reports/{report}/submit/", CERTIFY, format="json"), 403, "permission_denied"
    )
    # The preparer manages nobody.
    problem(colleague.patch(url, {"capability": "submitter"}, format="json"), 404, "not_found")
    event = AuditEvent.objects.get(action="membership.update", object_id=str(membership.pk))
    assert (event.data["before"]["capability"], event.data["after"]["capability"]) == (
        "submitter",
        "preparer",
    )

    ended = world.client("operator_a").delete(url)
    assert ended.status_code == 204
    assert not ApiToken.objects.filter(user=user).exists()  # its bound token is revoked
    problem(colleague.get("/api/v1/facilities/"), 401, "authentication_failed")


def test_create_api_user_adds_a_consultant_preparer_and_a_second_membership(
    world: World, capsys: Any
) -> None:
    call_command(
        "create_api_user", "adviser", "--role", "operator", "--organisation", "Green Advisers", "--consultant",
        "--capability", "preparer",
    )  # fmt: skip
    membership = Membership.objects.get(user__username="adviser")
    assert (membership.organisation.kind, membership.capability) == ("consultant", "preparer")
    call_command(
        "create_api_user", "adviser", "--role", "operator", "--organisation", organisation_of(world.operator_a).name,
        "--facility", str(world.facility_a.pk),
    )  # fmt: skip
    second = Membership.objects.get(user__username="adviser", organisation=organisation_of(world.operator_a))
    assert [f.pk for f in second.facilities.all()] == [world.facility_a.pk]
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiToken.objects.get(digest=hash_token(token)).membership == second
    seen = client_for(ApiUser(user=second.user, token=token)).get("/api/v1/facilities/").json()["results"]
    assert [f["id"] for f in seen] == [world.facility_a.pk]


def test_the_admin_changes_a_membership_and_a_jurisdiction_through_the_audited_services(
    world: World, client: Any
) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", password="a long admin password 1")
    client.force_login(admin)
    membership = Membership.objects.get(user=world.operator_a.user)
    page = client.post(
        f"/admin/mrv/membership/{membership.pk}/change/",
        {
            "capability": "preparer",
            "facilities": [str(world.facility_a.pk)],
            "valid_from_0": "",
            "valid_from_1": "",
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    membership.refresh_from_db()
    assert membership.capability == "preparer"
    assert [f.pk for f in membership.facilities.all()] == [world.facility_a.pk]
    assert AuditEvent.objects.filter(action="membership.update", actor=admin).exists()

    authority = organisation_of(world.regulator)
    page = client.post(f"/admin/mrv/organisation/{authority.pk}/change/", {"provinces": ["CN-JS", "CN-AH"]})
    assert page.status_code == 302, page.content.decode()[:2000]
    authority.refresh_from_db()
    assert authority.provinces == ["CN-AH", "CN-JS"]
    assert AuditEvent.objects.filter(action="organisation.jurisdiction", actor=admin).exists()
