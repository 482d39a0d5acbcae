"""Guarantees that hold in PostgreSQL itself: frozen revisions, concurrency, a tamper-evident audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from mrv.models import ActivityLine, AuditEvent, Report, ReportRevision
from tests.mrv.concurrency import run_in_parallel
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

pytestmark = pytest.mark.postgres


def _submitted(world: World) -> dict[str, Any]:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()
    assert (
        client.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    return report


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE mrv_reportrevision SET totals = '{}' WHERE status = 'submitted'",
        "UPDATE mrv_reportrevision SET digest = 'x' WHERE status = 'submitted'",
        "UPDATE mrv_reportrevision SET status = 'draft' WHERE status = 'submitted'",
        "UPDATE mrv_reportrevision SET status = 'verified' WHERE status = 'submitted'",
        "DELETE FROM mrv_reportrevision WHERE status = 'submitted'",
        "UPDATE mrv_activityline SET co2e = 0",
        "DELETE FROM mrv_activityline",
        "UPDATE mrv_report SET year = 2020",
    ],
)
def test_raw_sql_cannot_change_a_submitted_revision(world: World, statement: str) -> None:
    _submitted(world)
    with (
        pytest.raises(DatabaseError, match=r"frozen|cannot be|cannot become"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


@pytest.mark.django_db
def test_orm_cannot_change_a_submitted_revision_or_add_lines(world: World) -> None:
    report = _submitted(world)
    revision = ReportRevision.objects.get(report_id=report["id"])
    with pytest.raises(DatabaseError), transaction.atomic():
        ReportRevision.objects.filter(pk=revision.pk).update(methodology="ipcc-2006")
    line = ActivityLine.objects.filter(revision=revision).first()
    assert line is not None
    line.pk, line.index = None, 999
    with pytest.raises(DatabaseError), transaction.atomic():
        line.save()


@pytest.mark.django_db
def test_workflow_transitions_stay_allowed(world: World) -> None:
    report = _submitted(world)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mrv_reportrevision SET status = 'in_verification' WHERE report_id = %s", [report["id"]]
        )
        cursor.execute(
            "UPDATE mrv_reportrevision SET status = 'verified' WHERE report_id = %s", [report["id"]]
        )
    assert ReportRevision.objects.get(report_id=report["id"]).status == "verified"


@pytest.mark.django_db(transaction=True)
def test_two_parallel_submits_produce_one_submitted_revision(tx_world: World) -> None:
    client = tx_world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(tx_world.facility_a), format="json").json()
    url = f"/api/v1/reports/{report['id']}/submit/"
    clients = [tx_world.client("operator_a"), tx_world.client("operator_a")]
    statuses = run_in_parallel(
        *(lambda c=c: c.post(url, {"certify": True}, format="json").status_code for c in clients)
    )
    assert sorted(statuses) == [202, 409]
    assert ReportRevision.objects.filter(report_id=report["id"], status="submitted").count() == 1
    assert AuditEvent.objects.filter(action="revision.submit").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_parallel_creates_with_one_idempotency_key_produce_one_report(tx_world: World) -> None:
    body = report_body(tx_world.facility_a)
    clients = [tx_world.client("operator_a"), tx_world.client("operator_a")]
    responses = run_in_parallel(
        *(
            lambda c=c: c.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            for c in clients
        )
    )
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert Report.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_parallel_creates_for_one_period_without_key_make_one_report(tx_world: World) -> None:
    body = report_body(tx_world.facility_a)
    clients = [tx_world.client("operator_a"), tx_world.client("operator_a")]
    statuses = run_in_parallel(
        *(lambda c=c: c.post("/api/v1/reports/", body, format="json").status_code for c in clients)
    )
    assert sorted(statuses) == [201, 409]
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_audit_events_are_append_only(world: World) -> None:
    _submitted(world)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(action="report.create").update(actor_name="someone else")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE mrv_auditevent SET data = '{\"revision\": 7}' WHERE action = 'report.create'",
        "UPDATE mrv_auditevent SET actor_name = 'mallory' WHERE action = 'revision.submit'",
        "DELETE FROM mrv_auditevent WHERE action = 'report.create'",
        "DELETE FROM mrv_auditevent WHERE sequence = (SELECT max(sequence) FROM mrv_auditevent)",
    ],
    ids=["edit-data", "edit-actor", "remove-middle", "remove-last"],
)
def test_tampering_with_a_stored_audit_event_is_detected(world: World, tamper: str) -> None:
    _submitted(world)
    call_command("verify_audit_chain")
    with connection.cursor() as cursor:
        # Someone with superuser access to the database turns the guard off to rewrite history.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(tamper)
        cursor.execute("SET session_replication_role = origin")
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("verify_audit_chain")


@pytest.mark.django_db(transaction=True)
def test_two_parallel_revises_open_one_draft_and_refuse_the_other(tx_world: World) -> None:
    from mrv.services.reports import revision_transition

    report = _submitted(tx_world)
    first = ReportRevision.objects.get(report_id=report["id"], number=1)
    revision_transition(revision=first, status="in_verification")
    revision_transition(revision=first, status="returned")
    url = f"/api/v1/reports/{report['id']}/revise/"
    clients = [tx_world.client("operator_a"), tx_world.client("operator_a")]
    responses = run_in_parallel(*(lambda c=c: c.post(url) for c in clients))
    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["code"] == "conflict" and "draft" in refused["detail"]
    assert list(ReportRevision.objects.filter(report_id=report["id"]).values_list("number", flat=True)) == [
        1,
        2,
    ]
