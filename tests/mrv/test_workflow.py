"""The revision workflow table (mrv/domain/workflow.py): the services refuse every move it does not list
with a 409 saying what is allowed, before the database; the trigger still refuses a direct UPDATE."""

from __future__ import annotations

import importlib
import itertools
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from mrv.domain import workflow
from mrv.errors import Conflict
from mrv.models import ReportRevision, VerificationJob
from mrv.services.reports import report_create, report_submit, revision_transition
from mrv.services.verification import checks_run, job_claim, opinion_issue
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

TRIGGER_MOVES = set(importlib.import_module("mrv.migrations.0003_immutability_triggers").TRANSITIONS)
LEGAL = {(m.source, m.target) for m in workflow.MOVES}
ILLEGAL = [
    (a, b) for a, b in itertools.permutations(workflow.STATUSES, 2) if (a, b) not in LEGAL
]  # fmt: skip


# -- the table ------------------------------------------------------------------------------------------------
def test_the_table_speaks_of_the_models_statuses_only() -> None:
    assert tuple(ReportRevision.Status.values) == workflow.STATUSES
    for m in workflow.MOVES:
        assert {m.source, m.target} <= set(workflow.STATUSES), m
    for sources in workflow.STAYS.values():
        assert set(sources) <= set(workflow.STATUSES)


def test_the_trigger_allows_every_move_of_the_table() -> None:
    """The backstop never refuses what the services allow (it checks moves out of submitted statuses)."""
    assert {(a, b) for a, b in LEGAL if a != workflow.DRAFT} <= TRIGGER_MOVES


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_the_table_refuses_a_move_it_does_not_list_and_says_what_is_allowed(source: str, target: str) -> None:
    with pytest.raises(workflow.IllegalMove) as refused:
        workflow.move(source, target)
    assert refused.value.allowed == workflow.allowed(source)
    assert f"a {source} revision cannot become {target}; it allows " in refused.value.detail


def test_what_each_status_allows() -> None:
    assert workflow.allowed("draft") == ["submit → submitted", "edit", "delete"]
    assert workflow.allowed("submitted") == [
        "start_checks → checks_running",
        "finish_checks → in_verification",
    ]
    assert workflow.allowed("in_verification") == [
        "verify → verified",
        "return → returned",
        "accept → verified",
    ]
    assert workflow.allowed("verified") == workflow.allowed("returned") == ["revise"]


# -- the services: 409 before the database -----------------------------------------------------------------------
def revision_in(world: World, status: str) -> ReportRevision:
    """A revision of facility_a brought to ``status`` along the real workflow."""
    operator, verifier = world.operator_a.user, world.verifier_a.user
    report = report_create(
        by=operator,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    revision = report.revisions.get()
    if status == workflow.DRAFT:
        return revision
    report_submit(by=operator, report=report)
    job = VerificationJob.objects.get(revision=revision, kind=VerificationJob.Kind.VERIFICATION)
    if status == workflow.CHECKS_RUNNING:
        revision_transition(revision=revision, status=status)
    elif status != workflow.SUBMITTED:
        checks_run(job_id=job.pk)
    if status in (workflow.VERIFIED, workflow.RETURNED):
        job = job_claim(job=job, by=verifier)
        opinion = "verified" if status == workflow.VERIFIED else "not_verified"
        opinion_issue(job=job, by=verifier, opinion=opinion, statement="for the test")
    revision.refresh_from_db()
    assert revision.status == status
    return revision


def revision_updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "mrv_reportrevision"')]


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_the_service_refuses_each_illegal_move_with_a_409_before_the_trigger(
    world: World, source: str, target: str
) -> None:
    revision = revision_in(world, source)
    with CaptureQueriesContext(connection) as queries, pytest.raises(Conflict) as refused:
        revision_transition(revision=revision, status=target, by=world.regulator.user)
    assert refused.value.status == 409
    detail = refused.value.detail
    assert detail.startswith(f"revision 1 is {source}: a {source} revision cannot become {target}"), detail
    for option in workflow.allowed(source):
        assert option in detail, (option, detail)
    assert revision_updates(queries) == [], "refused before any UPDATE reached the trigger"
    revision.refresh_from_db()
    assert revision.status == source


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "method", "path", "refused"),
    [
        ("submitted", "post", "submit/", "cannot submit (that needs a draft revision)"),
        ("checks_running", "patch", "", "cannot edit (that needs a draft revision)"),
        ("in_verification", "delete", "", "cannot delete (that needs a draft revision)"),
        ("verified", "post", "submit/", "cannot submit (that needs a draft revision)"),
        ("draft", "post", "revise/", "cannot revise (that needs a returned or verified revision)"),
        ("in_verification", "post", "revise/", "cannot revise (that needs a returned or verified revision)"),
    ],
)
def test_an_illegal_action_through_the_api_is_a_409_problem_saying_what_is_allowed(
    world: World, status: str, method: str, path: str, refused: str
) -> None:
    revision = revision_in(world, status)
    client = world.client("operator_a")
    url = f"/api/v1/reports/{revision.report_id}/{path}"
    body: dict[str, Any] = {"lines": plausible_cement()} if method == "patch" else {}
    if path == "submit/":
        body = {"certify": True}  # a submitter's sign-off: the refusal is the state's
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == 409, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "conflict" and problem["status"] == 409
    assert problem["detail"].startswith(f"revision 1 is {status}: a {status} revision {refused}; it allows ")
    for option in workflow.allowed(status):
        assert option in problem["detail"], (option, problem["detail"])
    revision.refresh_from_db()
    assert revision.status == status


# -- the backstop -----------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target"), [(a, b) for a, b in ILLEGAL if a != workflow.DRAFT and (a, b) not in TRIGGER_MOVES]
)
def test_the_trigger_still_refuses_a_direct_update(world: World, source: str, target: str) -> None:
    revision = revision_in(world, source)
    with pytest.raises(DatabaseError, match="cannot become"), transaction.atomic():
        ReportRevision.objects.filter(pk=revision.pk).update(status=target)
    revision.refresh_from_db()
    assert revision.status == source
