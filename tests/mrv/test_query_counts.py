"""Every list endpoint answers in a number of queries that does not grow with what it lists.

Each test asks for one item and then for several (a larger page, or an object with more rows under
it) and holds the second request to the first one's query count with pytest-django's
``django_assert_num_queries``: an N+1 (a query per listed row) makes the counts differ. The first
request of each pair is made twice and only the second is counted, so per-process caches filled by a
first request do not count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mrv.models import Membership, Report, VerificationJob
from mrv.services.facilities import facility_create
from mrv.services.reports import report_create, report_revise, report_submit
from mrv.services.verification import checks_run, finding_add, job_claim, opinion_issue
from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db

#: How many items the larger request lists.
MANY = 4


def queries_of(client: Any, url: str) -> tuple[int, Any]:
    """The number of queries a GET makes (after a first, uncounted one) and its JSON body."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def assert_same_count(
    django_assert_num_queries: Any,
    client: Any,
    *,
    one: str,
    many: str,
    listed: Callable[[Any], int],
    grow: Callable[[], None] = lambda: None,
) -> None:
    """GET ``one`` lists one item; after ``grow()``, GET ``many`` lists MANY in as many queries."""
    count, body = queries_of(client, one)
    assert listed(body) == 1, body
    grow()
    with django_assert_num_queries(count):
        response = client.get(many)
    assert response.status_code == 200, response.content
    assert listed(response.json()) == MANY, response.json()


def results(body: Any) -> int:
    return len(body["results"])


# -- the world's objects ---------------------------------------------------------------------------------
def organisation_of(api_user: factories.ApiUser) -> Any:
    return Membership.objects.get(user=api_user.user).organisation


def cement_facility(world: World, name: str) -> Any:
    return facility_create(
        by=world.regulator.user,
        name=f"Cement plant {name}",
        operator=organisation_of(world.operator_a),
        sector="cement",
        province="CN-JS",
        verification_body=organisation_of(world.verifier_a),
    )


def draft(world: World, facility: Any, lines: list[dict[str, Any]] | None = None) -> Report:
    return report_create(
        by=world.operator_a.user,
        facility=facility,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement() if lines is None else lines,
    ).report


def in_review(world: World, report: Report) -> VerificationJob:
    """Submit the report's draft, run its checks and claim its job as verifier_a."""
    revision = report_submit(by=world.operator_a.user, report=report)
    job = revision.verification_jobs.get(kind=VerificationJob.Kind.VERIFICATION)
    checks_run(job_id=job.pk)
    return job_claim(job=job, by=world.verifier_a.user)


def settle(world: World, report: Report, opinion: str) -> None:
    job = in_review(world, report)
    opinion_issue(job=job, by=world.verifier_a.user, opinion=opinion, statement="settled for the test")


def reports_in_every_state(world: World, count: int, start: int = 0) -> None:
    """``count`` reports of new facilities: drafts, submitted ones and ones in review, in turn."""
    for number in range(start, start + count):
        report = draft(world, cement_facility(world, f"R{number}"))
        if number % 3 == 1:
            report_submit(by=world.operator_a.user, report=report)
        elif number % 3 == 2:
            in_review(world, report)


# -- paginated lists: a page of one and a page of MANY ------------------------------------------------------
def test_organisations(world: World, django_assert_num_queries: Any) -> None:
    for _ in range(MANY):
        factories.organisation()
    url = "/api/v1/organisations/?page_size="
    assert_same_count(
        django_assert_num_queries,
        world.client("regulator"),
        one=url + "1",
        many=url + str(MANY),
        listed=results,
    )


def test_facilities(world: World, django_assert_num_queries: Any) -> None:
    for number in range(MANY):
        cement_facility(world, str(number))
    url = "/api/v1/facilities/?page_size="
    assert_same_count(
        django_assert_num_queries,
        world.client("regulator"),
        one=url + "1",
        many=url + str(MANY),
        listed=results,
    )


@pytest.mark.parametrize("viewer", ["operator_a", "verifier_a", "regulator"])
def test_reports(world: World, django_assert_num_queries: Any, viewer: str) -> None:
    # A verifier sees no drafts: give every viewer MANY reports it can see, in several states.
    reports_in_every_state(world, 3 * MANY)
    url = "/api/v1/reports/?page_size="
    assert_same_count(
        django_assert_num_queries, world.client(viewer), one=url + "1", many=url + str(MANY), listed=results
    )


@pytest.mark.parametrize("viewer", ["verifier_a", "operator_a", "regulator"])
def test_verification_jobs(world: World, django_assert_num_queries: Any, viewer: str) -> None:
    for number in range(MANY):
        report = draft(world, cement_facility(world, str(number)))
        if number % 2:
            report_submit(by=world.operator_a.user, report=report)
        else:
            in_review(world, report)
    url = "/api/v1/verification-jobs/?page_size="
    assert_same_count(
        django_assert_num_queries, world.client(viewer), one=url + "1", many=url + str(MANY), listed=results
    )


def test_audit_events(world: World, django_assert_num_queries: Any) -> None:
    reports_in_every_state(world, 2)  # events of several kinds, on facilities, reports and jobs
    url = "/api/v1/audit-events/?page_size="
    for viewer in ("regulator", "operator_a"):
        assert_same_count(
            django_assert_num_queries,
            world.client(viewer),
            one=url + "1",
            many=url + str(MANY),
            listed=results,
        )


# -- lists under one object: one row and MANY rows ------------------------------------------------------------
def test_revisions_of_a_report(world: World, django_assert_num_queries: Any) -> None:
    report = draft(world, world.facility_a)
    url = f"/api/v1/reports/{report.pk}/revisions/"

    def more_revisions() -> None:
        for _ in range(MANY - 1):  # returned by the verifier, then revised: one more revision each time
            settle(world, report, opinion="not_verified")
            report_revise(by=world.operator_a.user, report=report)

    assert_same_count(
        django_assert_num_queries,
        world.client("operator_a"),
        one=url,
        many=url,
        listed=results,
        grow=more_revisions,
    )


def test_lines_of_a_report(world: World, django_assert_num_queries: Any) -> None:
    cement = plausible_cement()
    assert len(cement) >= MANY
    one = draft(world, world.facility_a, lines=cement[:1])
    many = draft(world, cement_facility(world, "lines"), lines=cement[:MANY])
    assert_same_count(
        django_assert_num_queries,
        world.client("operator_a"),
        one=f"/api/v1/reports/{one.pk}/",
        many=f"/api/v1/reports/{many.pk}/",
        listed=lambda body: len(body["lines"]),
    )


def test_findings_of_a_job(world: World, django_assert_num_queries: Any) -> None:
    job = in_review(world, draft(world, world.facility_a))
    assert not job.findings.exists(), "the plausible report raises no automated finding"
    by = world.verifier_a.user

    def add(number: int) -> None:
        finding_add(job=job, by=by, code=f"site_visit_{number}", severity="info", detail="noted on site")

    add(0)
    assert_same_count(
        django_assert_num_queries,
        world.client("verifier_a"),
        one=f"/api/v1/verification-jobs/{job.pk}/",
        many=f"/api/v1/verification-jobs/{job.pk}/",
        listed=lambda body: len(body["findings"]),
        grow=lambda: [add(number) for number in range(1, MANY)] and None,
    )


def test_aggregates_and_facility_comparison(world: World, django_assert_num_queries: Any) -> None:
    settle(world, draft(world, world.facility_a), opinion="verified")

    def more_verified() -> None:
        for number in range(1, MANY):
            settle(world, draft(world, cement_facility(world, str(number))), opinion="verified")

    aggregates = "/api/v1/aggregates/?group_by=facility"
    regulator = world.client("regulator")
    count, body = queries_of(regulator, aggregates)
    assert len(body["results"]) == 1, body
    comparison_count, body = queries_of(regulator, "/api/v1/aggregates/comparison/?year=2024")
    assert len(body["results"]) == 1, body
    more_verified()
    with django_assert_num_queries(count):
        body = regulator.get(aggregates).json()
    assert len(body["results"]) == MANY, body
    with django_assert_num_queries(comparison_count):
        body = regulator.get("/api/v1/aggregates/comparison/?year=2024").json()
    assert len(body["results"]) == MANY, body


def test_deposit_compliance(world: World, django_assert_num_queries: Any) -> None:
    """The deposits aggregate reads facilities, deposits and reviews in a fixed number of queries."""

    def deposit(facility: Any, month: int) -> None:
        report = report_create(
            by=world.operator_a.user,
            facility=facility,
            year=2024,
            month=month,
            methodology=None,
            lines=plausible_cement(),
        ).report
        report_submit(by=world.operator_a.user, report=report)

    deposit(world.facility_a, 1)
    url = "/api/v1/aggregates/deposits/?year=2024&group_by=facility"
    regulator = world.client("regulator")
    count, body = queries_of(regulator, url)
    assert len(body["results"]) == 2, body  # facilities A and B
    for number in range(1, MANY):
        facility = cement_facility(world, f"D{number}")
        deposit(facility, 1)
        deposit(facility, 2)
    with django_assert_num_queries(count):
        body = regulator.get(url).json()
    assert len(body["results"]) == 2 + MANY - 1, body
